"""The courier on its own: a real SQLite outbox, real adapters (the in-memory one, taught to
hold, defer or fail a post), no dispatcher. End-to-end pacing through Slack is in
tests/test_slack.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import bot.courier
from adapters.base import DeliveryError
from adapters.memory import MemoryAdapter
from bot.courier import BOARDS_PER_PASS, MAX_PERMANENT_ATTEMPTS, Courier
from bot.outbound import MessageRef, Outbound, Target
from bot.replicas import Membership
from bot.store import Store, store_for
from tests.conftest import both_stores


class HoldingAdapter(MemoryAdapter):
    """Posts in the channels named in `held` wait until the channel is let go; `script`
    holds errors to raise, in turn, for posts in one thread (other threads post normally)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: dict[str, asyncio.Event] = {}
        self.script: dict[str | None, list[DeliveryError]] = {}
        self.calls: list[tuple[str | None, str]] = []
        self.running = 0
        self.most_running = 0

    def hold(self, channel: str) -> None:
        self.held[channel] = asyncio.Event()

    def let_go(self, channel: str) -> None:
        self.held.pop(channel).set()

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        self.calls.append((target.thread, message.text))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            gate = self.held.get(target.channel)
            if gate is not None:
                await gate.wait()
            errors = self.script.get(target.thread)
            if errors:
                raise errors.pop(0)
            return await super().post(target, message)
        finally:
            self.running -= 1

    def texts(self, thread: str | None = None) -> list[str]:
        return [
            p.message.text
            for p in self.posted
            if thread is None or (p.target is not None and p.target.thread == thread)
        ]


store_kind = both_stores


@pytest.fixture
async def store(new_db: Callable[[str], str]) -> AsyncIterator[Store]:
    opened = await store_for(new_db("courier")).open()
    yield opened
    await opened.close()


async def queue(
    store: Store,
    thread: str,
    *texts: str,
    channel: str = "C1",
    kind: str = "notice",
    platform: str = "memory",
) -> list[int]:
    """Queue messages (notices unless told) in one thread (of their own request), as the
    dispatcher would."""
    request_id = f"req-{channel}-{thread}"
    await store.write(
        "INSERT INTO requests(id, platform, workspace, channel, thread, message_id,"
        " \"user\", text, is_dm, state, created_at) VALUES (?, ?, 'W1', ?, ?, ?, 'U1', '',"
        " 0, 'running', ?) ON CONFLICT DO NOTHING",
        (request_id, platform, channel, thread, thread, time.time()),
    )
    target = Target(platform=platform, workspace="W1", channel=channel, thread=thread)
    ids = []
    for text in texts:
        message = Outbound(kind=kind, text=text, request_id=request_id)  # type: ignore[arg-type]
        payload = {"target": target.model_dump(), "message": message.model_dump()}
        outbox_id = await store.enqueue(request_id, kind, payload)
        assert outbox_id is not None
        ids.append(outbox_id)
    return ids


def count_outbox_reads(store: Store) -> list[int]:
    """Count the courier's reads of the outbox (`Store.due_heads`); the count is `[n]`."""
    reads = [0]
    due_heads = store.due_heads

    async def counted(now: float, first: Any = (), limit: int = 500, **kw: Any) -> Any:
        reads[0] += 1
        return await due_heads(now, first, limit, **kw)

    store.due_heads = counted  # type: ignore[method-assign]
    return reads


async def outbox(store: Store) -> list[dict[str, Any]]:
    rows = await store.all("SELECT id, thread, state, attempts, next_at FROM outbox ORDER BY id")
    return [dict(row) for row in rows]


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_held_post_in_one_thread_does_not_delay_other_threads(store: Store) -> None:
    adapter = HoldingAdapter()
    adapter.hold("C1")
    courier = Courier(store, {"memory": adapter})
    await queue(store, "t1", "t1 first", "t1 second", channel="C1")
    await courier.start()
    try:
        await until(lambda: adapter.calls)  # t1's head is on its way, and stuck
        await queue(store, "t2", "t2 ack", channel="C2")
        await queue(store, "t3", "t3 ack", "t3 result", channel="C3")
        courier.wake()
        await until(lambda: len(adapter.posted) == 3)
        assert adapter.texts() == ["t2 ack", "t3 ack", "t3 result"]
        # t1's second message waits for its first: a thread goes out in order.
        assert adapter.calls.count(("t1", "t1 second")) == 0
        adapter.let_go("C1")
        await until(lambda: len(adapter.posted) == 5)
        assert adapter.texts("t1") == ["t1 first", "t1 second"]
    finally:
        await courier.stop()
    assert {row["state"] for row in await outbox(store)} == {"sent"}


