"""The store itself: one thread of ours owning one `sqlite3` connection, and the group
commit that lets a burst of transactions share one hop to that thread and one COMMIT."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bot.store.base import Dialect, Row
from bot.store.migrate import SchemaTooNew, owner_only, prepare

if TYPE_CHECKING:
    from bot.store import Tx

T = TypeVar("T")
_Call = tuple["asyncio.Future[Any]", Callable[[], Any]]


class StoreError(ValueError):
    """The database cannot be used; the message is one line for the person running Dispatch."""


def _why(exc: BaseException) -> str:
    """SQLite's reason, in the words of someone who chose the file."""
    text = str(exc)
    if "not a database" in text:
        return "it is not a SQLite database (file is not a database)"
    if "readonly" in text or "read-only" in text:
        return "it is read-only (attempt to write a readonly database)"
    return text or type(exc).__name__


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # its caller was cancelled
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _DatabaseThread:
    """Runs functions, one at a time, on a thread that alone uses the connection, and hands
    each outcome back to the event loop that asked. Like aiosqlite's worker, minus the
    cursor wrappers: the store only ever sends whole functions."""

    def __init__(self) -> None:
        self._calls: SimpleQueue[_Call | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="store-db")
        self._thread.start()

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn = call
            try:
                outcome: tuple[bool, Any] = (True, fn())
            except BaseException as exc:  # handed to the caller
                outcome = (False, exc)
            with contextlib.suppress(RuntimeError):  # its loop has closed: nobody waits
                future.get_loop().call_soon_threadsafe(_settle, future, *outcome)

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._calls.put((future, fn))
        return future

    def stop(self) -> None:
        """The thread ends after the calls already queued."""
        self._calls.put(None)


def run_batch(
    conn: sqlite3.Connection, bodies: list[Callable[[Tx], Any]], tx: Tx
) -> list[tuple[bool, Any]]:
    """One transaction for several bodies; a body that raises is undone alone."""
    outcomes: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for body in bodies:
            conn.execute("SAVEPOINT body")
            try:
                value = body(tx)
            except Exception as exc:
                conn.execute("ROLLBACK TO body")
                outcomes.append((False, exc))
            else:
                outcomes.append((True, value))
            conn.execute("RELEASE body")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


class StoreCore:
    """A single connection on a thread of its own; multi-statement changes run in one
    transaction. The verbs (`bot.store.Tx`) and the async queries come from subclasses."""

    tx_type: ClassVar[type[Tx]]
    _run_batch = staticmethod(run_batch)
    _failures: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)
    dialect: ClassVar[type[Dialect]] = Dialect

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._thread: _DatabaseThread | None = None
        self._connection: Any = None
        self._pending: list[tuple[Callable[[Tx], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self.replica = ""
        """This process's replica id, once it has registered (see `bot.replicas`)."""

    async def open(self) -> StoreCore:
        """Open (or create) the database, or raise StoreError with one line saying why not.

        A file that cannot be used fails here, not at the first write: not SQLite, a
        directory, or read-only. The connection is closed on failure, since its thread would
        otherwise keep the process alive."""
        failures: tuple[type[BaseException], ...] = (*self._failures, OSError, SchemaTooNew)
        try:
            await self._open()
        except failures as exc:
            with contextlib.suppress(Exception):
                await self.close()
            raise StoreError(f"{self.where}: cannot use the database: {_why(exc)}") from None
        return self

    @property
    def where(self) -> str:
        """The database, as a message to whoever runs Dispatch names it."""
        return str(self.path)

    async def _open(self) -> None:
        if self.path.is_dir():
            raise IsADirectoryError("it is a directory")
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        owner_only(self.path)
        self._thread = _DatabaseThread()
        path = self.path
        self._connection = await self._thread.run(
            lambda: sqlite3.connect(path, isolation_level=None)
        )
        await self._on_db_thread(lambda: prepare(self._conn()))

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        thread, self._thread = self._thread, None
        if thread is None:
            return
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                await thread.run(connection.close)
        finally:
            thread.stop()

    def _conn(self) -> Any:
        if self._connection is None:
            raise RuntimeError("store is not open")
        return self._connection

    async def _on_db_thread(self, fn: Callable[[], T]) -> T:
        if self._thread is None:
            raise RuntimeError("store is not open")
        return await self._thread.run(fn)

    # -- primitives -------------------------------------------------------------------------

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        # One hop to the database thread (execute, fetch and close together), not three.
        tx, values = self.tx_type(self._conn()), tuple(params)
        return await self._on_db_thread(lambda: tx.all(sql, values))

    async def transact(self, body: Callable[[Tx], T]) -> T:
        """Run `body` in a transaction on the database thread; return once it is committed.

        Group commit: bodies submitted while a commit is under way run together in the
        next one (BEGIN IMMEDIATE … COMMIT), each in a savepoint of its own, so one that
        raises is rolled back alone and its caller gets the exception. A commit costs more
        than a whole small transaction's statements, and each hop to the database thread
        costs more CPU than a statement, so a burst of requests shares both. `body` runs
        on the database thread: it must not touch the event loop."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((body, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending(), name="store-commit")
        result: T = await future
        return result

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            conn = self._conn()
            try:
                outcomes = await self._on_db_thread(
                    functools.partial(
                        self._run_batch,
                        conn,
                        [body for body, _ in batch],
                        self.tx_type(conn, self.replica),
                    )
                )
            except BaseException as exc:  # the commit itself failed: nothing was written
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def read(self, body: Callable[[Tx], T]) -> T:
        """Run several reads in one hop to the database thread."""
        tx = self.tx_type(self._conn())
        return await self._on_db_thread(lambda: body(tx))

    async def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        return await self.transact(lambda tx: tx.changed(sql, params))
