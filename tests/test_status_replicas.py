"""`dispatch status --replicas` through the real command line, on SQLite and on a real
PostgreSQL where replicas were registered with the store's own verbs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from bot.store import ThreadKey, Tx, store_for
from tests.conftest import both_stores
from tests.test_cli import run_cli

store_kind = both_stores


async def register(db: str, replica: str, *, beat_ago: float, tasks: int, threads: int) -> None:
    """A replica on record, its heartbeat `beat_ago` seconds old, owning running tasks (each
    of its own request) and thread leases."""
    store = await store_for(db).open()
    try:
        store.replica = replica
        now = time.time()
        await store.transact(
            lambda tx: tx.register_replica(replica, f"host-{replica}", 4000 + len(replica), now)
        )
        await store.transact(lambda tx: tx.heartbeat(replica, now - beat_ago))
        for n in range(tasks):
            request, task = f"req-{replica}-{n}", f"req-{replica}-{n}/t1"
            key = ThreadKey("console", "local", "c", f"{replica}-{n}")

            def work(
                tx: Tx, request: str = request, task: str = task, key: ThreadKey = key
            ) -> bool:
                tx.insert_request(
                    request, key, "m", "alice", None, "x", False, "work", "running", None
                )
                tx.insert_tasks(
                    [(
                        (task, request, "t1", "writer", "disposable", "x", "", "queued", now, ""),
                        [],
                    )]
                )  # fmt: skip
                return tx.claim_task(task)

            assert await store.transact(work)
        for n in range(threads):
            thread = f"{replica}-lease-{n}"
            assert await store.transact(lambda tx, t=thread: tx.lease_thread(t, replica, 0.0))
    finally:
        await store.close()


async def stop(db: str, replica: str) -> None:
    store = await store_for(db).open()
    try:
        await store.transact(lambda tx: tx.stop_replica(replica, time.time()))
    finally:
        await store.close()


def lines_of(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines()[1:] if line.startswith("  host-")}


async def test_status_lists_each_replica_its_state_and_what_it_owns(
    tmp_path: Path, new_db: Callable[[str], str], store_kind: str
) -> None:
    db = new_db("replicas")
    await register(db, "a", beat_ago=0.0, tasks=2, threads=1)
    await register(db, "b", beat_ago=120.0, tasks=1, threads=0)
    await register(db, "c", beat_ago=0.0, tasks=0, threads=0)
    await stop(db, "c")

    run = run_cli(tmp_path, "status", "--replicas", "--db", db)
    assert run.returncode == 0, run
    assert "Traceback" not in run.stderr, run
    head, *_ = run.stdout.splitlines()
    rows = lines_of(run.stdout)
    assert list(rows) == ["host-c", "host-b", "host-a"], run  # newest first
    assert "owns 2 tasks, 1 thread" in rows["host-a"]
    assert "owns 1 task, 0 threads" in rows["host-b"]
    assert "owns 0 tasks, 0 threads" in rows["host-c"]
    assert "stopped " in rows["host-c"]
    for line in rows.values():
        assert " pid " in line and "started " in line
    if store_kind == "postgres":
        assert head.startswith("3 replicas on record; one is dead after 10.0s"), run
        assert ": alive;" in rows["host-a"]
        assert ": dead " in rows["host-b"]
        assert re.search(r"heartbeat 2m\d\ds ago", rows["host-b"]), rows["host-b"]
        assert "postgresql://" not in run.stdout  # nothing names the server or its password
    else:
        assert head.startswith("3 runs on record (SQLite"), run
        assert "not stopped" in rows["host-a"] and "not stopped" in rows["host-b"]
        assert not any("heartbeat" in line for line in rows.values())

    # A shorter bound makes the quiet replica's neighbour dead too, and the setting is read.
    if store_kind == "postgres":
        quick = run_cli(
            tmp_path,
            "status",
            "--replicas",
            "--db",
            db,
            env={"DISPATCH_REPLICA_DEAD_AFTER": "0.001"},
        )
        assert quick.returncode == 0, quick
        assert ": dead " in lines_of(quick.stdout)["host-a"], quick


def test_status_replicas_without_a_database_says_so(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "status", "--replicas", "--db", str(tmp_path / "none.db"))
    assert run.returncode == 0, run
    assert run.stdout.startswith("No replica on record yet"), run
    assert not (tmp_path / "none.db").exists()
