"""The store on PostgreSQL, for replicas that share one database.

The same verbs run here as on SQLite: each transaction is a function sent to a thread that
owns one psycopg connection, and bursts share one COMMIT (group commit). What differs is in
`PgDialect` (list parameters, JSON, task numbers) and in three statements' marks, which
`_marks` rewrites once per statement. Replicas learn of each other's changes by
LISTEN/NOTIFY (`Listener`) and elect one Discord gateway with an advisory lock (`Election`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from bot.store import Store, Tx
from bot.store.base import Dialect, redacted
from bot.store.core import StoreCore, _DatabaseThread
from bot.store.migrate import migrations, newest, too_new

log = logging.getLogger(__name__)

CHANNEL = "dispatch"
"""The NOTIFY channel: a committed change, named by the replica that made it."""
PUSH_CHANNEL = "dispatch_push"
"""An A2A push one replica received, for whichever replica follows that task."""
MIGRATION_LOCK = 0x44_49_53_50_01
"""Advisory lock keys ('DISP' and a number), held while migrating and by the gateway."""
GATEWAY_LOCK = 0x44_49_53_50_02
LOCK_WAIT = 10.0
"""Seconds a statement waits for a row or lock another transaction holds, then fails. A
replica stopped in the middle of a transaction (a stalled or suspended process) holds its
locks until it goes on or its connection closes: without a bound, this replica's one
database thread, and with it everything this replica does, would wait for it."""
RETRIED = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
"""Errors that mean another replica got there first: the body runs again, alone."""


class PgDialect(Dialect):
    name = "postgres"
    shared = True
    NEXT_TASK_NUMBER = "nextval('task_seq')"

    @staticmethod
    def in_list(expr: str) -> str:
        return f"{expr} = ANY(?)"

    @staticmethod
    def listed(values: Iterable[Any]) -> Any:
        return list(values)

    @staticmethod
    def json_text(expr: str, key: str) -> str:
        return f"({expr}::json ->> '{key}')"


class PgRow(tuple[Any, ...]):
    """A row read by column name or position, like `sqlite3.Row`."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    """The row class of a result's columns, read off the raw result: building the cursor's
    `description` and a new class for every statement cost more CPU than most statements."""
    result = cursor.pgresult
    count = result.nfields if result is not None else 0
    return _row_kind(tuple(result.fname(i) or b"" for i in range(count)))


@lru_cache(maxsize=512)
def _row_kind(names: tuple[bytes, ...]) -> type[PgRow]:
    columns = {name.decode("utf-8", "replace"): i for i, name in enumerate(names)}
    return type("Row", (PgRow,), {"_names": columns})


_MARK = re.compile(r"'[^']*'|\"[^\"]*\"|\?|%")


@lru_cache(maxsize=1024)
def _marks(sql: str) -> str:
    """`?` marks as psycopg's `%s` (not inside quotes), and every literal `%` doubled."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return "%s" if token == "?" else token.replace("%", "%%")

    return _MARK.sub(swap, sql)


def _value(value: Any) -> Any:
    if isinstance(value, bool):  # flags are INTEGER columns, as in SQLite
        return int(value)
    if isinstance(value, str) and "\x00" in value:  # text may not hold NUL in PostgreSQL
        return value.replace("\x00", "\ufffd")
    return value


def _values(params: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(_value(v) for v in params)


class PgTx(Tx):
    dialect = PgDialect
    pipeline: Any = None
    """The connection's pipeline while a batch runs in one (see `run_batch_pg`)."""

    def lock_session(self, agent: str, session_key: str) -> None:
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (f"{agent}\x1f{session_key}",)
        )

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.conn.execute(_marks(sql), _values(params))

    def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        self.conn.cursor().executemany(_marks(sql), [_values(row) for row in rows])

    def changed(self, sql: str, params: Iterable[Any] = ()) -> int:
        cursor = self.execute(sql, params)
        if self.pipeline is not None:  # a count arrives with its result, not before
            self.pipeline.sync()
        count: int = cursor.rowcount
        return count


class _Contended(Exception):
    """A body lost a deadlock (or a serialization) race inside a shared transaction."""


class _Replay(Exception):
    """A statement failed in a pipelined batch: which body it belonged to is not known."""


def run_batch_pg(conn: Any, bodies: list[Callable[[Tx], Any]], tx: Tx) -> list[tuple[bool, Any]]:
    """One transaction for several bodies, each in a savepoint; the commit notifies the
    other replicas.

    The batch first runs in pipeline mode: a statement whose result nobody reads (most
    writes, the savepoints) goes out without a round trip of its own, and the next read
    collects it. A failed statement surfaces at that next read, perhaps in a later body,
    so then the whole batch is undone and runs again without the pipeline, where each
    body's failure is its own. If a body loses a deadlock with another replica, the locks
    the bodies before it took are what the other waits for: the whole batch is undone and
    each body runs again in a transaction of its own."""
    assert isinstance(tx, PgTx)
    try:
        return _pipelined(conn, bodies, tx)
    except _Replay:
        pass
    try:
        return _together(conn, bodies, tx)
    except _Contended:
        return [_alone(conn, body, tx) for body in bodies]


def _pipelined(conn: Any, bodies: list[Callable[[Tx], Any]], tx: PgTx) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    try:
        with conn.pipeline() as pipeline:
            tx.pipeline = pipeline
            with conn.transaction():
                for body in bodies:
                    # Savepoints by hand: psycopg's nested `transaction()` syncs the pipeline
                    # as it enters and leaves, a round trip or two for every body.
                    conn.execute("SAVEPOINT body")
                    try:
                        outcomes.append((True, body(tx)))
                    except psycopg.Error:
                        raise
                    except Exception as exc:  # the body's own: its savepoint is undone
                        conn.execute("ROLLBACK TO SAVEPOINT body")
                        outcomes.append((False, exc))
                    conn.execute("RELEASE SAVEPOINT body")
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, tx.replica))
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise
        raise _Replay from exc
    finally:
        tx.pipeline = None
    return outcomes


