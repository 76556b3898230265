"""SQLite state: every request, task, dependency, session, delivery and processed message.

The dispatcher writes a state change here before it causes the side effect, so a restart
can always tell what was promised and what was done. Every statement is parametrized.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import sqlite3
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
Row = sqlite3.Row

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id           TEXT PRIMARY KEY,
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    thread       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    user         TEXT NOT NULL,
    user_name    TEXT,
    text         TEXT NOT NULL,
    is_dm        INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'received',
    state        TEXT NOT NULL,
    decision     TEXT,
    question     TEXT,
    parent_id    TEXT REFERENCES requests(id),
    round        INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX IF NOT EXISTS requests_by_thread
    ON requests(platform, workspace, channel, thread, created_at);
CREATE INDEX IF NOT EXISTS requests_by_user ON requests(user, state);
CREATE INDEX IF NOT EXISTS requests_by_user_time ON requests(user, created_at);
CREATE INDEX IF NOT EXISTS requests_finished ON requests(finished_at) WHERE state = 'done';
CREATE INDEX IF NOT EXISTS requests_open ON requests(state) WHERE state IN ('running', 'clarifying');

CREATE TABLE IF NOT EXISTS tasks (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL REFERENCES requests(id),
    spec_id        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    agent          TEXT NOT NULL,
    session_kind   TEXT NOT NULL,
    session_id     TEXT REFERENCES sessions(id),
    summary        TEXT NOT NULL,
    brief          TEXT NOT NULL,
    state          TEXT NOT NULL,
    remote_task_id TEXT,
    question       TEXT,
    result         TEXT,
    files          TEXT,
    error          TEXT,
    created_at     REAL NOT NULL,
    started_at     REAL,
    finished_at    REAL,
    deadline       REAL,
    attempt        INTEGER NOT NULL DEFAULT 0,
    session_key    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tasks_by_request ON tasks(request_id);
CREATE INDEX IF NOT EXISTS tasks_active ON tasks(state, seq)
    WHERE state IN ('waiting', 'queued', 'running', 'input_required');
CREATE INDEX IF NOT EXISTS tasks_by_agent ON tasks(agent, state);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_seq ON tasks(seq);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(session_kind, agent, seq) WHERE state = 'queued';


CREATE TABLE IF NOT EXISTS task_deps (
    task_id    TEXT NOT NULL REFERENCES tasks(id),
    depends_on TEXT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (task_id, depends_on)
);
CREATE INDEX IF NOT EXISTS task_deps_reverse ON task_deps(depends_on);

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    context_id   TEXT,
    created_at   REAL NOT NULL,
    last_used_at REAL,
    discarded_at REAL,
    scope        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_scoped ON sessions(agent, scope) WHERE kind = 'persistent';

CREATE TABLE IF NOT EXISTS processed_messages (
    key TEXT PRIMARY KEY,
    at  REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    thread    TEXT NOT NULL,
    author    TEXT NOT NULL,
    role      TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_thread ON history(platform, workspace, channel, thread, id);

CREATE TABLE IF NOT EXISTS outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests(id),
    task_id    TEXT REFERENCES tasks(id),
    kind       TEXT NOT NULL,
    thread     TEXT NOT NULL DEFAULT '',
    dedupe     TEXT UNIQUE,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    ref        TEXT,
    created_at REAL NOT NULL,
    sent_at    REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, next_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_by_request ON outbox(request_id, kind);
CREATE INDEX IF NOT EXISTS outbox_heads ON outbox(thread, id) WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS agent_cards (
    agent      TEXT PRIMARY KEY,
    card       TEXT,
    fetched_at REAL,
    available  INTEGER NOT NULL DEFAULT 1,
    reason     TEXT
);

CREATE TABLE IF NOT EXISTS lessons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    text       TEXT NOT NULL,
    agent      TEXT NOT NULL,
    wrong      TEXT,
    user       TEXT,
    created_at REAL NOT NULL,
    platform   TEXT,
    workspace  TEXT,
    shared     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS lessons_by_user ON lessons(user, id);

CREATE TABLE IF NOT EXISTS plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id      TEXT,
    planner         TEXT NOT NULL,
    model           TEXT,
    fallback_reason TEXT,
    repaired        INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    latency_ms      REAL NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS boards (
    request_id TEXT PRIMARY KEY REFERENCES requests(id),
    ref        TEXT,
    version    INTEGER NOT NULL DEFAULT 0,
    shown      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS boards_stale ON boards(request_id) WHERE version > shown;
"""

ADDED_COLUMNS = (
    ("tasks", "session_key", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "scope", "TEXT NOT NULL DEFAULT ''"),
    ("lessons", "platform", "TEXT"),
    ("lessons", "workspace", "TEXT"),
    ("lessons", "shared", "INTEGER NOT NULL DEFAULT 0"),
)
"""Columns added after a table's first release: (table, column, declaration). A database
made by an older version gets each one it lacks before `SCHEMA` runs (its indexes may
use them); a new database gets them from `SCHEMA` itself. Never remove an entry."""
DROPPED_INDEXES = ("sessions_main",)
"""Indexes an older version created that the current schema replaces."""


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


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class ThreadKey:
    platform: str
    workspace: str
    channel: str
    thread: str


