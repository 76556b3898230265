"""Delivery from the SQLite outbox to the chat platforms, in order, retried, never dropped.

The dispatcher only ever *queues* a message (in the same transaction as the state change
that caused it); the courier posts it. A message that cannot be sent now stays in the
outbox with a retry time, so a rate limit or a restart delays it but never loses it.
Messages in one thread go out in the order they were queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

from adapters.base import Adapter, DeliveryError
from bot.outbound import MessageRef, Outbound, Target
from bot.store import Store, loads

log = logging.getLogger(__name__)

BoardRenderer = Callable[[str], Awaitable[Outbound | None]]
MAX_BACKOFF = 300.0
MAX_PERMANENT_ATTEMPTS = 5


def thread_of(target: Target) -> tuple[str, ...]:
    return (
        target.platform,
        target.workspace,
        target.channel,
        target.thread or "",
        target.user or "",
    )


class Courier:
    def __init__(
        self,
        store: Store,
        adapters: dict[str, Adapter],
        *,
        board_renderer: BoardRenderer | None = None,
        board_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.board_renderer = board_renderer
        self.board_interval = board_interval
        self._wake = asyncio.Event()
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._board_lock = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._outbox_loop(), name="courier-outbox"),
            asyncio.create_task(self._board_loop(), name="courier-boards"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []

    async def sent(self, outbox_id: int, timeout: float) -> bool:
        """Wait until one queued message has been delivered (or the timeout passes)."""
        row = await self.store.one("SELECT state FROM outbox WHERE id = ?", (outbox_id,))
        if row is None or row["state"] != "pending":
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(outbox_id, []).append(future)
        self.wake()
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False

    # -- the outbox -----------------------------------------------------------------------

    async def _outbox_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # a bug here must not stop delivery for good
                log.exception("outbox delivery failed; retrying shortly")
                await asyncio.sleep(1.0)
                continue
            next_at = await self.store.next_outbox_time()
            delay = 30.0 if next_at is None else max(0.0, next_at - time.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))
            except TimeoutError:
                pass

    async def drain(self) -> int:
        """Deliver everything due now; returns how many messages went out."""
        delivered = 0
        while True:
            due = await self.store.due_heads(time.time())
            if not due:
                return delivered
            results = await asyncio.gather(*(self._deliver(row) for row in due))
            delivered += sum(results)
            if not any(results):
                return delivered

    async def _deliver(self, row: aiosqlite.Row) -> bool:
        payload: dict[str, Any] = loads(row["payload"])
        target = Target.model_validate(payload["target"])
        message = Outbound.model_validate(payload["message"])
        if row["kind"] == "result":
            # Relays are word for word by construction: the text comes from the agent's
            # stored result, never from whatever was queued.
            task = await self.store.task(row["task_id"])
            if task is None or task["result"] is None:
                await self.store.mark_retry(row["id"], "no stored result", time.time(), dead=True)
                return False
            message = message.model_copy(update={"text": task["result"]})
        adapter = self.adapters.get(target.platform)
        if adapter is None:
            await self.store.mark_retry(
                row["id"], f"no adapter for {target.platform}", time.time() + 60, dead=False
            )
            return False
        try:
            if target.is_dm and target.thread is None and target.user:
                ref = await adapter.dm(target.user, message)
            else:
                ref = await adapter.post(target, message)
        except DeliveryError as exc:
            attempts = row["attempts"] + 1
            dead = exc.permanent and attempts >= MAX_PERMANENT_ATTEMPTS
            backoff = (
                exc.retry_after if exc.retry_after is not None else min(2.0**attempts, MAX_BACKOFF)
            )
            await self.store.mark_retry(row["id"], str(exc), time.time() + backoff, dead=dead)
            if dead:
                log.error("giving up on outbox message %s: %s", row["id"], exc)
            return False
        except Exception as exc:
            attempts = row["attempts"] + 1
            log.warning("delivery of outbox message %s failed: %s", row["id"], exc)
            await self.store.mark_retry(
                row["id"], repr(exc), time.time() + min(2.0**attempts, MAX_BACKOFF), dead=False
            )
            return False
        board_of = row["request_id"] if row["kind"] == "ack" and message.board is not None else None
        await self.store.mark_sent(row["id"], ref.model_dump(), board_of=board_of)
        for future in self._waiters.pop(row["id"], []):
            if not future.done():
                future.set_result(None)
        return True

    # -- live status boards ---------------------------------------------------------------

    async def _board_loop(self) -> None:
        while True:
            await asyncio.sleep(self.board_interval)
            try:
                await self.refresh_boards()
            except Exception:
                log.exception("status board refresh failed")

    async def refresh_boards(self) -> None:
        """Coalesced: one update per stale board per interval, always the latest state."""
        if self.board_renderer is None:
            return
        async with self._board_lock:
            for board in await self.store.stale_boards():
                if not board["ref"]:
                    continue
                ref = MessageRef.model_validate(loads(board["ref"]))
                adapter = self.adapters.get(ref.platform)
                message = await self.board_renderer(board["request_id"])
                if adapter is None or message is None:
                    continue
                try:
                    await adapter.update(ref, message)
                except DeliveryError as exc:
                    log.info("status board update deferred: %s", exc)
                    continue
                except Exception as exc:
                    log.warning("status board update failed: %s", exc)
                    continue
                await self.store.set_board(board["request_id"], shown=board["version"])
