"""The adapter protocol: one small surface between a chat platform and the dispatcher core.

Inbound, an adapter turns platform payloads into `bot.models.Request` and hands them to the
core's `receive`. Outbound, the core asks it to post, update or DM and gets a `MessageRef`.
Raw platform payloads never leave the adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from bot.models import Request
from bot.outbound import MessageRef, Outbound, Target

Receiver = Callable[[Request], Awaitable[object]]


class DeliveryError(Exception):
    """A post or update failed. `retry_after` says when to try again; permanent ones never."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


@runtime_checkable
class Adapter(Protocol):
    platform: str

    async def start(self, receive: Receiver) -> None:
        """Connect and begin delivering normalized requests to `receive`."""
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