async def test_a_message_queued_while_its_thread_is_sending_follows_at_once(
    store: Store,
) -> None:
    adapter = HoldingAdapter()
    adapter.hold("C1")
    courier = Courier(store, {"memory": adapter})
    await queue(store, "t1", "first")
    await courier.start()
    try:
        await until(lambda: adapter.running == 1)  # the outbox held one message for t1
        await queue(store, "t1", "second")
        courier.wake()  # as the dispatcher does after queueing
        await asyncio.sleep(0.1)
        adapter.let_go("C1")
        # Well before the loop's idle look at the database (30 s).
        await until(lambda: len(adapter.posted) == 2, timeout=5)
    finally:
        await courier.stop()
    assert adapter.texts("t1") == ["first", "second"]


async def test_retry_times_left_by_a_previous_run_are_kept_without_a_wake(
    store: Store,
) -> None:
    [soon] = await queue(store, "t1", "soon")
    [later] = await queue(store, "t2", "later", channel="C2")
    now = time.time()
    await store.write("UPDATE outbox SET next_at = ? WHERE id = ?", (now + 0.3, soon))
    await store.write("UPDATE outbox SET next_at = ? WHERE id = ?", (now + 0.8, later))
    adapter = HoldingAdapter()
    courier = Courier(store, {"memory": adapter})
    await courier.start()
    try:
        await until(lambda: len(adapter.posted) == 2, timeout=10)
    finally:
        await courier.stop()
    assert adapter.texts() == ["soon", "later"]
    assert adapter.posted[0].at < adapter.posted[1].at


async def test_deferrals_are_not_attempts_never_grow_the_backoff_and_never_give_up(
    store: Store,
) -> None:
    adapter = HoldingAdapter()
    paced = [
        DeliveryError("paced", retry_after=0.01, deferred=True)
        for _ in range(3 * MAX_PERMANENT_ATTEMPTS)
    ]
    # Even a deferral flagged permanent is only a deferral.
    paced.append(DeliveryError("paced", retry_after=0.01, deferred=True, permanent=True))
    deferrals = len(paced)
    adapter.script["t1"] = paced
    courier = Courier(store, {"memory": adapter})
    ids = await queue(store, "t1", "one", "two", "three")
    await courier.start()
    try:
        await until(lambda: len(adapter.posted) == 3)
        assert adapter.texts("t1") == ["one", "two", "three"]  # each once, in order
        rows = await outbox(store)
        for _ in range(1000):  # the third is posted; its record follows
            if all(row["state"] == "sent" for row in rows):
                break
            await asyncio.sleep(0.01)
            rows = await outbox(store)
        assert [(row["state"], row["attempts"]) for row in rows] == [("sent", 0)] * 3

        # A real failure after many deferrals backs off from its first attempt, not the 17th.
        adapter.script["t2"] = [DeliveryError("platform down")]
        [failing] = await queue(store, "t2", "after a failure")
        courier.wake()
        await until(lambda: ("t2", "after a failure") in adapter.calls)
        for _ in range(100):
            row = next(r for r in await outbox(store) if r["id"] == failing)
            if row["attempts"]:
                break
            await asyncio.sleep(0.01)
        assert row["attempts"] == 1 and row["state"] == "pending"
        assert row["next_at"] - time.time() <= 2.5  # 2 s: the first step of the backoff
    finally:
        await courier.stop()
    assert len(adapter.calls) == 3 + deferrals + 1
    assert ids == [r["id"] for r in rows]


async def test_at_most_max_deliveries_run_at_once(store: Store) -> None:
    adapter = HoldingAdapter()
    for i in range(30):
        adapter.hold(f"C{i}")
    courier = Courier(store, {"memory": adapter}, max_deliveries=8)
    for i in range(30):
        await queue(store, f"t{i}", f"to t{i}", channel=f"C{i}")
    await courier.start()
    try:
        await until(lambda: adapter.running == 8)
        await asyncio.sleep(0.1)
        assert adapter.running == 8 and len(adapter.calls) == 8
        for i in range(30):
            adapter.let_go(f"C{i}")
        await until(lambda: len(adapter.posted) == 30)
    finally:
        await courier.stop()
    assert adapter.most_running == 8
    assert sorted(adapter.texts()) == sorted(f"to t{i}" for i in range(30))  # each once


