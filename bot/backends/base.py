"""The one interface every agent backend implements.

The dispatcher only ever talks to agents through this protocol, so adding a backend
(OpenClaw, a CLI, plain HTTP) never touches the core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from bot.models import AgentEvent


class BackendError(Exception):
    """The agent could not be reached or refused the call; the message is shown to users."""


class Backend(Protocol):
    def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """Send a brief (or an answer to an agent's question) and stream what happens.

        `context_id` selects the agent session: None starts a fresh one. `remote_task_id`
        continues a task that asked for input. The first event carries the remote task id
        and context id so the caller can persist them before anything else happens. The
        stream ends after a terminal or input_required event.
        """
        ...

    async def get(self, remote_task_id: str) -> AgentEvent:
        """The task's current state; used to reconcile after a restart."""
        ...

    def watch(self, remote_task_id: str) -> AsyncIterator[AgentEvent]:
        """Follow an already-running task until it is terminal or needs input."""
        ...

    async def cancel(self, remote_task_id: str) -> None:
        """Best effort; must not raise if the task already finished."""
        ...

    async def aclose(self) -> None: ...
