"""The store on a real PostgreSQL, and what replicas rely on: migrations run once under a
lock, a newer schema is refused, and claims (a delivery, a task, a dead replica's work, a
thread) go to exactly one of several stores racing for them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import psycopg
import pytest

from bot.store import Store, StoreError, ThreadKey, Tx, store_for
from bot.store.migrate import newest

KEY = ThreadKey("slack", "W1", "C1", "T1")


@pytest.fixture
async def pair(pg_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, as two replicas have: opened together."""
    first, second = await asyncio.gather(store_for(pg_url).open(), store_for(pg_url).open())
    first.replica, second.replica = "r1", "r2"
    yield first, second
    await first.close()
    await second.close()


def request_with_tasks(tx: Tx, *tasks: tuple[str, str, str]) -> None:
    """A running request with queued tasks: (id, agent, session kind) each."""
    tx.insert_request("req", KEY, "m1", "U1", "Ann", "text", False, "work", "running", None)
    tx.insert_tasks(
        [
            ((tid, "req", tid, agent, kind, "s", "{}", "queued", 1.0, ""), [])
            for tid, agent, kind in tasks
        ]
    )


def two_replicas(now: float) -> Callable[[Tx], None]:
    """Replicas r1 and r2, alive at `now`, and a running request to queue messages for."""

    def setup(tx: Tx) -> None:
        tx.register_replica("r1", "h", 1, now)
        tx.register_replica("r2", "h", 2, now)
        request_with_tasks(tx)

    return setup


async def test_two_replicas_starting_together_migrate_once(
    pair: tuple[Store, Store], pg_url: str
) -> None:
    with psycopg.connect(pg_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, newest("postgres") + 1))


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
async def test_a_schema_newer_than_this_dispatch_is_refused_in_one_line(
    store_kind: str, new_db: Callable[[str], str]
) -> None:
    target = new_db("newer")
    store = await store_for(target).open()
    await store.close()
    future = newest(store.dialect.name) + 1
    if store_kind == "postgres":
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_version(version) VALUES (%s)", (future,))
    else:
        import sqlite3

        with sqlite3.connect(target) as conn:
            conn.execute(f"PRAGMA user_version = {future}")
    with pytest.raises(StoreError) as refused:
        await store_for(target).open()
    message = str(refused.value)
    assert "\n" not in message
    assert f"schema is version {future}" in message and "upgrade Dispatch" in message


