"""This process as one replica of several sharing a PostgreSQL database (or the only one,
on SQLite): it registers, heartbeats, adopts the work of replicas that died, stops driving
work another replica has taken, and posts into a thread only while it holds the thread.

Each beat (a quarter of the dead bound) does all of it, and is also the back-stop for
LISTEN/NOTIFY: a change another replica committed wakes this one at once, and a lost
notification costs at most one beat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.recovery import take_over
from bot.store import Row, Store, Tx

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.store.postgres import Heart, Listener

log = logging.getLogger(__name__)

FOREVER = 1e300
"""A heartbeat no replica has: on SQLite every other replica on record is dead."""


def new_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Membership:
    def __init__(self, store: Store, dead_after: float) -> None:
        self.store = store
        self.id = new_replica_id()
        self.shared = store.dialect.shared
        self.dead_after = dead_after
        self._listener: Listener | None = None
        self._heart: Heart | None = None
        self.every = max(min(dead_after / 4, 2.5), 0.1)
        """Seconds between beats (and between the heart's heartbeats)."""
        self.joined = False
        self._ticker: asyncio.Task[None] | None = None
        self._turned = time.monotonic()
        """When the event loop last ran a tick: the heart beats while it is recent."""
        self.pushed: Callable[[str], None] = lambda key: None
        """Wakes the follower of an A2A task another replica got a push for."""

    def cutoff(self) -> float:
        """Heartbeats older than this are dead replicas'."""
        return time.time() - self.dead_after if self.shared else FOREVER

    def as_replica(self) -> tuple[str, float] | None:
        """This replica's id and the heartbeat cutoff of the living, for a verb that takes
        what only a dead replica may have held (a thread's lease, read with its head); None
        on SQLite, or before this replica has joined."""
        return (self.id, self.cutoff()) if self.shared and self.joined else None

    async def join(self) -> None:
        """Register and start beating: from here on the others count this replica among the
        living. Done before the adapters listen (`bot.runtime.Service.listen`), so a message
        taken in before the dispatcher starts is posted into its thread under a lease the
        others respect: a lease held by a replica not on record is a dead one's, and taken
        over while it is still being used. Again (from `Dispatcher.start`), it does nothing."""
        if self.joined:
            return
        self.store.replica = self.id
        now = time.time()
        await self.store.transact(
            lambda tx: tx.register_replica(self.id, socket.gethostname(), os.getpid(), now)
        )
        self.joined = True
        if not self.shared:
            return
        from bot.store.postgres import Heart

        self._turned = time.monotonic()
        self._ticker = asyncio.create_task(self._tick(), name="replica-tick")
        url = getattr(self.store, "url", "")
        stalled = 3 * self.dead_after  # a loop stuck this long gives its work up
        self._heart = Heart(
            url, self.id, self.every, lambda: time.monotonic() - self._turned < stalled
        )
        self._heart.start()

    async def _tick(self) -> None:
        """Say the event loop still turns, for the heart (which beats from a thread)."""
        while True:
            await asyncio.sleep(self.every)
            self._turned = time.monotonic()

    async def leave(self) -> None:
        """A clean stop: the living adopt this replica's work now, not after the bound."""
        if self._listener is not None:
            await self._listener.stop()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._heart is not None:
            await asyncio.to_thread(self._heart.stop)
        with contextlib.suppress(Exception):
            now = time.time()
            await self.store.transact(lambda tx: tx.stop_replica(self.id, now))

    async def adopt(self) -> list[Row]:
        """Take the running and asking tasks of dead replicas (each goes to one adopter)."""
        cutoff = self.cutoff()
        return await self.store.transact(lambda tx: tx.adopt_tasks(self.id, cutoff))

    async def lease_head(self, thread: str) -> tuple[bool, bool, Row | None]:
        """Whether this replica may post into `thread` now, whether it took the thread from
        a replica that died holding it, and if granted the thread's oldest pending message
        read under the lease, in the same transaction: it may have been sent by another
        replica since it was read. Only asked with a shared database: on SQLite the one
        process posts everywhere."""
        cutoff = self.cutoff()

        def take(tx: Tx) -> tuple[bool, bool, Row | None]:
            granted, taken_over = tx.lease_thread(thread, self.id, cutoff)
            return granted, taken_over, tx.head_of(thread) if granted else None

        return await self.store.transact(take)

    async def release(self, thread: str) -> None:
        await self.store.transact(lambda tx: tx.release_thread(thread, self.id))

    async def beat(self, dispatcher: Dispatcher) -> None:
        """Heartbeat, adopt what the dead left, and drop what is no longer ours; then look
        for work, in case a notification was lost."""
        now, cutoff = time.time(), self.cutoff()
        live = await self.store.read(lambda tx: tx.live_replicas(cutoff))
        dispatcher.telemetry.replicas(len(live))
        for replica in live:
            dispatcher.telemetry.replica_heartbeat(replica["id"], replica["heartbeat_at"])
        adopted = await self.adopt()
        if adopted:
            log.warning("adopted %d task(s) of a replica that stopped answering", len(adopted))
            await take_over(dispatcher.runner, adopted)
        # A running task of ours that nothing here drives (its runner was stopped, or died)
        # would wait for ever: it is reconciled with its agent like an adopted one.
        before = now - self.dead_after
        mine = await self.store.read(lambda tx: tx.driven_by(self.id, before))
        orphans = [t for t in mine if t["id"] not in dispatcher.runner.runners]
        if orphans:
            log.warning("%d running task(s) had no runner here; reconciling", len(orphans))
            await take_over(dispatcher.runner, orphans)
        dispatcher.wake()

    async def run(self, dispatcher: Dispatcher) -> None:
        """Beat until cancelled; with PostgreSQL, also wake on other replicas' changes."""
        if not self.shared:
            return
        from bot.store.postgres import Listener

        url = getattr(self.store, "url", "")
        self._listener = Listener(url, self.id, dispatcher.wake, lambda key: self.pushed(key))
        self._listener.start()
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.beat(dispatcher)
            except Exception:
                log.exception("replica heartbeat failed; trying again")
