"""The one interface every agent backend implements.

The dispatcher only ever talks to agents through this protocol, so adding a backend
(OpenClaw, a CLI, plain HTTP) never touches the core.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Protocol

from bot.models import AgentEvent

MAX_RESULT_BYTES = 1_048_576
"""Default bytes of a result a backend reads and relays (the setting max_result_bytes); past
it only the head is relayed, with a note that it was cut."""


_ENDPOINT = re.compile(
    r"\b(?:https?|wss?)://[^\s'\"<>]+"
    r"|(?<=host )[^\s:]+:\d+"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"
    r"|\[[0-9A-Fa-f:.]+\](?::\d+)?"
)


def read_limit(max_result_bytes: int) -> int:
    """Bytes of one answer read before giving up on it: room for a result of
    `max_result_bytes` however its JSON escapes it (at most about 3×), plus the envelope."""
    return 4 * max_result_bytes + 64 * 1024


def without_endpoints(text: str) -> str:
    """`text` with URLs and host:port addresses replaced: error texts reach chat and model
    prompts, where an agent's address has no business (the log keeps it)."""
    return _ENDPOINT.sub("<endpoint>", text)


class BackendError(Exception):
    """The agent could not be reached or refused the call; the message is shown to users.

    `unreachable`: nothing answered at the agent's address (a refused connection, no route),
    so the roster marks it unavailable until it answers again. A call the agent answered and
    refused (a rejected token) is not that, whatever its words."""

    def __init__(self, message: str = "", *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class Backend(Protocol):
    def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
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

    def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        """Follow an already-running task until it is terminal or needs input."""
        ...

    async def cancel(self, remote_task_id: str) -> None:
        """Best effort; must not raise if the task already finished."""
        ...

    async def aclose(self) -> None: ...