def _together(conn: Any, bodies: list[Callable[[Tx], Any]], tx: Tx) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    with conn.transaction():
        for body in bodies:
            try:
                with conn.transaction():
                    outcomes.append((True, body(tx)))
            except RETRIED as exc:
                raise _Contended from exc
            except Exception as exc:
                outcomes.append((False, exc))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, tx.replica))
    return outcomes


def _alone(conn: Any, body: Callable[[Tx], Any], tx: Tx) -> tuple[bool, Any]:
    for attempt in range(5):
        try:
            with conn.transaction():
                value = body(tx)
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, tx.replica))
            return True, value
        except RETRIED as exc:
            if attempt == 4:
                return False, exc
            time.sleep(0.01 * 2**attempt * (1 + random.random()))
        except Exception as exc:
            return False, exc
    raise AssertionError("unreachable")


def _connect(url: str, lock_wait: float) -> Any:
    given = conninfo_to_dict(url).get("options") or ""  # the URL's own options stay
    options = f"{given} -c lock_timeout={round(lock_wait * 1000)}".strip()
    return psycopg.connect(
        url, autocommit=True, row_factory=_rows, connect_timeout=10, options=options
    )


def prepare_pg(conn: Any) -> None:
    """Bring the schema to date under an advisory lock: two replicas starting together
    migrate once, the second finding the work done."""
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = 0")  # another replica's migration: wait it out
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version").fetchone()
        version = int(row["v"])
        if version > newest("postgres"):
            raise too_new(version, "postgres")
        for number, script in migrations("postgres"):
            if number > version:
                conn.execute(script)
                conn.execute("INSERT INTO schema_version(version) VALUES (%s)", (number,))


class PostgresCore(StoreCore):
    """A connection on a thread of its own, as on SQLite, to a server several replicas share."""

    dialect = PgDialect
    _run_batch = staticmethod(run_batch_pg)
    _failures = (psycopg.Error,)

    def __init__(self, url: str, *, lock_wait: float = LOCK_WAIT) -> None:
        super().__init__(".")
        self.url = url
        self.lock_wait = lock_wait

    @property
    def where(self) -> str:
        return redacted(self.url)

    async def _open(self) -> None:
        self._thread = _DatabaseThread()
        url, lock_wait = self.url, self.lock_wait
        self._connection = await self._thread.run(lambda: _connect(url, lock_wait))
        await self._on_db_thread(lambda: prepare_pg(self._conn()))


class Listener:
    """Wakes this replica when another commits a change (LISTEN/NOTIFY); reconnects after a
    lost connection, with the caller's polling as the back-stop meanwhile."""

    def __init__(
        self, url: str, me: str, wake: Callable[[], None], pushed: Callable[[str], None]
    ) -> None:
        self.url, self.me, self.wake, self.pushed = url, me, wake, pushed
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="pg-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await conn.execute(f"LISTEN {PUSH_CHANNEL}")
                    delay = 0.2
                    self.wake()  # whatever was missed while not listening
                    async for note in conn.notifies():
                        if note.channel == PUSH_CHANNEL:
                            self.pushed(note.payload)
                        elif note.payload != self.me:
                            self.wake()
            except psycopg.Error as exc:
                log.warning("listening for other replicas failed (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class Heart:
    """Heartbeats from a thread with a connection of its own, so a replica whose event loop
    or store queue is slow for a moment (a burst, a model loading) is not taken for dead and
    its work taken over while it still does it. It beats only while `alive()` says the
    event loop still turns, so a wedged replica does lose its work."""

    def __init__(self, url: str, replica: str, every: float, alive: Callable[[], bool]) -> None:
        self.url, self.replica, self.every, self.alive = url, replica, every, alive
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        conn: Any = None
        while not self._stop.wait(self.every):
            if not self.alive():
                continue
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                PgTx(conn).heartbeat(self.replica, time.time())
            except psycopg.Error as exc:
                log.warning("heartbeat failed (%s); trying again", exc)
                conn = None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()


class Election:
    """One replica at a time holds `key` (an advisory lock on a connection of its own): the
    Discord gateway runs where it is held. A dead holder's connection closes and the lock
    with it; the others try again every `every` seconds."""

    def __init__(self, url: str, key: int = GATEWAY_LOCK, every: float = 1.0) -> None:
        self.url, self.key, self.every = url, key, every
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def win(self) -> None:
        """Return once this replica holds the lock."""
        while True:
            with contextlib.suppress(psycopg.Error):
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                cur = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                row = await cur.fetchone()
                if row is not None and row[0]:
                    return
            await asyncio.sleep(self.every)

    async def held(self) -> None:
        """Return when the lock is lost (its connection broke). Waiting on the connection
        notices a server that closed it at once; the query each `every` seconds, a network
        that stopped answering."""
        while self._conn is not None and not self._conn.closed:
            try:
                async for _ in self._conn.notifies(timeout=self.every):
                    pass
                await self._conn.execute("SELECT 1")
            except psycopg.Error:
                break

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


class PgStore(PostgresCore, Store):
    """The store with every verb, on PostgreSQL."""

    tx_type = PgTx

    async def relay_push(self, key: str) -> None:
        """Tell every replica of a push for `key` (the one following that task looks)."""
        await self.transact(lambda tx: tx.execute("SELECT pg_notify(?, ?)", (PUSH_CHANNEL, key)))

    async def open(self) -> PgStore:
        await super().open()
        return self
