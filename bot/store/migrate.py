"""Making a file ready: its mode, its settings, the schema in `schema.sql`, and the columns
and indexes older versions left behind. Runs on the database thread, in one hop."""

from __future__ import annotations

import os
import sqlite3
import stat
from importlib.resources import files
from pathlib import Path

SCHEMA = files("bot.store").joinpath("schema.sql").read_text(encoding="utf-8")

ADDED_COLUMNS = (
    ("tasks", "session_key", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "scope", "TEXT NOT NULL DEFAULT ''"),
    ("lessons", "platform", "TEXT"),
    ("lessons", "workspace", "TEXT"),
    ("lessons", "shared", "INTEGER NOT NULL DEFAULT 0"),
    ("requests", "traceparent", "TEXT"),
)
"""Columns added after a table's first release: (table, column, declaration). A database
made by an older version gets each one it lacks before `SCHEMA` runs (its indexes may
use them); a new database gets them from `SCHEMA` itself. Never remove an entry."""
DROPPED_INDEXES = ("sessions_main",)
"""Indexes an older version created that the current schema replaces."""


def prepare(conn: sqlite3.Connection) -> int:
    """Set the connection up, bring the schema to date and prove the file is writable;
    return the highest task sequence number so far."""
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    _migrate(conn)
    conn.executescript(SCHEMA)
    for index in DROPPED_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    row = conn.execute("SELECT COALESCE(MAX(seq), 0) AS seq FROM tasks").fetchone()
    seq = int(row["seq"]) if row else 0
    # A read-only file opens and reads; the first write would fail. Try one, undone.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO processed_messages(key, at) VALUES (?, ?)",
            ("dispatch:write-probe", 0.0),
        )
    finally:
        conn.execute("ROLLBACK")
    return seq


def _migrate(conn: sqlite3.Connection) -> None:
    """Add the columns an older database lacks (see ADDED_COLUMNS); names come from code."""
    for table, column, declaration in ADDED_COLUMNS:
        have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})").fetchall()}
        if have and column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def owner_only(path: Path) -> None:
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