async def test_a_delivery_claimed_by_two_replicas_at_once_is_handled_once(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    for n in range(20):
        won = await asyncio.gather(first.claim_message(f"ev{n}"), second.claim_message(f"ev{n}"))
        assert sorted(won) == [False, True]


async def test_a_task_is_started_by_one_replica_and_a_main_session_runs_one_task(
    pair: tuple[Store, Store],
) -> None:
    first = pair[0]
    await first.transact(
        lambda tx: request_with_tasks(
            tx,
            ("t1", "dev", "persistent"),
            ("t2", "dev", "persistent"),
            ("t3", "image", "disposable"),
        )
    )
    claims = await asyncio.gather(
        *(
            store.transact(lambda tx, t=t: tx.claim_task(t))
            for store in pair
            for t in ("t1", "t2", "t3")
        )
    )
    by_task = {t: [claims[i], claims[i + 3]] for i, t in enumerate(("t1", "t2", "t3"))}
    assert sorted(by_task["t3"]) == [False, True]  # one replica starts it
    # One of dev's two tasks runs; its main session takes no second one meanwhile.
    assert sum(by_task["t1"]) + sum(by_task["t2"]) == 1
    rows = {r["id"]: (r["state"], r["owner"]) for r in await first.request_tasks("req")}
    assert sorted(state for state, _ in rows.values()) == ["queued", "running", "running"]
    assert {owner for state, owner in rows.values() if state == "running"} <= {"r1", "r2"}
    # The pump knows a disposable task's kind from the row it read: one statement claims it,
    # still once.
    await first.transact(
        lambda tx: tx.insert_tasks(
            [(("t4", "req", "t4", "image", "disposable", "s", "{}", "queued", 1.0, ""), [])]
        )
    )
    fast = await asyncio.gather(
        *(store.transact(lambda tx: tx.claim_task("t4", "disposable")) for store in pair)
    )
    assert sorted(fast) == [False, True]


async def test_a_dead_replicas_tasks_are_adopted_by_exactly_one_live_replica(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    now = time.time()

    def setup(tx: Tx) -> None:
        tx.register_replica("dead", "h", 1, now - 60)
        tx.register_replica("r1", "h", 2, now)
        tx.register_replica("r2", "h", 3, now)
        request_with_tasks(tx, *((f"t{i}", "image", "disposable") for i in range(10)))
        for i in range(10):
            tx.execute(
                "UPDATE tasks SET state = 'running', owner = 'dead' WHERE id = ?", (f"t{i}",)
            )

    await first.transact(setup)
    cutoff = now - 10
    adopted = await asyncio.gather(
        first.transact(lambda tx: tx.adopt_tasks("r1", cutoff)),
        second.transact(lambda tx: tx.adopt_tasks("r2", cutoff)),
    )
    ids = [row["id"] for rows in adopted for row in rows]
    assert sorted(ids) == sorted(f"t{i}" for i in range(10))  # each once, none twice
    # A live replica's tasks are not adopted.
    again = await second.transact(lambda tx: tx.adopt_tasks("r2", cutoff))
    assert again == []


async def test_a_thread_is_posted_into_by_one_replica_until_it_dies(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    now = time.time()
    await first.transact(lambda tx: tx.register_replica("r1", "h", 1, now))
    await first.transact(lambda tx: tx.register_replica("r2", "h", 2, now))
    cutoff = now - 10
    leased = await asyncio.gather(
        first.transact(lambda tx: tx.lease_thread("th", "r1", cutoff)),
        second.transact(lambda tx: tx.lease_thread("th", "r2", cutoff)),
    )
    assert sorted(leased) == [(False, False), (True, False)]  # one holder; nobody died
    holder, other = ("r1", "r2") if leased[0][0] else ("r2", "r1")
    assert await first.transact(lambda tx: tx.lease_thread("th", other, cutoff)) == (False, False)
    # The holder's heartbeat goes stale: its lease lapses, and the taker is told it may
    # have died mid-post.
    await first.transact(lambda tx: tx.heartbeat(holder, now - 60))
    assert await first.transact(lambda tx: tx.lease_thread("th", other, cutoff)) == (True, True)
    await first.transact(lambda tx: tx.release_thread("th", other))
    assert await first.transact(lambda tx: tx.lease_thread("th", holder, cutoff)) == (True, False)


async def test_a_message_just_queued_is_read_with_its_threads_lease(
    pair: tuple[Store, Store],
) -> None:
    """The head of a thread read in the transaction that queued it comes with the thread's
    lease, so the courier posts it with no transaction of its own first: unless a living
    replica holds the thread, whose delivery sends it after its own."""
    first, second = pair
    now = time.time()
    cutoff = now - 10

    await first.transact(two_replicas(now))

    def queue_and_read(thread: str, replica: str) -> Callable[[Tx], tuple[int, Any]]:
        def body(tx: Tx) -> tuple[int, Any]:
            queued = tx.enqueue("req", "ack", {"target": {"platform": "slack", "thread": thread}})
            assert queued is not None
            return queued, tx.thread_head_row(queued, (replica, cutoff))

        return body

    async def holder(thread: str) -> str | None:
        row = await first.one(
            "SELECT owner FROM thread_leases WHERE thread = ?", (f"slack|||{thread}|",)
        )
        return None if row is None else str(row["owner"])

    queued, head = await first.transact(queue_and_read("a", "r1"))
    assert head is not None and head["id"] == queued
    assert (head["leased"], head["held"], head["pending"]) == ("r1", None, 1)
    assert await holder("a") == "r1"
    # Behind it in the same thread: not the head, so no row, and the lease stays r1's.
    assert (await second.transact(queue_and_read("a", "r2")))[1] is None
    assert (await first.transact(queue_and_read("a", "r1")))[1] is None
    # A thread a living replica holds is not taken, even for a head.
    await first.transact(lambda tx: tx.lease_thread("slack|||b|", "r2", cutoff))
    assert (await first.transact(queue_and_read("b", "r1")))[1] is None
    assert await holder("b") == "r2"
    # A dead holder's thread is taken, and the row says from whom (it may have posted).
    await first.transact(lambda tx: tx.heartbeat("r2", now - 60))
    await first.transact(lambda tx: tx.execute("UPDATE outbox SET state = 'sent'"))
    _, head = await first.transact(queue_and_read("b", "r1"))
    assert head is not None and (head["leased"], head["held"]) == ("r1", "r2")
    assert await holder("b") == "r1"
    # Without a lease asked for (one process alone), the row is read as before.
    await first.transact(lambda tx: tx.execute("UPDATE outbox SET state = 'sent'"))
    queued = await first.transact(
        lambda tx: tx.enqueue("req", "ack", {"target": {"platform": "slack", "thread": "c"}})
    )
    assert queued is not None
    plain = await first.transact(lambda tx: tx.thread_head_row(queued))
    assert plain is not None and "leased" not in plain.keys()
    assert await holder("c") is None


async def test_a_thread_another_living_replica_holds_is_not_due_here(
    pair: tuple[Store, Store],
) -> None:
    """The courier does not keep asking for leases it would be refused: a held thread's
    messages are not due for the other replicas until the holder dies or lets go."""
    first, second = pair
    now = time.time()
    cutoff = now - 10

    def setup(tx: Tx) -> None:
        two_replicas(now)(tx)
        for thread in ("held", "free"):
            tx.execute(
                "INSERT INTO outbox(request_id, kind, thread, payload, created_at)"
                " VALUES ('req', 'ack', ?, '{}', ?)",
                (thread, now),
            )

    await first.transact(setup)
    assert await first.transact(lambda tx: tx.lease_thread("held", "r1", cutoff)) == (True, False)

    async def due(store: Store, replica: str) -> list[str]:
        rows = await store.due_heads(time.time(), leased=(replica, cutoff))
        return sorted(row["thread"] for row in rows)

    assert await due(first, "r1") == ["free", "held"]  # the holder still sends it
    assert await due(second, "r2") == ["free"]
    assert len(await second.due_heads(time.time())) == 2  # one process alone: every thread
    await first.transact(lambda tx: tx.heartbeat("r1", now - 60))  # the holder dies
    assert await due(second, "r2") == ["free", "held"]
    await first.transact(lambda tx: tx.heartbeat("r1", now))
    await first.transact(lambda tx: tx.release_thread("held", "r1"))  # or lets go
    assert await due(second, "r2") == ["free", "held"]


async def test_a_message_a_living_replica_queued_is_its_own_to_send(
    pair: tuple[Store, Store],
) -> None:
    """Each replica sends what it queued while it lives, so two replicas do not reach for
    one thread (and wait on each other's rows); a dead replica's messages go to the rest."""
    first, second = pair
    now = time.time()
    cutoff = now - 10
    first.replica, second.replica = "r1", "r2"

    await first.transact(two_replicas(now))
    await first.enqueue("req", "ack", {"target": {"platform": "slack", "thread": "a"}})
    await second.enqueue("req", "ack", {"target": {"platform": "slack", "thread": "b"}})

    async def due(store: Store, replica: str) -> list[str]:
        rows = await store.due_heads(time.time(), leased=(replica, cutoff))
        return sorted(row["thread"].split("|")[3] for row in rows)

    assert await due(first, "r1") == ["a"]
    assert await due(second, "r2") == ["b"]
    assert len(await second.due_heads(time.time())) == 2  # one process alone: every thread
    await first.transact(lambda tx: tx.heartbeat("r1", now - 60))  # r1 dies
    assert await due(second, "r2") == ["a", "b"]


async def test_an_a2a_push_that_reaches_another_replica_wakes_the_one_following_the_task(
    pair: tuple[Store, Store], pg_url: str
) -> None:
    from bot.callbacks import CallbackServer
    from bot.store.postgres import Listener, PgStore

    first, _ = pair
    assert isinstance(first, PgStore)
    key = b"k" * 32
    receiver, follower = CallbackServer(key), CallbackServer(key)
    receiver.relay = first.relay_push
    listening = asyncio.Event()
    listener = Listener(pg_url, "r2", listening.set, follower.poke)
    await receiver.start()
    listener.start()
    try:
        await asyncio.wait_for(listening.wait(), 30)
        watch = follower.watch_push("designer", "task-1")
        # The agent pushes to the shared public URL; the load balancer picks the receiver.
        url = watch.url.replace(follower.base_url, receiver.base_url)
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, json={"id": "task-1"})
        assert answer.status_code == 200
        await asyncio.wait_for(watch.pushed.wait(), 30)
    finally:
        await listener.stop()
        await receiver.stop()


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
async def test_bodies_committed_together_fail_alone(
    store_kind: str, new_db: Callable[[str], str]
) -> None:
    """Bodies that arrive together share one commit (on PostgreSQL, pipelined), yet each
    one's failure is its own: a body that raises, and one whose statement the database
    refuses, are undone alone; the others' writes, reads and counts are as if each ran by
    itself, and a later batch runs as usual."""
    store = await store_for(new_db("batch")).open()
    insert = "INSERT INTO processed_messages(key, at) VALUES (?, 0)"

    def fails_after_writing(tx: Tx) -> None:
        tx.execute(insert, ("b",))
        raise ValueError("the body's own error")

    def refused(tx: Tx) -> None:
        tx.execute(insert, ("c",))
        tx.execute(insert, ("a",))  # written by the first body of this batch: not unique

    def reads(tx: Tx) -> tuple[bool, int, list[str]]:
        again = tx.claim("a")
        count = tx.changed("UPDATE processed_messages SET at = 1 WHERE key IN ('a', 'd')")
        keys = tx.all("SELECT key FROM processed_messages ORDER BY key")
        return again, count, [row["key"] for row in keys]

    try:
        outcomes = await asyncio.gather(
            store.transact(lambda tx: tx.claim("a")),
            store.transact(fails_after_writing),
            store.transact(refused),
            store.transact(lambda tx: tx.claim("d")),
            store.transact(reads),
            return_exceptions=True,
        )
        assert outcomes[0] is True
        assert isinstance(outcomes[1], ValueError)
        assert isinstance(outcomes[2], Exception) and "unique" in str(outcomes[2]).lower()
        assert outcomes[3] is True
        assert outcomes[4] == (False, 2, ["a", "d"])
        rows = await store.all("SELECT key, at FROM processed_messages ORDER BY key")
        assert [(row["key"], row["at"]) for row in rows] == [("a", 1), ("d", 1)]
        later = await asyncio.gather(*(store.transact(lambda tx, k=k: tx.claim(k)) for k in "ae"))
        assert later == [False, True]
        # With no statement refused the batch is not run again (on PostgreSQL it stays in
        # the pipeline, its savepoints sent by hand): the body that raised is still undone
        # alone, between two that are not.
        alone = await asyncio.gather(
            store.transact(lambda tx: tx.claim("f")),
            store.transact(fails_after_writing),
            store.transact(lambda tx: tx.claim("g")),
            return_exceptions=True,
        )
        assert alone[0] is True and isinstance(alone[1], ValueError) and alone[2] is True
        rows = await store.all("SELECT key FROM processed_messages ORDER BY key")
        assert [row["key"] for row in rows] == ["a", "d", "e", "f", "g"]
    finally:
        await store.close()


async def test_a_lock_a_stalled_replica_holds_fails_one_write_and_stalls_nothing(
    pg_url: str,
) -> None:
    """Another replica stopped in the middle of a transaction holds what it wrote until it
    goes on (here: a delivery it is taking in, which the same delivery here must wait for). The
    write that waits fails after the store's lock wait; the writes beside it (in the same
    group commit, or after it) are committed."""
    from bot.store.postgres import PgStore

    # The URL's own options are kept beside the lock wait.
    store = await PgStore(f"{pg_url}?options=-c%20application_name%3Dr1", lock_wait=0.5).open()
    stalled = await psycopg.AsyncConnection.connect(pg_url)
    try:
        names = await store.all("SELECT current_setting('application_name') AS a")
        assert names[0]["a"] == "r1"
        await stalled.execute("INSERT INTO processed_messages(key, at) VALUES ('slack:E1', 0)")
        held = store.transact(lambda tx: tx.claim("slack:E1"))
        beside = store.transact(lambda tx: tx.claim("slack:E2"))
        outcomes = await asyncio.wait_for(
            asyncio.gather(held, beside, return_exceptions=True), timeout=60
        )
        assert isinstance(outcomes[0], psycopg.errors.LockNotAvailable), outcomes
        assert outcomes[1] is True
        assert await store.transact(lambda tx: tx.claim("slack:E3")) is True
        rows = await store.all("SELECT key FROM processed_messages ORDER BY key")
        assert [r["key"] for r in rows] == ["slack:E2", "slack:E3"]
    finally:
        await stalled.rollback()
        await stalled.close()
        await store.close()