async def test_replies_have_a_lane_of_their_own_when_every_slot_is_busy(store: Store) -> None:
    """Acknowledgements and answers are not queued behind a burst of other messages."""
    adapter = HoldingAdapter()
    for i in range(12):
        adapter.hold(f"C{i}")
    courier = Courier(store, {"memory": adapter}, max_deliveries=8, max_replies=2)
    for i in range(12):
        await queue(store, f"t{i}", f"result {i}", channel=f"C{i}")
    await courier.start()
    try:
        await until(lambda: adapter.running == 8)
        await queue(store, "a1", "on it", channel="CA", kind="ack")
        await queue(store, "a2", "here is the status", channel="CB", kind="status")
        courier.wake()
        await until(lambda: len(adapter.posted) == 2)
        assert sorted(adapter.texts()) == ["here is the status", "on it"]
        # The lane takes replies only: the general messages still wait for their slots.
        assert adapter.running == 8 and len(adapter.calls) == 10
        for i in range(12):
            adapter.let_go(f"C{i}")
        await until(lambda: len(adapter.posted) == 14)
    finally:
        await courier.stop()
    assert adapter.most_running <= 10


async def test_send_now_sends_without_reading_the_outbox_and_never_overtakes(
    store: Store,
) -> None:
    adapter = HoldingAdapter()
    courier = Courier(store, {"memory": adapter})
    reads = count_outbox_reads(store)
    [ack] = await queue(store, "t1", "on it", kind="ack")
    head = await store.read(lambda tx: tx.thread_head_row(ack))
    assert head is not None and head["pending"] == 1
    assert courier.send_now(head)
    assert await courier.sent(ack, timeout=10, look=False)
    assert adapter.texts("t1") == ["on it"] and reads == [0]
    # Behind an older message of its thread, a reply is not the head: the loop sends both,
    # in order.
    adapter.hold("C1")
    [older] = await queue(store, "t2", "earlier result")
    [later] = await queue(store, "t2", "and the answer", kind="status")
    assert await store.read(lambda tx: tx.thread_head_row(later)) is None
    assert await store.read(lambda tx: tx.thread_head_row(older)) is not None
    await courier.start()
    try:
        await until(lambda: adapter.running == 1)
        adapter.let_go("C1")
        assert await courier.sent(later, timeout=10)
    finally:
        await courier.stop()
    assert adapter.texts("t2") == ["earlier result", "and the answer"]


async def test_a_head_read_with_its_lease_goes_out_with_no_lease_of_its_own(
    pg_url: str,
) -> None:
    """With replicas, a message read in the transaction that queued it comes with its
    thread's lease: it is posted with no transaction to take the lease first, and the lease
    is given back after. Read so but with no slot free, it is left to the outbox loop and
    the lease given back at once, or its thread would wait for a replica's death."""
    store = await store_for(pg_url).open()
    membership = Membership(store, dead_after=10)
    await membership.join()
    taken: list[str] = []
    lease_head = membership.lease_head

    async def counted(thread: str) -> Any:
        taken.append(thread)
        return await lease_head(thread)

    membership.lease_head = counted  # type: ignore[method-assign]
    adapter = HoldingAdapter()
    courier = Courier(store, {"memory": adapter}, leases=membership, max_deliveries=1)

    async def read_with_lease(outbox_id: int) -> Any:
        return await store.transact(
            lambda tx: tx.thread_head_row(outbox_id, membership.as_replica())
        )

    async def holders() -> list[tuple[str, str]]:
        rows = await store.all("SELECT thread, owner FROM thread_leases ORDER BY thread")
        return [(row["thread"].split("|")[3], row["owner"]) for row in rows]

    try:
        [first] = await queue(store, "t1", "to t1")
        head = await read_with_lease(first)
        assert head is not None and await holders() == [("t1", membership.id)]
        assert courier.send_now(head)
        assert await courier.sent(first, timeout=10, look=False)
        await until(lambda: not courier._delivering)
        assert taken == [] and await holders() == []
        # The one slot busy (a post held in t2), a head of t3 read with its lease waits.
        adapter.hold("C2")
        [held] = await queue(store, "t2", "to t2", channel="C2")
        head = await read_with_lease(held)
        assert head is not None and courier.send_now(head)
        await until(lambda: adapter.running == 1)
        [waiting] = await queue(store, "t3", "to t3", channel="C3")
        head = await read_with_lease(waiting)
        assert head is not None and not courier.send_now(head)
        await until(lambda: not courier._releasing)
        assert await holders() == [("t2", membership.id)]
        await courier.start()
        adapter.let_go("C2")
        assert await courier.sent(waiting, timeout=10)
        assert adapter.texts() == ["to t1", "to t2", "to t3"] and taken == ["memory|W1|C3|t3|"]
    finally:
        await courier.stop()
        await membership.leave()
        await store.close()


