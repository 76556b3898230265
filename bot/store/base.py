"""What every part of the store shares: the row type, a thread's key, ids, JSON, the
dialect a statement is written for, and the three primitives the verbs are written in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit


class Row(Protocol):
    """A result row, read by column name (or position): `sqlite3.Row`, or the store's own
    row on PostgreSQL."""

    def __getitem__(self, key: str | int, /) -> Any: ...

    def keys(self) -> list[str]: ...


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class ThreadKey:
    platform: str
    workspace: str
    channel: str
    thread: str


class Dialect:
    """Where SQLite and PostgreSQL differ inside a statement; each store has one. The
    statements are written once, with `?` marks and these fragments."""

    name: ClassVar[str] = "sqlite"
    shared: ClassVar[bool] = False
    """Several processes may use the database at once (replicas). SQLite is embedded: one
    process owns the file, so whatever else the records name is dead."""

    NEXT_TASK_NUMBER: ClassVar[str] = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks)"
    """The next task's number, in order of insertion (unique: tasks_by_seq)."""

    @staticmethod
    def in_list(expr: str) -> str:
        """`expr` is one of the values of a list parameter (see `listed`)."""
        return f"{expr} IN (SELECT value FROM json_each(?))"  # noqa: S608

    @staticmethod
    def listed(values: Iterable[Any]) -> Any:
        return json.dumps(list(values))

    @staticmethod
    def json_text(expr: str, key: str) -> str:
        """The text at `key` of the JSON object in column `expr`; `key` comes from code."""
        return f"json_extract({expr}, '$.{key}')"


class TxBase:
    """Statements run synchronously on the database thread: a whole transaction (or a group
    of reads) costs one hop from the event loop, however many statements it holds."""

    dialect: ClassVar[type[Dialect]] = Dialect

    def __init__(self, conn: Any, replica: str = "") -> None:
        self.conn = conn
        self.replica = replica
        """The replica whose transaction this is (named in the wake-up it causes)."""

    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(params))

    def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """One statement for several rows, in order: one call, not one a row."""
        self.conn.executemany(sql, [tuple(row) for row in rows])

    def changed(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a change and return how many rows it changed (its result is awaited)."""
        count: int = self.execute(sql, params).rowcount
        return count

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        rows: list[Row] = self.execute(sql, params).fetchall()
        return rows

    def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        row: Row | None = self.execute(sql, params).fetchone()
        return row


def redacted(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname or ''}"
    return urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None
