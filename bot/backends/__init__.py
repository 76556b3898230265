"""Agent backends, chosen by the manifest's `backend.kind`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.backends.base import MAX_RESULT_BYTES, Backend, BackendError

if TYPE_CHECKING:
    from bot.callbacks import CallbackServer
    from bot.manifest import AgentSpec

__all__ = ["Backend", "BackendContext", "BackendError", "backend_for"]


@dataclass(frozen=True)
class BackendContext:
    """What some backends need from the running service."""

    runs_dir: Path = Path("runs")
    """Where command-line agents keep their output, so a restart can read it."""
    callbacks: CallbackServer | None = None
    """The callback endpoint HTTP agents report to, and A2A agents push to."""
    device_key: Path | None = None
    """Where an OpenClaw device identity is kept (for gateways with `device: true`)."""
    max_result_bytes: int = MAX_RESULT_BYTES
    """Bytes of a result read and relayed; past them the head is relayed, marked as cut."""

    @property
    def work_root(self) -> Path:
        """Command agents without a `cwd` each work in a directory of their own under here:
        beside the database, never the directory that holds it and the keys."""
        return self.runs_dir.with_name(self.runs_dir.name.removesuffix("-runs") + "-agents")


def backend_for(agent: AgentSpec, context: BackendContext | None = None) -> Backend:
    context = context or BackendContext()
    config = agent.backend
    if config.kind == "a2a":
        from bot.backends.a2a import A2ABackend

        return A2ABackend(
            config.url,
            callbacks=context.callbacks,
            detach_after=config.detach_after,
            max_result_bytes=context.max_result_bytes,
        )
    if config.kind == "http":
        from bot.backends.http import HTTPBackend

        return HTTPBackend(
            config, callbacks=context.callbacks, max_result_bytes=context.max_result_bytes
        )
    if config.kind == "command":
        from bot.backends.command import CommandBackend

        return CommandBackend(
            config,
            runs_dir=context.runs_dir,
            workdir=context.work_root / agent.id,
            max_result_bytes=context.max_result_bytes,
        )
    if config.kind == "openclaw":
        from bot.backends.openclaw import DeviceIdentity, OpenClawBackend

        identity = None
        if config.device:
            identity = DeviceIdentity.load_or_create(
                context.device_key or context.runs_dir.parent / "openclaw-device.json"
            )
        return OpenClawBackend(
            config,
            session=agent.session,
            identity=identity,
            max_result_bytes=context.max_result_bytes,
        )
    raise ValueError(f"agent {agent.id!r}: unsupported backend kind {config.kind!r}")
