"""Delivery from the SQLite outbox to the chat platforms, in order, retried, never dropped.

The dispatcher only ever *queues* a message (in the same transaction as the state change
that caused it); the courier posts it. A message that cannot be sent now stays in the
outbox with a retry time, so a rate limit or a restart delays it but never loses it.

Messages in one thread go out in the order they were queued: a thread has at most one
delivery in progress, always of its oldest pending message. Threads are independent: each
delivery runs as its own task, and a slow or paced post holds up only its own thread. When a
thread's message is out, its next one (if due) follows at once in the same task; when a
delivery ends with more to send (or a slot was awaited), the outbox loop wakes to start
whatever became deliverable. At most `MAX_DELIVERIES` run at a time, so thousands of
threads never mean thousands of HTTP calls.

About 450 lines, on purpose: ordering, pacing, retries and the outbox loop share one
in-memory picture of which thread is being delivered, and belong together.

Replies to someone who just wrote (`REPLY_KINDS`: acknowledgements, clarifying questions,
status and roster answers) have a lane of their own, `MAX_REPLIES` more deliveries that
only ever send replies, and are read first. A burst of agents' results filling every
delivery slot therefore never makes a new request wait for its acknowledgement.

A deferral (the platform's pacing or rate limit, `DeliveryError(deferred=True)`) is not a
failure: the message is tried again after the wait, with no attempt counted, so it never
grows the backoff and never goes dead.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol

from bot.outbound import MessageRef, Outbound, Target, record_parts
from bot.ports import Adapter, DeliveryError, Recall, UpdateBudget
from bot.store import Row, Store, Tx, loads
from bot.telemetry import Telemetry

log = logging.getLogger(__name__)

BoardRenderer = Callable[[str], Awaitable[Outbound | None]]
MAX_BACKOFF = 300.0
MAX_PERMANENT_ATTEMPTS = 5
MAX_DELIVERIES = 64
"""Deliveries (threads) in progress at once."""
MAX_REPLIES = 128
"""Deliveries of replies (`REPLY_KINDS`) in progress at once, beyond `MAX_DELIVERIES`.

Sized so that a burst of a hundred messages is acknowledged at once: a reply that finds the
lane full waits for a general slot or for the outbox loop, and those stragglers set the
acknowledgement's tail (bench/README.md, "Why the code is shaped this way")."""
REPLY_KINDS = ("ack", "clarify", "status", "roster")
"""What Dispatch says back at once to a message it has just taken in."""
MAX_IN_A_ROW = 20
"""Messages one thread sends back to back before it lets other threads take its slot."""
DEFER_FLOOR = 0.01
"""The shortest wait after a deferral, so a platform answering 0 cannot make a busy loop."""
IDLE_LOOK = 30.0
"""With no retry time known, the outbox loop asks the database this often anyway."""
BOARDS_PER_PASS = 100
"""Stale status boards one refresh pass looks at, and more only within BOARD_PASS_SECONDS."""
BOARD_PASS_SECONDS = 0.25
"""How long a refresh pass may go on drawing boards beyond the first BOARDS_PER_PASS."""
RECORD_TRIES = 5
"""Times a posted message's record is tried (the database refused it, e.g. a lock another
replica holds past the store's lock wait) before its thread is left in doubt."""


class _Next(NamedTuple):
    """After a message is out: the thread's next one to send now, if any."""

    row: Row | None
    more: bool
    """The thread has more waiting (not sent now: not due yet, or for the other lane)."""
    lost: bool = False
    """Another replica holds the thread now."""


NOT_SENT = _Next(None, more=True)
"""No next message known: the outbox loop looks again."""


class Leases(Protocol):
    """Which replica posts into a thread (`bot.replicas.Membership`)."""

    shared: bool
    id: str

    def cutoff(self) -> float: ...

    async def lease_head(self, thread: str) -> tuple[bool, bool, Row | None]: ...

    async def release(self, thread: str) -> None: ...


