"""The test PostgreSQL server (tests/pgserver.py) is a real server, with what the store and the
Discord gateway election rely on: private databases, LISTEN/NOTIFY, and advisory locks that
are released when the holding connection goes away, however it goes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import psycopg
import pytest

from tests.pgserver import PostgresServer

LOCK_KEY = 911


async def connect(url: str) -> psycopg.AsyncConnection[tuple[object, ...]]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def one(
    conn: psycopg.AsyncConnection[tuple[object, ...]], query: str, *params: object
) -> object:
    row = await (await conn.execute(query, params or None)).fetchone()
    assert row is not None
    return row[0]


async def try_lock(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> object:
    return await one(conn, "SELECT pg_try_advisory_lock(%s)", LOCK_KEY)


async def wait_until_waiting_on_lock(
    observer: psycopg.AsyncConnection[tuple[object, ...]], pid: int
) -> None:
    """Until backend `pid` sits in a lock wait, as the server itself reports it."""
    for _ in range(1000):
        state = await one(
            observer,
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
            pid,
        )
        if state == "Lock":
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"backend {pid} never waited on the advisory lock")


async def wait_until_gone(observer: psycopg.AsyncConnection[tuple[object, ...]], pid: int) -> None:
    """Until backend `pid` has ended: a client's close returns before the server's backend
    has exited and given its locks back."""
    for _ in range(1000):
        if not await one(observer, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid):
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"backend {pid} never ended")


async def test_write_and_read_back(pg_url: str) -> None:
    async with await connect(pg_url) as conn:
        await conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
        await conn.execute("INSERT INTO notes (body) VALUES (%s), (%s)", ("first", "zweite ✓"))
        rows = await (await conn.execute("SELECT id, body FROM notes ORDER BY id")).fetchall()
    assert rows == [(1, "first"), (2, "zweite ✓")]


async def test_each_pg_url_is_its_own_database(
    postgres_server: PostgresServer, pg_url: str
) -> None:
    other_url = postgres_server.create_database()
    assert other_url != pg_url
    async with await connect(pg_url) as first, await connect(other_url) as second:
        await first.execute("CREATE TABLE only_here (x int)")
        assert await one(first, "SELECT current_database()") != await one(
            second, "SELECT current_database()"
        )
        assert await one(first, "SELECT to_regclass('only_here') IS NOT NULL") is True
        assert await one(second, "SELECT to_regclass('only_here') IS NOT NULL") is False
        assert await one(first, "SELECT current_setting('server_encoding')") == "UTF8"


async def test_listen_notify_reaches_another_connection(pg_url: str) -> None:
    async with await connect(pg_url) as listener, await connect(pg_url) as sender:
        await listener.execute("LISTEN outbox")
        await sender.execute("SELECT pg_notify('outbox', 'row 7')")
        got = [
            (n.channel, n.payload, n.pid) async for n in listener.notifies(timeout=30, stop_after=1)
        ]
        assert got == [("outbox", "row 7", sender.info.backend_pid)]


async def test_advisory_lock_blocks_until_the_holder_disconnects(pg_url: str) -> None:
    async with await connect(pg_url) as observer:
        holder = await connect(pg_url)
        waiter = await connect(pg_url)
        waiter_pid = waiter.info.backend_pid
        try:
            assert await try_lock(holder) is True
            assert await try_lock(waiter) is False
            blocked = asyncio.create_task(
                waiter.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            )
            await wait_until_waiting_on_lock(observer, waiter.info.backend_pid)
            assert not blocked.done()
            await holder.close()
            await asyncio.wait_for(blocked, timeout=30)
            # The waiter holds it now, so a third session is refused.
            assert await try_lock(observer) is False
        finally:
            await holder.close()
            await waiter.close()
        await wait_until_gone(observer, waiter_pid)
        assert await try_lock(observer) is True


async def test_advisory_lock_is_freed_when_the_holding_process_is_killed(pg_url: str) -> None:
    """A leader that dies without closing anything (SIGKILL) must still hand the lock over."""
    script = textwrap.dedent(
        f"""
        import sys, time, psycopg
        conn = psycopg.connect(sys.argv[1], autocommit=True)
        conn.execute("SELECT pg_advisory_lock({LOCK_KEY})")
        print(conn.info.backend_pid, flush=True)
        time.sleep(600)
        """
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", script, pg_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert leader.stdout is not None
        assert int(await asyncio.to_thread(leader.stdout.readline)) > 0
        async with await connect(pg_url) as observer, await connect(pg_url) as standby:
            assert await try_lock(standby) is False
            blocked = asyncio.create_task(
                standby.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            )
            await wait_until_waiting_on_lock(observer, standby.info.backend_pid)
            leader.kill()
            await asyncio.to_thread(leader.wait)
            await asyncio.wait_for(blocked, timeout=30)
            assert await try_lock(observer) is False
    finally:
        leader.kill()
        leader.wait()