async def test_a_thread_sends_its_next_message_as_soon_as_the_last_is_out(
    store: Store,
) -> None:
    adapter = HoldingAdapter()
    courier = Courier(store, {"memory": adapter})
    reads = count_outbox_reads(store)
    texts = [f"result {i}" for i in range(12)]
    await queue(store, "t1", *texts)
    assert await courier.drain() == 12
    assert adapter.texts("t1") == texts
    # One read of the outbox started the thread; it then went on by itself (one more read
    # found nothing left), instead of one read of the whole outbox per message.
    assert reads[0] <= 3


async def test_stop_interrupts_a_delivery_and_a_restart_sends_it_once(store: Store) -> None:
    adapter = HoldingAdapter()
    adapter.hold("C1")
    courier = Courier(store, {"memory": adapter})
    await queue(store, "t1", "stuck", "behind it")
    await queue(store, "t2", "free", channel="C2")
    await courier.start()
    await until(lambda: len(adapter.posted) == 1 and adapter.running == 1)
    await courier.stop()  # the held post is cancelled mid-way
    assert adapter.texts() == ["free"]
    rows = await outbox(store)
    assert [(row["state"], row["attempts"]) for row in rows] == [
        ("pending", 0),
        ("pending", 0),
        ("sent", 0),
    ]

    fresh = HoldingAdapter()  # a new process
    again = Courier(store, {"memory": fresh})
    await again.start()
    try:
        await until(lambda: len(fresh.posted) == 2)
    finally:
        await again.stop()
    assert fresh.texts() == ["stuck", "behind it"]
    assert {row["state"] for row in await outbox(store)} == {"sent"}


async def test_sent_waits_for_one_message(store: Store) -> None:
    adapter = HoldingAdapter()
    adapter.hold("C1")
    courier = Courier(store, {"memory": adapter})
    [held] = await queue(store, "t1", "held")
    [free] = await queue(store, "t2", "free", channel="C2")
    await courier.start()
    try:
        assert await courier.sent(free, timeout=10)
        assert not await courier.sent(held, timeout=0.2)
        adapter.let_go("C1")
        assert await courier.sent(held, timeout=10)
        assert await courier.sent(held, timeout=0)  # already out
    finally:
        await courier.stop()
    assert courier._waiters == {}


class BudgetAdapter(MemoryAdapter):
    """Takes `budget` board edits, then says how long until the next one."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget
        self.edited: list[str] = []

    def update_wait(self) -> float:
        return 0.0 if self.budget > 0 else 5.0

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        if self.budget <= 0:
            raise DeliveryError("over budget", retry_after=5.0, deferred=True)
        self.budget -= 1
        self.edited.append(ref.id)


async def stale_boards(store: Store, count: int) -> list[str]:
    ids = []
    for i in range(count):
        request_id = f"req-{i:04d}"
        await store.write(
            'INSERT INTO requests(id, platform, workspace, channel, thread, message_id, "user",'
            " text, is_dm, state, created_at) VALUES (?, 'memory', 'W1', 'C1', ?, ?, 'U1', '',"
            " 0, 'running', ?)",
            (request_id, request_id, request_id, time.time()),
        )
        ref = MessageRef(platform="memory", channel="C1", id=f"board-{i:04d}")
        await store.write(
            "INSERT INTO boards(request_id, ref, version, shown) VALUES (?, ?, 1, 0)",
            (request_id, json.dumps(ref.model_dump())),
        )
        ids.append(request_id)
    return ids


async def test_board_passes_wait_for_a_burst_of_messages_to_be_taken_in(store: Store) -> None:
    """Status-board edits are housekeeping: a pass waits until the intake says it is quiet,
    so a burst's acknowledgements go out first."""
    adapter = BudgetAdapter(budget=100)
    quiet = asyncio.Event()
    asked: list[float] = []

    async def wait_quiet(limit: float) -> None:
        asked.append(limit)
        await quiet.wait()

    async def render(request_id: str) -> Outbound:
        return Outbound(kind="ack", text=f"board of {request_id}", request_id=request_id)

    courier = Courier(
        store, {"memory": adapter}, board_renderer=render, board_interval=0.01, quiet=wait_quiet
    )
    await stale_boards(store, 3)
    await courier.start()
    try:
        while not asked:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # a chance to edit, were it not waiting
        assert adapter.edited == []
        assert asked == [0.01]  # bounded by the board interval
        quiet.set()
        while len(adapter.edited) < 3:
            await asyncio.sleep(0.01)
    finally:
        await courier.stop()
    assert adapter.edited == ["board-0000", "board-0001", "board-0002"]


