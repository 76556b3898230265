"""The core's ports: what the dispatcher needs from a chat platform, and what it offers one.

The core owns these so it imports no adapter. Inbound, an adapter turns platform payloads
into `bot.models.Request` and hands them to the core's `receive`. Outbound, the core asks it
to post, update or DM and gets a `MessageRef`. Raw platform payloads never leave the adapter.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from bot.models import Request
from bot.outbound import MessageRef, Outbound, StatusItem, Target

ActionKind = Literal["cancel_task", "cancel_request", "retry_task"]


class Action(BaseModel):
    """A button press on a status board, normalized like a message."""

    platform: str
    workspace: str = ""
    user: str
    kind: ActionKind
    target: str
    """The task id or request id the button was rendered for."""


class Core(Protocol):
    """What an adapter may ask of the dispatcher core, and nothing more."""

    async def receive(self, request: Request) -> object:
        """A normalized incoming message."""
        ...

    async def take_in(self, request: Request) -> object:
        """Start on a message and return once it is recorded (a crash after that loses
        nothing): a platform that redelivers until acknowledged is acknowledged then."""
        ...

    async def act(self, action: Action) -> str:
        """A button press; returns a short reply for the presser (an ephemeral on Slack)."""
        ...

    async def claim(self, key: str) -> bool:
        """Atomically mark a delivery as seen; False means it is a duplicate."""
        ...

    async def knows_thread(self, platform: str, workspace: str, channel: str, thread: str) -> bool:
        """Whether a thread holds a Dispatch request, so plain replies there are for us."""
        ...

    async def status_for(self, platform: str, user: str) -> tuple[str, list[StatusItem]]:
        """The user's own work in flight (for a private /status)."""
        ...

    async def roster(self, query: str | None = None) -> str:
        """The agents, or who fits `query`."""
        ...

    async def cancel_for(self, platform: str, user: str, target: str) -> str:
        """Cancel the user's own work named by `target` ('all', words, or an id)."""
        ...

    async def thread_for_reply(self, platform: str, channel: str, message_id: str) -> str | None:
        """The thread of a message Dispatch posted, for platforms where replies name a parent."""
        ...

    async def open_question_thread(self, platform: str, channel: str, user: str) -> str | None:
        """The latest thread in `channel` waiting on an answer from `user`."""
        ...


class DeliveryError(Exception):
    """A post or update failed. `retry_after` says when to try again; permanent ones never.

    `deferred` means nothing failed: the platform asks us to wait (our own pacing of a
    channel, or its rate limit). The courier tries again after `retry_after` without counting
    an attempt, so a deferral never grows the backoff and never gives a message up.
    `rate_limited`: the platform itself answered 429 (counted in the metrics), not our pacing.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        deferred: bool = False,
        rate_limited: bool = False,
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.deferred = deferred
        self.rate_limited = rate_limited


@runtime_checkable
class Adapter(Protocol):
    platform: str

    async def start(self, core: Core) -> None:
        """Connect and begin handing normalized requests (and button presses) to `core`."""
        ...

    async def stop(self) -> None: ...

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        """Post in the target's thread (or DM) and return a reference to the message."""
        ...

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        """Replace a message posted earlier; used for the live status board."""
        ...

    async def dm(self, user: str, message: Outbound) -> MessageRef:
        """Send a direct message to a user."""
        ...


@runtime_checkable
class UpdateBudget(Protocol):
    """Optional for adapters: how long until the platform takes another `update` (0: now).

    The courier asks before it renders a status board, so an exhausted budget costs nothing.
    """

    def update_wait(self) -> float: ...


@runtime_checkable
class Recall(Protocol):
    """An adapter that can find its own earlier posts of a delivery (by `Outbound.key`)."""

    async def posted_parts(self, target: Target, key: str) -> list[str]:
        """The ids of the parts of delivery `key` already in `target`'s conversation, in
        order (empty if none, or if the platform cannot say)."""
        ...


@runtime_checkable
class SingleConnection(Protocol):
    """Optional for adapters whose platform takes one connection for the whole bot (Discord's
    gateway). With replicas sharing a database, each one `open`s the adapter to post, and only
    the replica elected to hold the connection calls `connect_gateway`."""

    async def open(self, core: Core) -> None: ...

    async def connect_gateway(self) -> None: ...

    async def disconnect_gateway(self) -> None: ...
