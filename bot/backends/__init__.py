"""Agent backends, chosen by the manifest's `backend.kind`."""

from __future__ import annotations

from bot.backends.base import Backend, BackendError
from bot.manifest import AgentSpec

__all__ = ["Backend", "BackendError", "backend_for"]


def backend_for(agent: AgentSpec) -> Backend:
    config = agent.backend
    if config.kind == "a2a":
        from bot.backends.a2a import A2ABackend

        return A2ABackend(config.url)
    raise ValueError(f"agent {agent.id!r}: unsupported backend kind {config.kind!r}")