async def test_board_refresh_renders_nothing_while_the_edit_budget_is_spent(
    store: Store,
) -> None:
    adapter = BudgetAdapter(budget=2)
    rendered: list[str] = []

    async def render(request_id: str) -> Outbound:
        rendered.append(request_id)
        return Outbound(kind="ack", text=f"board of {request_id}", request_id=request_id)

    courier = Courier(store, {"memory": adapter}, board_renderer=render)
    await stale_boards(store, 10)
    await courier.refresh_boards()
    assert adapter.edited == ["board-0000", "board-0001"]
    assert rendered == ["req-0000", "req-0001"]  # the other eight were not even drawn
    assert len(await store.stale_boards()) == 8
    adapter.budget = 100
    await courier.refresh_boards()
    assert len(rendered) == 10 and await store.stale_boards() == []


async def test_board_refresh_caps_a_pass_and_takes_turns(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.courier, "BOARD_PASS_SECONDS", 0.0)  # as if every board were slow
    adapter = BudgetAdapter(budget=10_000)

    async def render(request_id: str) -> Outbound:
        return Outbound(kind="ack", text=f"board of {request_id}", request_id=request_id)

    courier = Courier(store, {"memory": adapter}, board_renderer=render)
    ids = await stale_boards(store, 2 * BOARDS_PER_PASS + 10)
    await courier.refresh_boards()
    assert len(adapter.edited) == BOARDS_PER_PASS
    # The first boards change again; the next pass still moves on to those not drawn yet.
    await store.write("UPDATE boards SET version = version + 1 WHERE request_id < 'req-0010'")
    await courier.refresh_boards()
    second = adapter.edited[BOARDS_PER_PASS:]
    assert second == [f"board-{i:04d}" for i in range(BOARDS_PER_PASS, 2 * BOARDS_PER_PASS)]
    await courier.refresh_boards()  # the last ten, then around to the ten redrawn ones
    third = adapter.edited[2 * BOARDS_PER_PASS :]
    assert third == [f"board-{i:04d}" for i in range(2 * BOARDS_PER_PASS, len(ids))] + [
        f"board-{i:04d}" for i in range(10)
    ]
    assert await store.stale_boards() == []


async def test_board_refresh_draws_more_while_the_pass_has_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pass long enough for every board on a loaded machine: this is about going on past
    # BOARDS_PER_PASS while there is time, not about how much fits in a quarter second.
    monkeypatch.setattr(bot.courier, "BOARD_PASS_SECONDS", 600.0)
    adapter = BudgetAdapter(budget=10_000)

    async def render(request_id: str) -> Outbound:
        return Outbound(kind="ack", text=f"board of {request_id}", request_id=request_id)

    courier = Courier(store, {"memory": adapter}, board_renderer=render)
    await stale_boards(store, BOARDS_PER_PASS + 50)
    await courier.refresh_boards()  # cheap boards: all of them fit in one pass
    assert len(adapter.edited) == len(set(adapter.edited)) == BOARDS_PER_PASS + 50
    assert await store.stale_boards() == []


async def test_a_post_whose_record_fails_is_recorded_again_not_posted_again(
    store: Store,
) -> None:
    """The database refuses to record a posted message once (another replica's lock past the
    store's lock wait, say): it is recorded on a later try, and posted once."""
    adapter = HoldingAdapter()
    mark_sent = store.mark_sent
    refused: list[int] = []

    async def refuse_once(outbox_id: int, ref: Any, **kw: Any) -> Any:
        if not refused:
            refused.append(outbox_id)
            raise RuntimeError("lock not available")
        return await mark_sent(outbox_id, ref, **kw)

    store.mark_sent = refuse_once  # type: ignore[method-assign]
    courier = Courier(store, {"memory": adapter})
    await queue(store, "T1", "first", "second")
    await courier.start()
    try:
        await until(lambda: len(adapter.texts("T1")) == 2)
        await courier.drain()
    finally:
        await courier.stop()
    assert refused and adapter.texts("T1") == ["first", "second"]
    assert [row["state"] for row in await outbox(store)] == ["sent", "sent"]
