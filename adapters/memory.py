"""An in-memory platform: messages in, a list of what was posted out.

It is a real adapter (the protocol, nothing mocked) for embedding Dispatch in another
program and for tests, in the spirit of Errbot's TestBackend. It can also be told to fail
deliveries, to exercise the retry path.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.base import Action, ActionKind, Core, DeliveryError
from bot.models import Attachment, Request
from bot.outbound import MessageRef, Outbound, Target


@dataclass
class Posted:
    ref: MessageRef
    target: Target | None
    message: Outbound
    at: float = field(default_factory=time.monotonic)
    updates: list[Outbound] = field(default_factory=list)


class MemoryAdapter:
    def __init__(self, platform: str = "memory", *, workspace: str = "W1") -> None:
        self.platform = platform
        self.workspace = workspace
        self.posted: list[Posted] = []
        self.dms: list[Posted] = []
        self.fail_next: list[DeliveryError] = []
        self._core: Core | None = None
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    async def start(self, core: Core) -> None:
        self._core = core

    async def stop(self) -> None:
        self._core = None

    # -- inbound ----------------------------------------------------------------------------

    def message(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        thread: str | None = None,
        is_dm: bool = False,
        message_id: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Request:
        return Request(
            platform=self.platform,
            workspace=self.workspace,
            channel=channel,
            thread=thread,
            message_id=message_id or f"msg{next(self._ids)}",
            user=user,
            user_name=user,
            text=text,
            is_dm=is_dm,
            attachments=attachments,
        )

    async def send(self, text: str, **kwargs: object) -> Request:
        """Deliver a user message to the dispatcher, as the platform would."""
        request = self.message(text, **kwargs)  # type: ignore[arg-type]
        await self.deliver(request)
        return request

    async def deliver(self, request: Request) -> None:
        if self._core is None:
            raise RuntimeError("adapter is not started")
        await self._core.receive(request)

    async def press(self, kind: ActionKind, target: str, *, user: str = "U1") -> str:
        """Press a status-board button, as the platform would report it."""
        if self._core is None:
            raise RuntimeError("adapter is not started")
        action = Action(
            platform=self.platform, workspace=self.workspace, user=user, kind=kind, target=target
        )
        return await self._core.act(action)

    # -- outbound ---------------------------------------------------------------------------

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        if self.fail_next:
            raise self.fail_next.pop(0)
        ref = MessageRef(
            platform=self.platform,
            channel=target.channel,
            id=f"out{next(self._ids)}",
            thread=target.thread,
        )
        self.posted.append(Posted(ref, target, message))
        self._changed.set()
        return ref

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        for posted in self.posted:
            if posted.ref.id == ref.id:
                posted.updates.append(message)
                self._changed.set()
                return
        raise DeliveryError(f"no message {ref.id}", permanent=True)

    async def dm(self, user: str, message: Outbound) -> MessageRef:
        ref = MessageRef(platform=self.platform, channel=f"D-{user}", id=f"out{next(self._ids)}")
        self.dms.append(Posted(ref, None, message))
        self._changed.set()
        return ref

    # -- reading what happened --------------------------------------------------------------

    def in_thread(self, thread: str, kind: str | None = None) -> list[Outbound]:
        return [
            p.message
            for p in self.posted
            if p.target is not None
            and p.target.thread == thread
            and (kind is None or p.message.kind == kind)
        ]

    def of_kind(self, kind: str) -> list[Outbound]:
        return [p.message for p in self.posted if p.message.kind == kind]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds; raises TimeoutError with what was posted."""

        async def poll() -> None:
            while not predicate():
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), 0.05)
                except TimeoutError:
                    pass

        try:
            await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            seen = "\n".join(f"  {p.message.kind}: {p.message.text[:120]}" for p in self.posted)
            raise TimeoutError(f"condition not met in {timeout}s; posted so far:\n{seen}") from None