ENQUEUE_SQL = (
    "INSERT OR IGNORE INTO outbox(request_id, task_id, kind, thread, dedupe, payload,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
HISTORY_SQL = (
    "INSERT INTO history(platform, workspace, channel, thread, author, role, text, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
BUMP_BOARD_SQL = (
    "INSERT INTO boards(request_id, version) VALUES (?, 1)"
    " ON CONFLICT(request_id) DO UPDATE SET version = version + 1"
)


class Tx:
    """Statements run synchronously on the database thread: a whole transaction (or a group
    of reads) costs one hop from the event loop, however many statements it holds."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, tuple(params))

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, tuple(params)).fetchone()
        return row

    def task(self, task_id: str) -> Row | None:
        return self.one("SELECT * FROM tasks WHERE id = ?", (task_id,))

    def request(self, request_id: str) -> Row | None:
        return self.one("SELECT * FROM requests WHERE id = ?", (request_id,))

    def request_tasks(self, request_id: str) -> list[Row]:
        return self.all("SELECT * FROM tasks WHERE request_id = ? ORDER BY seq", (request_id,))

    def dependencies(self, task_id: str) -> list[Row]:
        return self.all(
            "SELECT t.* FROM task_deps d JOIN tasks t ON t.id = d.depends_on"
            " WHERE d.task_id = ? ORDER BY t.seq",
            (task_id,),
        )

    def dependents(self, task_id: str) -> list[Row]:
        return self.all(
            "SELECT t.* FROM task_deps d JOIN tasks t ON t.id = d.task_id"
            " WHERE d.depends_on = ? ORDER BY t.seq",
            (task_id,),
        )

    def thread_requests(self, key: ThreadKey) -> list[Row]:
        return self.all(
            "SELECT * FROM requests WHERE platform = ? AND workspace = ? AND channel = ?"
            " AND thread = ? ORDER BY created_at",
            (key.platform, key.workspace, key.channel, key.thread),
        )

    def thread_tasks(self, key: ThreadKey) -> list[Row]:
        return self.all(
            "SELECT t.* FROM tasks t JOIN requests r ON r.id = t.request_id"
            " WHERE r.platform = ? AND r.workspace = ? AND r.channel = ? AND r.thread = ?"
            " ORDER BY t.seq",
            (key.platform, key.workspace, key.channel, key.thread),
        )

    def recent_history(self, key: ThreadKey, limit: int) -> list[Row]:
        rows = self.all(
            "SELECT * FROM history WHERE platform = ? AND workspace = ? AND channel = ? AND thread = ?"
            " ORDER BY id DESC LIMIT ?",
            (key.platform, key.workspace, key.channel, key.thread, limit),
        )
        return list(reversed(rows))

    def thread_head_row(self, outbox_id: int) -> Row | None:
        """Message `outbox_id` as the courier reads it, if it is the oldest pending one of
        its conversation (so it may go out now without passing anything queued before it)."""
        return self.one(
            "SELECT o.*, (SELECT COUNT(*) FROM outbox WHERE thread = o.thread AND state ="
            " 'pending') AS pending, (SELECT result FROM tasks WHERE id = o.task_id) AS"
            " task_result FROM outbox o WHERE o.id = ? AND o.state = 'pending' AND o.id ="
            " (SELECT MIN(id) FROM outbox WHERE thread = o.thread AND state = 'pending')",
            (outbox_id,),
        )

    def enqueue(
        self,
        request_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        task_id: str | None = None,
        dedupe: str | None = None,
    ) -> int | None:
        """Queue one message for delivery. A repeated `dedupe` key queues nothing (None).

        `thread` keeps messages to one conversation in order without reading payloads."""
        target = payload.get("target") or {}
        thread = "|".join(
            str(target.get(k) or "") for k in ("platform", "workspace", "channel", "thread", "user")
        )
        cursor = self.execute(
            ENQUEUE_SQL,
            (request_id, task_id, kind, thread, dedupe, json.dumps(payload), time.time()),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def bump_board(self, request_id: str) -> None:
        """Mark a request's status board stale; the courier redraws it (coalesced)."""
        self.execute(BUMP_BOARD_SQL, (request_id,))

    def main_session(self, agent: str, scope: str = "") -> str:
        """The agent's persistent session for `scope` ('' for its one main session, else a
        channel's or a user's own), created on first use and kept."""
        self.execute(
            "INSERT OR IGNORE INTO sessions(id, agent, kind, scope, created_at)"
            " VALUES (?, ?, 'persistent', ?, ?)",
            (f"main-{agent}@{scope}" if scope else f"main-{agent}", agent, scope, time.time()),
        )
        row = self.one(
            "SELECT id FROM sessions WHERE agent = ? AND scope = ? AND kind = 'persistent'",
            (agent, scope),
        )
        assert row is not None
        return str(row["id"])

    def new_disposable_session(self, agent: str) -> str:
        """A fresh session for one task, never reused."""
        session_id = new_id("tmp")
        self.execute(
            "INSERT INTO sessions(id, agent, kind, created_at) VALUES (?, ?, 'disposable', ?)",
            (session_id, agent, time.time()),
        )
        return session_id

    def discard_session(self, session_id: str) -> None:
        self.execute(
            "UPDATE sessions SET discarded_at = ? WHERE id = ? AND kind = 'disposable'",
            (time.time(), session_id),
        )

    def session(self, session_id: str) -> Row | None:
        return self.one("SELECT * FROM sessions WHERE id = ?", (session_id,))

    def set_session_context(self, session_id: str, context_id: str) -> None:
        """The agent's conversation id, kept from its first reply on."""
        self.execute(
            "UPDATE sessions SET context_id = COALESCE(context_id, ?), last_used_at = ? WHERE id = ?",
            (context_id, time.time(), session_id),
        )

    def add_history(self, key: ThreadKey, author: str, role: str, text: str) -> None:
        self.execute(
            HISTORY_SQL,
            (key.platform, key.workspace, key.channel, key.thread, author, role, text, time.time()),
        )

    # -- verbs of the core, named by what they mean ----------------------------------------

    def claim(self, dedupe_key: str) -> bool:
        """Claim a delivery: False when its key was seen before (a duplicate)."""
        claimed = self.execute(
            "INSERT OR IGNORE INTO processed_messages(key, at) VALUES (?, ?)",
            (dedupe_key, time.time()),
        )
        return claimed.rowcount == 1

    def insert_request(
        self,
        request_id: str,
        key: ThreadKey,
        message_id: str,
        user: str,
        user_name: str | None,
        text: str,
        is_dm: bool,
        kind: str,
        state: str,
        decision: str | None,
    ) -> None:
        self.execute(
            "INSERT INTO requests(id, platform, workspace, channel, thread, message_id, user,"
            " user_name, text, is_dm, kind, state, decision, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id, key.platform, key.workspace, key.channel, key.thread,
                message_id, user, user_name, text, is_dm, kind, state, decision, time.time(),
            ),
        )  # fmt: skip

    def recent_requests(self, user: str, platform: str, since: float) -> int:
        """How many requests (not counting refused ones) a user made since `since`."""
        row = self.one(
            "SELECT COUNT(*) AS n FROM requests WHERE user = ? AND platform = ?"
            " AND created_at > ? AND kind != 'refused'",
            (user, platform, since),
        )
        return int(row["n"]) if row is not None else 0

    def in_flight(self, user: str, platform: str) -> int:
        """A user's active tasks, in their running requests."""
        row = self.one(
            "SELECT COUNT(*) AS n FROM tasks t JOIN requests r ON r.id = t.request_id"
            " WHERE r.user = ? AND r.platform = ? AND r.state = 'running'"
            " AND t.state IN ('waiting','queued','running','input_required')",
            (user, platform),
        )
        return int(row["n"]) if row is not None else 0

    def keep_refused(self, request_id: str, text: str) -> None:
        """A refused message is done, and keeps only a line to recognise it by."""
        self.execute(
            "UPDATE requests SET text = ?, finished_at = ? WHERE id = ?",
            (text, time.time(), request_id),
        )

    def insert_plan(self, request_id: str, planner: str, figures: dict[str, Any]) -> None:
        """How a request was planned: by whom, and at what cost."""
        self.execute(
            "INSERT INTO plans(request_id, planner, model, fallback_reason, repaired, input_tokens,"
            " output_tokens, latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id, planner, figures.get("model"), figures.get("fallback_reason"),
                bool(figures.get("repaired")), figures.get("input_tokens", 0),
                figures.get("output_tokens", 0), figures.get("latency_ms", 0.0), time.time(),
            ),
        )  # fmt: skip

    def lessons(self, user: str, platform: str, workspace: str, limit: int) -> list[Row]:
        """Routing corrections for a user, newest first: their own and their workspace's."""
        return self.all(
            "SELECT text, agent FROM lessons WHERE (user = ? AND (platform = ? OR platform IS NULL))"
            " OR (shared = 1 AND platform = ? AND workspace = ?) ORDER BY id DESC LIMIT ?",
            (user, platform, platform, workspace, limit),
        )

    def add_lesson(
        self,
        text: str,
        agent: str,
        wrong: str,
        user: str,
        platform: str,
        workspace: str,
        *,
        shared: bool,
        keep: int,
    ) -> None:
        """Remember a correction, keeping its author's newest `keep`."""
        self.execute(
            "INSERT INTO lessons(text, agent, wrong, user, platform, workspace, shared,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (text, agent, wrong, user, platform, workspace, shared, time.time()),
        )
        self.execute(
            "DELETE FROM lessons WHERE user = ? AND platform = ? AND id NOT IN"
            " (SELECT id FROM lessons WHERE user = ? AND platform = ? ORDER BY id DESC LIMIT ?)",
            (user, platform, user, platform, keep),
        )

    def finish_request(self, request_id: str) -> None:
        """A request answered in one message (status, roster, a notice) is done."""
        self.execute(
            "UPDATE requests SET state = 'done', finished_at = ? WHERE id = ?",
            (time.time(), request_id),
        )

    def refuse_request(self, request_id: str, at: float) -> None:
        self.execute(
            "UPDATE requests SET kind = 'refused', state = 'done', finished_at = ? WHERE id = ?",
            (at, request_id),
        )

    def close_clarifying(self, request_id: str, at: float) -> None:
        """A clarifying question was answered: its request lives on in the answer's."""
        self.execute(
            "UPDATE requests SET state = 'done', finished_at = ? WHERE id = ?"
            " AND state = 'clarifying'",
            (at, request_id),
        )

    def run_request(self, request_id: str, text: str, user: str, user_name: str) -> None:
        """A request's work is recorded: it runs, in its owner's name and words."""
        self.execute(
            "UPDATE requests SET state = 'running', text = ?, user = ?, user_name = ? WHERE id = ?",
            (text, user, user_name, request_id),
        )

    def insert_tasks(self, tasks: Sequence[tuple[tuple[Any, ...], Sequence[str]]]) -> None:
        """Each task's row (id, request id, spec id, seq, agent, session kind, summary, brief,
        state, created at, session key) followed by the ids of the tasks it depends on."""
        for values, depends_on in tasks:
            self.execute(
                "INSERT INTO tasks(id, request_id, spec_id, seq, agent, session_kind, summary,"
                " brief, state, created_at, session_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            for dep in depends_on:
                self.execute(
                    "INSERT INTO task_deps(task_id, depends_on) VALUES (?, ?)", (values[0], dep)
                )

    def new_board(self, request_id: str) -> None:
        self.execute("INSERT INTO boards(request_id, version) VALUES (?, 1)", (request_id,))

    def start_task(
        self, task_id: str, session_id: str, brief: str, now: float, deadline: float
    ) -> None:
        self.execute(
            "UPDATE tasks SET state = 'running', session_id = ?, brief = ?, started_at = ?,"
            " deadline = ? WHERE id = ?",
            (session_id, brief, now, deadline, task_id),
        )

    def set_remote_task_id(self, task_id: str, remote_task_id: str | None) -> None:
        self.execute("UPDATE tasks SET remote_task_id = ? WHERE id = ?", (remote_task_id, task_id))

    def task_state(self, task_id: str) -> str:
        row = self.one("SELECT state FROM tasks WHERE id = ?", (task_id,))
        return str(row["state"]) if row else "gone"

    def ask(self, task_id: str, question: str, deadline: float) -> None:
        """The agent asked the user something: the task waits for the answer until `deadline`."""
        self.execute(
            "UPDATE tasks SET state = 'input_required', question = ?, deadline = ? WHERE id = ?",
            (question, deadline, task_id),
        )

    def finish_task(
        self, task_id: str, state: str, result: str | None, files: str | None, error: str | None
    ) -> bool:
        """Record a terminal state; False when the task had already ended."""
        cursor = self.execute(
            "UPDATE tasks SET state = ?, result = ?, files = ?, error = ?, finished_at = ?,"
            " deadline = NULL WHERE id = ? AND state IN ('waiting','queued','running','input_required')",
            (state, result, files, error, time.time(), task_id),
        )
        return cursor.rowcount == 1

    def block_task(self, task_id: str, error: str) -> None:
        self.execute(
            "UPDATE tasks SET state = 'blocked', error = ?, finished_at = ? WHERE id = ?",
            (error, time.time(), task_id),
        )

    def queue_task(self, task_id: str) -> bool:
        """A waiting task may start: True if it was waiting."""
        cursor = self.execute(
            "UPDATE tasks SET state = 'queued' WHERE id = ? AND state = 'waiting'", (task_id,)
        )
        return cursor.rowcount == 1

    def has_queued(self, agent: str) -> bool:
        """Whether any task waits in the queue for `agent`."""
        return (
            self.one("SELECT 1 FROM tasks WHERE agent = ? AND state = 'queued' LIMIT 1", (agent,))
            is not None
        )

    def reopen_task(self, task_id: str) -> None:
        """A retried task waits again, as a new attempt with nothing of the last one."""
        self.execute(
            "UPDATE tasks SET state = 'waiting', attempt = attempt + 1, remote_task_id = NULL,"
            " result = NULL, files = NULL, error = NULL, question = NULL, started_at = NULL,"
            " finished_at = NULL, deadline = NULL WHERE id = ?",
            (task_id,),
        )

    def unblock_task(self, task_id: str) -> None:
        """A task a retried one had stopped waits for it again."""
        self.execute(
            "UPDATE tasks SET state = 'waiting', attempt = attempt + 1, error = NULL,"
            " finished_at = NULL WHERE id = ?",
            (task_id,),
        )

    def reopen_request(self, request_id: str) -> None:
        self.execute(
            "UPDATE requests SET state = 'running', round = round + 1, finished_at = NULL"
            " WHERE id = ?",
            (request_id,),
        )

    def state_counts(self, request_id: str) -> dict[str, int]:
        """A request's tasks per state, counted by the database."""
        return {
            row["state"]: row["n"]
            for row in self.all(
                "SELECT state, COUNT(*) AS n FROM tasks WHERE request_id = ? GROUP BY state",
                (request_id,),
            )
        }

    def close_request(self, request_id: str) -> bool:
        """A running request is done; False when it was not running."""
        cursor = self.execute(
            "UPDATE requests SET state = 'done', finished_at = ? WHERE id = ? AND state = 'running'",
            (time.time(), request_id),
        )
        return cursor.rowcount == 1

    def running_requests(self) -> list[str]:
        return [row["id"] for row in self.all("SELECT id FROM requests WHERE state = 'running'")]

    def ack_payload(self, request_id: str) -> str | None:
        """The stored acknowledgement of a request, which carries its status board."""
        row = self.one(
            "SELECT payload FROM outbox WHERE request_id = ? AND kind = 'ack'", (request_id,)
        )
        return None if row is None else str(row["payload"])


def _purge_batch(tx: Tx, before: float, limit: int) -> int:
    ids = [
        row["id"]
        for row in tx.all(
            "SELECT id FROM requests r WHERE state = 'done' AND finished_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.request_id = r.id"
            "   AND t.state IN ('waiting','queued','running','input_required'))"
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = r.id"
            "   AND o.state = 'pending') LIMIT ?",
            (before, limit),
        )
    ]
    if ids:
        chosen = json.dumps(ids)
        tasks = "SELECT id FROM tasks WHERE request_id IN (SELECT value FROM json_each(?))"
        sessions = [
            row["session_id"]
            for row in tx.all(
                "SELECT DISTINCT session_id FROM tasks WHERE session_kind = 'disposable'"
                " AND session_id IS NOT NULL AND request_id IN (SELECT value FROM json_each(?))",
                (chosen,),
            )
        ]
        tx.execute(
            f"DELETE FROM task_deps WHERE task_id IN ({tasks}) OR depends_on IN ({tasks})",  # noqa: S608
            (chosen, chosen),
        )
        for table in ("outbox", "boards", "plans", "tasks"):
            tx.execute(
                f"DELETE FROM {table} WHERE request_id IN (SELECT value FROM json_each(?))",  # noqa: S608
                (chosen,),
            )
        tx.execute(
            "UPDATE requests SET parent_id = NULL WHERE parent_id IN (SELECT value FROM json_each(?))",
            (chosen,),
        )
        tx.execute("DELETE FROM requests WHERE id IN (SELECT value FROM json_each(?))", (chosen,))
        tx.execute(
            "DELETE FROM sessions WHERE kind = 'disposable' AND id IN (SELECT value FROM"
            " json_each(?)) AND NOT EXISTS (SELECT 1 FROM tasks WHERE session_id = sessions.id)",
            (json.dumps(sessions),),
        )
    if len(ids) < limit:
        tx.execute(  # a thread's history goes with the last of its requests
            "DELETE FROM history WHERE at < ? AND NOT EXISTS (SELECT 1 FROM requests r WHERE"
            " r.platform = history.platform AND r.workspace = history.workspace AND"
            " r.channel = history.channel AND r.thread = history.thread)",
            (before,),
        )
        tx.execute("DELETE FROM processed_messages WHERE at < ?", (before,))
    return len(ids)


def _run_batch(
    conn: sqlite3.Connection, bodies: list[Callable[[Tx], Any]]
) -> list[tuple[bool, Any]]:
    """One transaction for several bodies; a body that raises is undone alone."""
    outcomes: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for body in bodies:
            conn.execute("SAVEPOINT body")
            try:
                value = body(Tx(conn))
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


def _owner_only(path: Path) -> None:
    """Create the database file as 0600 and take group and other access off an existing one
    and its -wal and -shm files (which SQLite creates with the database's mode): they hold
    every request and result. Best effort: a path that is no file is left to SQLite to refuse.
    """
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    except OSError:
        return
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        target = path.with_name(name)
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
            if mode & 0o077:
                os.chmod(target, mode & 0o700)
        except OSError:
            continue


class Store:
    """A single aiosqlite connection; multi-statement changes run in one transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._pending: list[tuple[Callable[[Tx], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._seq = 0

    async def open(self) -> Store:
        """Open (or create) the database, or raise StoreError with one line saying why not.

        A file that cannot be used fails here, not at the first write: not SQLite, a
        directory, or read-only. The connection is closed on failure, since its thread would
        otherwise keep the process alive."""
        if self.path.is_dir():
            raise StoreError(f"{self.path}: cannot use the database: it is a directory")
        try:
            await self._open()
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(Exception):
                await self.close()
            raise StoreError(f"{self.path}: cannot use the database: {_why(exc)}") from None
        return self

    async def _open(self) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        _owner_only(self.path)
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        self._db.row_factory = Row
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._migrate()
        await self._db.executescript(SCHEMA)
        for index in DROPPED_INDEXES:
            await self._db.execute(f"DROP INDEX IF EXISTS {index}")
        row = await self.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks")
        self._seq = int(row["seq"]) if row else 0
        # A read-only file opens and reads; the first write would fail. Try one, undone.
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.execute(
                "INSERT INTO processed_messages(key, at) VALUES (?, ?)",
                ("dispatch:write-probe", 0.0),
            )
        finally:
            await self._db.execute("ROLLBACK")

    async def _migrate(self) -> None:
        """Add the columns an older database lacks (see ADDED_COLUMNS); names come from code."""
        for table, column, declaration in ADDED_COLUMNS:
            have = {row["name"] for row in await self.all(f"PRAGMA table_info({table})")}
            if have and column not in have:
                await self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    # -- primitives -------------------------------------------------------------------------

    async def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        # One hop to the database thread (execute, fetch and close together), not three.
        return list(await self.db.execute_fetchall(sql, tuple(params)))

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
                    functools.partial(_run_batch, conn, [body for body, _ in batch])
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
        return await self._on_db_thread(lambda: body(Tx(self._conn())))

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self.db._conn
        return conn

    async def _on_db_thread(self, fn: Callable[[], T]) -> T:
        # aiosqlite runs every call as a function on the connection's own thread; this is
        # that same path (Connection._execute), for a function of ours.
        result: T = await self.db._execute(fn)
        return result

    async def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        return await self.transact(lambda tx: tx.execute(sql, params).rowcount)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- deduplication ------------------------------------------------------------------------

    async def claim_message(self, key: str) -> bool:
        """True the first time a delivery key is seen; atomic, so a racing duplicate loses."""
        cursor = await self.transact(
            lambda tx: tx.execute(
                "INSERT OR IGNORE INTO processed_messages(key, at) VALUES (?, ?)",
                (key, time.time()),
            )
        )
        return cursor.rowcount == 1

    # -- requests -----------------------------------------------------------------------------

    async def request(self, request_id: str) -> Row | None:
        return await self.read(lambda tx: tx.request(request_id))

    async def set_request_state(
        self, request_id: str, state: str, *, finished: bool = False
    ) -> None:
        await self.write(
            "UPDATE requests SET state = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END"
            " WHERE id = ?",
            (state, finished, time.time(), request_id),
        )

    # -- tasks --------------------------------------------------------------------------------

    async def task(self, task_id: str) -> Row | None:
        return await self.read(lambda tx: tx.task(task_id))

    async def request_tasks(self, request_id: str) -> list[Row]:
        return await self.read(lambda tx: tx.request_tasks(request_id))

    async def thread_tasks(self, key: ThreadKey) -> list[Row]:
        return await self.read(lambda tx: tx.thread_tasks(key))

    async def dependencies(self, task_id: str) -> list[Row]:
        return await self.read(lambda tx: tx.dependencies(task_id))

    async def tasks_in_state(self, *states: str) -> list[Row]:
        marks = ",".join("?" for _ in states)
        return await self.all(f"SELECT * FROM tasks WHERE state IN ({marks}) ORDER BY seq", states)  # noqa: S608

    async def startable_tasks(self) -> list[Row]:
        """Queued tasks that could start now: every disposable one, and only the oldest per
        persistent session (agent and session key: it runs one task at a time, in order)."""
        return await self.all(
            "SELECT * FROM tasks WHERE state = 'queued' AND session_kind = 'disposable'"
            " UNION ALL"
            " SELECT t.* FROM tasks t JOIN (SELECT agent, session_key, MIN(seq) AS seq FROM tasks"
            "   WHERE state = 'queued' AND session_kind = 'persistent'"
            "   GROUP BY agent, session_key) head"
            " ON t.state = 'queued' AND t.seq = head.seq"
            " ORDER BY seq"
        )

    async def update_task(self, task_id: str, **fields: Any) -> None:
        """Set columns by name; names come from code, never from user input."""
        allowed = {
            "state", "session_id", "remote_task_id", "question", "result", "files", "error",
            "started_at", "finished_at", "deadline", "agent", "session_kind", "brief",
        }  # fmt: skip
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown task fields {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.write(
            f"UPDATE tasks SET {assignments} WHERE id = ?",  # noqa: S608
            (*fields.values(), task_id),
        )

    # -- sessions -----------------------------------------------------------------------------

    async def session(self, session_id: str) -> Row | None:
        return await self.read(lambda tx: tx.session(session_id))

    async def set_session_context(self, session_id: str, context_id: str) -> None:
        await self.transact(lambda tx: tx.set_session_context(session_id, context_id))

    # -- history ------------------------------------------------------------------------------

    async def add_history(self, key: ThreadKey, author: str, role: str, text: str) -> None:
        await self.transact(lambda tx: tx.add_history(key, author, role, text))

    async def recent_history(self, key: ThreadKey, limit: int) -> list[Row]:
        return await self.read(lambda tx: tx.recent_history(key, limit))

    # -- the core's reads and single writes -------------------------------------------------

    async def unsettled(self) -> int:
        """Tasks not finished plus messages not sent: zero when all is quiet."""
        row = await self.one(
            "SELECT (SELECT COUNT(*) FROM tasks WHERE state IN ('waiting','queued','running'))"
            " + (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS n"
        )
        return int(row["n"]) if row is not None else -1

    async def set_decision(self, request_id: str, kind: str, decision: str) -> None:
        await self.write(
            "UPDATE requests SET kind = ?, decision = ? WHERE id = ?", (kind, decision, request_id)
        )

    async def set_question(self, request_id: str, state: str, question: str) -> None:
        await self.write(
            "UPDATE requests SET state = ?, question = ? WHERE id = ?",
            (state, question, request_id),
        )

    async def mark_rerouted(self, request_id: str) -> None:
        await self.write("UPDATE requests SET kind = 'reroute' WHERE id = ?", (request_id,))

    async def status_tasks(
        self,
        key: ThreadKey | None,
        user: str | None,
        platform: str | None,
        agent_id: str | None,
        limit: int,
    ) -> list[Row]:
        """Active tasks with where each lives: in thread `key`, else of `user`'s running
        requests (on `platform`, when given), else all; for one agent when named."""
        params: list[Any] = []
        where = "t.state IN ('waiting','queued','running','input_required')"
        if key is not None:
            where += " AND r.platform = ? AND r.workspace = ? AND r.channel = ? AND r.thread = ?"
            params += [key.platform, key.workspace, key.channel, key.thread]
        elif user is not None:
            # Active tasks belong to running requests; starting from the user's running
            # requests keeps this fast with thousands of other tasks in flight.
            where += " AND r.user = ? AND r.state = 'running'"
            params.append(user)
            if platform is not None:
                where += " AND r.platform = ?"
                params.append(platform)
        if agent_id:
            where += " AND t.agent = ?"
            params.append(agent_id)
        # `where` is assembled from fixed fragments above; every value is a parameter.
        sql = f"SELECT t.*, r.platform AS r_platform, r.workspace AS r_workspace, r.channel AS r_channel, r.thread AS r_thread, r.is_dm AS r_dm FROM tasks t JOIN requests r ON r.id = t.request_id WHERE {where} ORDER BY t.seq LIMIT {int(limit)}"  # noqa: S608
        return await self.all(sql, params)

    async def agent_load(self, agent_id: str) -> int:
        """Tasks an agent has queued, running or waiting on an answer, for anyone."""
        row = await self.one(
            "SELECT COUNT(*) AS n FROM tasks WHERE agent = ? AND state IN"
            " ('queued','running','input_required')",
            (agent_id,),
        )
        return int(row["n"]) if row else 0

    async def user_active_tasks(self, platform: str, user: str) -> list[Row]:
        return await self.all(
            "SELECT t.* FROM tasks t JOIN requests r ON r.id = t.request_id"
            " WHERE r.platform = ? AND r.user = ?"
            " AND t.state IN ('waiting','queued','running','input_required') ORDER BY t.seq",
            (platform, user),
        )

    async def knows_thread(self, key: ThreadKey) -> bool:
        row = await self.one(
            "SELECT 1 FROM requests WHERE platform = ? AND workspace = ? AND channel = ? AND thread = ?"
            " LIMIT 1",
            (key.platform, key.workspace, key.channel, key.thread),
        )
        return row is not None

    async def thread_of_message(self, platform: str, channel: str, message_id: str) -> str | None:
        """The thread of the request a posted message belongs to."""
        row = await self.one(
            "SELECT r.thread FROM outbox o JOIN requests r ON r.id = o.request_id"
            " WHERE r.platform = ? AND json_extract(o.ref, '$.channel') = ?"
            " AND json_extract(o.ref, '$.id') = ? LIMIT 1",
            (platform, channel, message_id),
        )
        return str(row["thread"]) if row else None

    async def open_question_thread(self, platform: str, channel: str, user: str) -> str | None:
        """The latest thread in a channel with a question open to `user`."""
        row = await self.one(
            "SELECT r.thread FROM requests r WHERE r.platform = ? AND r.channel = ? AND r.user = ?"
            " AND (r.state = 'clarifying' OR EXISTS (SELECT 1 FROM tasks t WHERE"
            " t.request_id = r.id AND t.state = 'input_required'))"
            " ORDER BY r.created_at DESC LIMIT 1",
            (platform, channel, user),
        )
        return str(row["thread"]) if row else None

    async def date_open_questions(self, deadline: float) -> None:
        """Give every open question without a deadline this one."""
        await self.write(
            "UPDATE tasks SET deadline = ? WHERE state = 'input_required' AND deadline IS NULL",
            (deadline,),
        )

    async def next_question_deadline(self) -> float | None:
        row = await self.one("SELECT MIN(deadline) AS at FROM tasks WHERE state = 'input_required'")
        return row["at"] if row is not None else None

    async def lapsed_questions(self, now: float) -> list[Row]:
        return await self.all(
            "SELECT id FROM tasks WHERE state = 'input_required' AND deadline <= ?", (now,)
        )

    # -- outbox -------------------------------------------------------------------------------

    async def enqueue(
        self,
        request_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        task_id: str | None = None,
        dedupe: str | None = None,
    ) -> int | None:
        return await self.transact(
            lambda tx: tx.enqueue(request_id, kind, payload, task_id=task_id, dedupe=dedupe)
        )

    async def next_outbox_time(self, after: float | None = None) -> float | None:
        """The earliest retry time of a pending message (only those later than `after`)."""
        if after is None:
            row = await self.one("SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending'")
        else:
            row = await self.one(
                "SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending' AND next_at > ?",
                (after,),
            )
        return float(row["at"]) if row and row["at"] is not None else None

    async def due_heads(self, now: float, first: Sequence[str] = (), limit: int = 500) -> list[Row]:
        """The oldest pending message of each conversation, if it is due: one per thread,
        so a thread's messages go out in order while threads go out side by side. Heads of
        the kinds in `first` come first, then the rest, each oldest first. `pending` is how
        many messages that thread has waiting, the head included."""
        return await self.all(
            "SELECT o.*, head.pending FROM outbox o JOIN (SELECT thread, MIN(id) AS id,"
            "   COUNT(*) AS pending FROM outbox WHERE state = 'pending' GROUP BY thread) head"
            " ON o.id = head.id WHERE o.next_at <= ?"
            " ORDER BY o.kind IN (SELECT value FROM json_each(?)) DESC, o.id LIMIT ?",
            (now, json.dumps(list(first)), limit),
        )

    async def thread_head(self, thread: str) -> Row | None:
        """The oldest pending message of one conversation, due or not (with the stored
        result it relays, if it is a result)."""
        return await self.one(
            "SELECT o.*, (SELECT result FROM tasks WHERE id = o.task_id) AS task_result"
            " FROM outbox o WHERE o.thread = ? AND o.state = 'pending' ORDER BY o.id LIMIT 1",
            (thread,),
        )

    async def mark_sent(
        self, outbox_id: int, ref: dict[str, Any] | None, *, board_of: str | None = None
    ) -> None:
        """Delivered; an acknowledgement also becomes its request's live status board."""
        ref_json = json.dumps(ref) if ref else None

        def mark(tx: Tx) -> None:
            tx.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, ref = ? WHERE id = ?",
                (time.time(), ref_json, outbox_id),
            )
            if board_of is not None:
                tx.execute(
                    "UPDATE boards SET ref = ?, shown = 0 WHERE request_id = ?",
                    (ref_json, board_of),
                )

        await self.transact(mark)

    async def mark_retry(self, outbox_id: int, error: str, next_at: float, *, dead: bool) -> None:
        """A failed attempt: counted, and retried at `next_at` (or given up: `dead`)."""
        await self.write(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ?,"
            " state = CASE WHEN ? THEN 'dead' ELSE state END WHERE id = ?",
            (error[:500], next_at, dead, outbox_id),
        )

    async def mark_deferred(self, outbox_id: int, next_at: float) -> None:
        """Not sent yet, not failed (the platform asked us to wait): try again at `next_at`.
        Attempts and the last error stay as they were."""
        await self.write(
            "UPDATE outbox SET next_at = ? WHERE id = ? AND state = 'pending'",
            (next_at, outbox_id),
        )

    async def mark_progress(self, outbox_id: int, parts: Sequence[str]) -> None:
        """The parts of a long message already out (a relay split over several posts), kept
        in `ref` while it is pending, so a delivery after a restart resumes after them."""
        await self.write(
            "UPDATE outbox SET ref = ? WHERE id = ? AND state = 'pending'",
            (json.dumps({"parts": list(parts)}), outbox_id),
        )

    # -- retention ----------------------------------------------------------------------------

    async def purge_finished(self, before: float, batch: int = 500) -> int:
        """Delete requests done before `before` (none with a task still active or a message
        still to send), with their tasks, messages, boards, plans and the sessions only
        they used; then older history of threads left with no request, and older delivery
        keys. Returns how many
        requests went. Batched, so one purge never holds the database for long."""
        total = 0
        while True:
            count = await self.transact(lambda tx: _purge_batch(tx, before, batch))
            total += count
            if count < batch:
                return total

    # -- live status boards -------------------------------------------------------------------

    async def bump_board(self, request_id: str) -> None:
        await self.transact(lambda tx: tx.bump_board(request_id))

    async def set_board(self, request_id: str, *, ref: str | None = None, shown: int) -> None:
        await self.write(
            "UPDATE boards SET ref = COALESCE(?, ref), shown = ? WHERE request_id = ?",
            (ref, shown, request_id),
        )

    async def stale_boards(self) -> list[Row]:
        """Boards whose request changed since they were last drawn, in request id order (a
        refresh pass that stopped early resumes after the last one it looked at)."""
        return await self.all("SELECT * FROM boards WHERE version > shown ORDER BY request_id")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None