class Courier:
    def __init__(
        self,
        store: Store,
        adapters: dict[str, Adapter],
        *,
        board_renderer: BoardRenderer | None = None,
        board_interval: float = 1.0,
        max_deliveries: int = MAX_DELIVERIES,
        max_replies: int = MAX_REPLIES,
        leases: Leases | None = None,
        telemetry: Telemetry | None = None,
        quiet: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.quiet = quiet
        """Waits out a burst of incoming messages (at most the given seconds) before a pass
        of status-board edits, so the burst's acknowledgements go first."""
        self.leases = leases
        """With replicas, a thread is posted into by the one replica holding its lease."""
        self.telemetry = telemetry or Telemetry()
        self.adapters = adapters
        self.board_renderer = board_renderer
        self.board_interval = board_interval
        self.max_deliveries = max_deliveries
        self.max_replies = max_replies
        self._wake = asyncio.Event()
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._board_lock = asyncio.Lock()
        self._board_cursor = ""
        self._start_lock = asyncio.Lock()
        self._delivering: dict[str, asyncio.Task[None]] = {}
        """outbox `thread` → the task delivering that thread's messages."""
        self._replying: set[str] = set()
        """Threads in `_delivering` whose delivery is in the reply lane."""
        self._released: set[str] = set()
        """Threads whose delivery ended since the outbox was last read (that read may be stale
        for them; their release woke the loop, which reads again)."""
        self._sending: dict[str, int] = {}
        """outbox `thread` → the id of the message its delivery is sending now."""
        self._skipped: set[str] = set()
        """Busy threads in which the last read found more than the message being sent:
        their release must wake the loop."""
        self._starved = False
        """A lane was full when the outbox was last read, so due messages may be waiting
        for one of its slots."""
        self._recording: set[asyncio.Task[_Next]] = set()
        """Marking a posted message sent; `stop` lets these finish, so a message that went
        out is never left pending (and posted again after a restart)."""
        self._releasing: set[asyncio.Task[None]] = set()
        """Giving back leases taken with a head that found no free slot (`send_now`)."""
        self._retry_times: list[float] = []
        """A heap of the retry times this process set: the loop sleeps until the earliest,
        without asking the database after every wake-up."""
        self._delivered = 0
        self._stopped = False
        self._since = time.time()
        """Messages queued before this process started may have been posted by the one
        before it, which died before recording it: those are looked for before posting."""
        self._unsure: set[str] = set()
        """Threads taken from a replica that died holding them: the same, for their head."""

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopped = False
        self._tasks = [
            asyncio.create_task(self._outbox_loop(), name="courier-outbox"),
            asyncio.create_task(self._board_loop(), name="courier-boards"),
        ]

    async def stop(self) -> None:
        """Stop the loops and cancel deliveries in progress. An interrupted message stays
        pending in the database and goes out after a restart; one already posted is still
        marked sent."""
        self._stopped = True
        tasks = [*self._tasks, *self._delivering.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._recording, *self._releasing, return_exceptions=True)
        self._tasks = []
        self._delivering.clear()
        self._replying.clear()

    async def sent(self, outbox_id: int, timeout: float, *, look: bool = True) -> bool:
        """Wait until one queued message has been delivered (or the timeout passes).

        `look=False` skips reading its state first: right after `send_now` started it, it
        cannot be out yet."""
        # Listen before looking, so a delivery finishing while we look is not missed.
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(outbox_id, []).append(future)
        try:
            if look:
                if await self.store.outbox_state(outbox_id) != "pending":
                    return True
                self.wake()
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._drop_waiter(outbox_id, future)

    def _drop_waiter(self, outbox_id: int, future: asyncio.Future[None]) -> None:
        waiting = self._waiters.get(outbox_id)
        if waiting is not None and future in waiting:
            waiting.remove(future)
            if not waiting:
                del self._waiters[outbox_id]

    def send_now(self, row: Row) -> bool:
        """Start delivering a message just queued, without waiting for the outbox loop to
        wake up and read the outbox: True if it is on its way.

        `row` must head its thread (`Tx.thread_head_row`). A reply takes the reply lane
        (or a general slot if that lane is full). False if its thread is being delivered
        already or no slot is free; the outbox loop sends it then."""
        thread = str(row["thread"])
        # Read with its lease (`Tx.thread_head_row`), taken now from nobody or from the dead.
        # A lease this replica held already is its delivery's in this thread, which goes on
        # to this message: not this call's to use or give back.
        leases, with_lease = self.leases, "leased" in row.keys()
        before = row["held"] if with_lease else None
        leased = with_lease and leases is not None and before != leases.id
        if thread in self._delivering:
            return False  # a delivery here about to take the lease: it is that one's now
        if not self._stopped:
            if self._start(thread, row, leased=leased, taken_over=leased and before is not None):
                return True
        if leased and leases is not None:  # no slot: the outbox loop sends it, under a lease
            self._release_soon(thread, leases)
        return False

    def _release_soon(self, thread: str, leases: Leases) -> None:
        async def release() -> None:
            try:
                await leases.release(thread)
            except Exception:  # kept: its lease lapses when this replica is taken for dead
                log.exception("giving back the lease of a thread failed")

        task = asyncio.create_task(release(), name="courier-release")
        self._releasing.add(task)
        task.add_done_callback(self._released_lease)

    def _released_lease(self, task: asyncio.Task[None]) -> None:
        self._releasing.discard(task)
        self.wake()

    def _free(self) -> tuple[int, int]:
        """Free slots now: general ones, and the reply lane's."""
        general = self.max_deliveries - (len(self._delivering) - len(self._replying))
        return general, self.max_replies - len(self._replying)

    def _start(
        self, thread: str, row: Row, *, leased: bool = False, taken_over: bool = False
    ) -> bool:
        """Deliver `thread` from `row` in a free slot: a reply takes the reply lane, or a
        general slot if that lane is full. False if no slot fits it. `leased`: the row was
        read with the thread's lease, `taken_over` from a dead replica."""
        free, free_replies = self._free()
        reply = row["kind"] in REPLY_KINDS and free_replies > 0
        if not reply and free <= 0:
            return False
        if reply:
            self._replying.add(thread)
        self._delivering[thread] = asyncio.create_task(
            self._deliver_thread(thread, row, reply=reply, leased=leased, taken_over=taken_over),
            name=f"courier-{row['id']}",
        )
        return True

    # -- the outbox -----------------------------------------------------------------------

    async def _outbox_loop(self) -> None:
        # Ask the database for the next retry time at start (a previous run may have left
        # some) and whenever a timer fires; otherwise this process knows its own.
        look = True
        while not self._stopped:
            self._wake.clear()
            now = time.time()
            try:
                await self._start_due()
                if look:
                    self._retry_at(await self.store.next_outbox_time(after=now))
                    look = False
            except Exception:  # a bug here must not stop delivery for good
                log.exception("outbox delivery failed; retrying shortly")
                await asyncio.sleep(1.0)
                continue
            # Messages due now are being delivered, or wait for a thread or a slot to free
            # up: either way a delivery ending wakes this loop, as does a new message.
            # Otherwise sleep until the next retry time.
            while self._retry_times and self._retry_times[0] <= now:
                heapq.heappop(self._retry_times)
            delay = self._retry_times[0] - time.time() if self._retry_times else IDLE_LOOK
            # Not wait_for: on 3.11 it drops a cancel that lands as the wake-up does (a
            # delivery cancelled by stop() wakes this loop), and stop() would wait forever.
            try:
                async with asyncio.timeout(max(delay, 0.01)):
                    await self._wake.wait()
            except TimeoutError:
                look = True

    def _retry_at(self, at: float | None) -> None:
        if at is not None:
            heapq.heappush(self._retry_times, at)

    async def drain(self) -> int:
        """Deliver everything due now and wait for it (threads side by side, each in order);
        returns how many messages went out meanwhile. Deferred and failed messages wait for
        their retry time, so this returns once nothing is due."""
        before = self._delivered
        while True:
            await self._start_due()
            running = list(self._delivering.values())
            if not running or self._stopped:
                return self._delivered - before
            await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)

    async def _start_due(self) -> int:
        """Start a delivery for every due thread that has none; returns how many started.
        Replies are read first and take the reply lane, or a general slot if it is full."""
        async with self._start_lock:
            free, free_replies = self._free()
            self._starved = free <= 0 and free_replies <= 0
            if self._starved or self._stopped:
                return 0
            self._released.clear()
            # Rows to skip: threads busy now, or released while we read (at most one each).
            busy = len(self._delivering) + len(self._released)
            leases = self.leases
            due = await self.store.due_heads(
                time.time(),
                REPLY_KINDS,
                limit=free + free_replies + busy,
                leased=(leases.id, leases.cutoff()) if leases and leases.shared else None,
            )
            started = 0
            self._skipped = set()
            for row in due:
                # Counted afresh: `send_now` may have started deliveries while we read.
                free, free_replies = self._free()
                if (free <= 0 and free_replies <= 0) or self._stopped:
                    break
                thread = str(row["thread"])
                if thread in self._released:
                    # Its delivery ended while we read, so this row may be stale (or new):
                    # read again.
                    self._wake.set()
                    continue
                if thread in self._delivering:
                    # Busy. If there is more than the message on its way, the thread's
                    # release wakes the loop to send it.
                    if row["pending"] > 1 or row["id"] != self._sending.get(thread):
                        self._skipped.add(thread)
                    continue
                if not self._start(thread, row):
                    continue  # a general message, and only reply slots are left
                started += 1
            free, free_replies = self._free()
            self._starved = free <= 0 or free_replies <= 0
            return started

    async def _deliver_thread(
        self,
        thread: str,
        row: Row,
        *,
        reply: bool = False,
        leased: bool = False,
        taken_over: bool = False,
    ) -> None:
        """Deliver one thread's head, then its next messages while they are due (in the
        reply lane, while they are replies). `leased`: `row` was read under the lease."""
        emptied = False
        left = int(row["pending"]) if "pending" in row.keys() else MAX_IN_A_ROW
        try:
            if leased and taken_over:
                self._unsure.add(thread)
            if not leased and self.leases is not None and self.leases.shared:
                # Another replica may have sent this row since it was read: read it again
                # under the lease. A thread another replica holds is that replica's to send.
                leased, taken_over, fresh = await self.leases.lease_head(thread)
                if not leased:
                    emptied = True  # not ours to send; its holder's beat wakes us if it dies
                    return
                if taken_over:
                    self._unsure.add(thread)
                if fresh is None:
                    emptied = True
                    return
                row = fresh
            for index in range(MAX_IN_A_ROW):
                self._sending[thread] = row["id"]
                left -= 1
                then = self._then(
                    thread, left, reply=reply, leased=leased, last=index == MAX_IN_A_ROW - 1
                )
                try:
                    sent, after = await self._deliver(row, then)
                    if not sent:
                        return
                except Exception as exc:  # a bug or a broken row: retry later, not in a loop
                    log.exception("delivery of outbox message %s failed", row["id"])
                    retry = time.time() + min(2.0 ** (row["attempts"] + 1), MAX_BACKOFF)
                    await self.store.mark_retry(row["id"], repr(exc), retry, dead=False)
                    self._retry_at(retry)
                    return
                if after is NOT_SENT:
                    return  # recorded, and what follows unknown: the outbox loop looks
                if after.row is None:
                    # The lease was given back with the record (or lost: a replica taken
                    # for dead after a long stall stops here, and its holder sends the rest).
                    leased, emptied = False, not after.more or after.lost
                    return
                row = after.row
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox delivery for a thread failed")
        finally:
            if leased and self.leases is not None:
                with contextlib.suppress(Exception):
                    await self.leases.release(thread)
            self._delivering.pop(thread, None)
            self._replying.discard(thread)
            self._sending.pop(thread, None)
            self._released.add(thread)
            # The loop looks again if this thread has more to send (now, or at a retry time
            # it may not know yet), if a slot was awaited, or if its last read saw more in
            # this thread (queued meanwhile). A thread with nothing left, the usual end,
            # costs the loop nothing; a read under way now sees it in `_released`.
            if not emptied or self._starved or thread in self._skipped:
                self._wake.set()

    def _then(
        self, thread: str, left: int, *, reply: bool, leased: bool, last: bool
    ) -> Callable[[Tx], _Next]:
        """What follows a message recorded as sent, in the same transaction: the thread's
        next message if it goes out now (its lease kept), or else the lease given back.
        `left`: messages the outbox read saw after this one (none: nothing to look for; one
        queued since woke the loop, which saw this thread busy)."""
        leases = self.leases if leased else None

        def then(tx: Tx) -> _Next:
            head = tx.head_of(thread) if left > 0 else None
            go = (
                head is not None
                and not last
                and not self._stopped
                and head["next_at"] <= time.time()
                and (not reply or head["kind"] in REPLY_KINDS)
            )
            if leases is not None:
                if not go:
                    tx.release_thread(thread, leases.id)
                elif not tx.lease_thread(thread, leases.id, leases.cutoff())[0]:
                    return _Next(None, more=True, lost=True)
            return _Next(head if go else None, more=head is not None)

        return then

    async def _deliver(self, row: Row, then: Callable[[Tx], _Next]) -> tuple[bool, _Next]:
        """Post one message; once it is out, record it and run `then` with the record."""
        started = time.time_ns()
        payload: dict[str, Any] = loads(row["payload"])
        target = Target.model_validate(payload["target"])
        message = Outbound.model_validate(payload["message"])
        if row["kind"] == "result":
            # Relays are word for word by construction: the text comes from the agent's
            # stored result, never from whatever was queued (read with the row, or now).
            if "task_result" in row.keys():
                result = row["task_result"]
            else:
                task = await self.store.task(row["task_id"])
                result = None if task is None else task["result"]
            if result is None:
                await self.store.mark_retry(row["id"], "no stored result", time.time(), dead=True)
                self.telemetry.delivered(row, target.platform, "dead", started)
                return False, NOT_SENT
            message = message.model_copy(update={"text": result})
        adapter = self.adapters.get(target.platform)
        if adapter is None:
            retry = time.time() + 60
            await self.store.mark_retry(
                row["id"], f"no adapter for {target.platform}", retry, dead=False
            )
            self._retry_at(retry)
            self.telemetry.delivered(row, target.platform, "retried", started)
            return False, NOT_SENT
        progress = loads(row["ref"]) if row["ref"] else {}
        if progress.get("parts"):
            message = message.model_copy(update={"posted": list(progress["parts"])})
        outbox_id = row["id"]
        message = message.model_copy(update={"key": str(outbox_id)})
        if self._unsure_of(row) and isinstance(adapter, Recall):  # a protocol check is slow
            # A process that died may have posted it and not lived to record it: look.
            with contextlib.suppress(Exception):  # unsure, and unable to look: post
                found = await adapter.posted_parts(target, message.key)
                if len(found) > len(message.posted):
                    message = message.model_copy(update={"posted": found})

        async def record(parts: list[str]) -> None:
            await self.store.mark_progress(outbox_id, parts)

        record_parts.set(record)  # each delivery runs in its own task, so its own context
        try:
            if target.is_dm and target.thread is None and target.user:
                ref = await adapter.dm(target.user, message)
            else:
                ref = await adapter.post(target, message)
        except DeliveryError as exc:
            if exc.deferred:
                # Paced or rate limited: not a failed attempt, no backoff, never dead.
                wait = 1.0 if exc.retry_after is None else exc.retry_after
                retry = time.time() + max(wait, DEFER_FLOOR)
                await self.store.mark_deferred(row["id"], retry)
                self._retry_at(retry)
                self.telemetry.delivered(
                    row, target.platform, "deferred", started, rate_limited=exc.rate_limited
                )
                return False, NOT_SENT
            attempts = row["attempts"] + 1
            dead = exc.permanent and attempts >= MAX_PERMANENT_ATTEMPTS
            backoff = (
                exc.retry_after if exc.retry_after is not None else min(2.0**attempts, MAX_BACKOFF)
            )
            retry = time.time() + backoff
            await self.store.mark_retry(row["id"], str(exc), retry, dead=dead)
            if not dead:
                self._retry_at(retry)
            if dead:
                log.error("giving up on outbox message %s: %s", row["id"], exc)
            self.telemetry.delivered(
                row,
                target.platform,
                "dead" if dead else "retried",
                started,
                rate_limited=exc.rate_limited,
            )
            return False, NOT_SENT
        except Exception as exc:
            attempts = row["attempts"] + 1
            log.warning("delivery of outbox message %s failed: %s", row["id"], exc)
            retry = time.time() + min(2.0**attempts, MAX_BACKOFF)
            await self.store.mark_retry(row["id"], repr(exc), retry, dead=False)
            self._retry_at(retry)
            self.telemetry.delivered(row, target.platform, "retried", started)
            return False, NOT_SENT
        self._unsure.discard(str(row["thread"]))  # its head was the one in doubt
        self.telemetry.delivered(row, target.platform, "sent", started)  # never raises
        # It is out: record that even if we are being stopped right now.
        recording = asyncio.create_task(self._record_sent(row, message, ref, then))
        self._recording.add(recording)
        recording.add_done_callback(self._recording.discard)
        try:
            after = await asyncio.shield(recording)
        except Exception:
            # Out, and not recorded as out: whoever sends this thread next looks first.
            self._unsure.add(str(row["thread"]))
            raise
        return True, after

    def _unsure_of(self, row: Row) -> bool:
        """Whether another process may have posted this message already: it was queued
        before this one started, an earlier attempt failed (perhaps after Slack took it), or
        its thread was taken from a replica that died."""
        return (
            row["created_at"] < self._since
            or row["attempts"] > 0
            or str(row["thread"]) in self._unsure
        )

    async def _record_sent(
        self, row: Row, message: Outbound, ref: MessageRef, then: Callable[[Tx], _Next]
    ) -> _Next:
        board_of = row["request_id"] if row["kind"] == "ack" and message.board is not None else None
        after = NOT_SENT
        for attempt in range(RECORD_TRIES):
            try:
                after = (
                    await self.store.mark_sent(
                        row["id"], ref.model_dump(), board_of=board_of, then=then
                    )
                    or NOT_SENT
                )
                break
            except Exception as exc:  # it is out: recording that is worth waiting for
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning(
                    "recording outbox message %s as sent failed (%s); again", row["id"], exc
                )
                await asyncio.sleep(0.1 * 2**attempt)
        self._delivered += 1
        for future in self._waiters.pop(row["id"], []):
            if not future.done():
                future.set_result(None)
        return after

    # -- live status boards ---------------------------------------------------------------

    async def _board_loop(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.board_interval)
            if self.quiet is not None:
                await self.quiet(self.board_interval)
            try:
                await self.refresh_boards()
            except Exception:
                log.exception("status board refresh failed")

    async def refresh_boards(self) -> None:
        """Coalesced: one update per stale board per pass, always the latest state.

        A platform over its edit budget is skipped before anything is rendered. A pass
        draws `BOARDS_PER_PASS` boards, then more only while it is within
        `BOARD_PASS_SECONDS`, yielding to the loop between boards; the next pass carries on
        after the last board it looked at, so every stale board gets its turn."""
        if self.board_renderer is None:
            return
        async with self._board_lock:
            boards = await self.store.stale_boards()
            start = bisect.bisect_right([b["request_id"] for b in boards], self._board_cursor)
            deadline = time.monotonic() + BOARD_PASS_SECONDS
            waiting: set[str] = set()  # platforms that take no edit now
            for index, board in enumerate([*boards[start:], *boards[:start]]):
                if index >= BOARDS_PER_PASS and time.monotonic() >= deadline:
                    return
                self._board_cursor = board["request_id"]
                if not board["ref"]:
                    continue
                ref = MessageRef.model_validate(loads(board["ref"]))
                adapter = self.adapters.get(ref.platform)
                if adapter is None or ref.platform in waiting:
                    continue
                if isinstance(adapter, UpdateBudget) and adapter.update_wait() > 0:
                    waiting.add(ref.platform)
                    continue
                message = await self.board_renderer(board["request_id"])
                if message is None:
                    continue
                try:
                    await adapter.update(ref, message)
                except DeliveryError as exc:
                    if exc.deferred:
                        waiting.add(ref.platform)
                    if exc.rate_limited:
                        self.telemetry.rate_limited(ref.platform)
                    log.info("status board update deferred: %s", exc)
                    continue
                except Exception as exc:
                    log.warning("status board update failed: %s", exc)
                    continue
                # Drawn as of now; a change meanwhile bumped the version, so it stays stale.
                await self.store.set_board(board["request_id"], shown=board["version"])
                await asyncio.sleep(0)  # many boards must not hold the loop for long
