"""SQLite state: WAL, atomic de-duplication, sessions, and the brief it stores."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot import board
from bot.brief import Brief, HistoryLine, PriorWork
from bot.demo.fleet import demo_fleet
from bot.models import Attachment
from bot.store import Store, ThreadKey, Tx


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = await Store(tmp_path / "state.db").open()
    yield s
    await s.close()


async def test_wal_mode_and_busy_timeout(store: Store) -> None:
    mode = await store.one("PRAGMA journal_mode")
    timeout = await store.one("PRAGMA busy_timeout")
    assert mode is not None and mode[0] == "wal"
    assert timeout is not None and timeout[0] >= 1000


async def test_every_table_the_dispatcher_needs_exists(store: Store) -> None:
    rows = await store.all("SELECT name FROM sqlite_master WHERE type = 'table'")
    names = {row["name"] for row in rows}
    assert {
        "requests",
        "tasks",
        "task_deps",
        "sessions",
        "processed_messages",
        "history",
        "outbox",
        "boards",
    } <= names


async def test_claiming_a_message_is_atomic(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_message("slack:T1:C1:123.456") for _ in range(50)))
    assert results.count(True) == 1


async def test_claims_survive_a_reopen(tmp_path: Path) -> None:
    first = await Store(tmp_path / "s.db").open()
    assert await first.claim_message("k")
    await first.close()
    second = await Store(tmp_path / "s.db").open()
    assert not await second.claim_message("k")
    await second.close()


async def test_a_persistent_session_is_one_row_forever(store: Store) -> None:
    a = await store.transact(lambda tx: tx.main_session("dev"))
    b = await store.transact(lambda tx: tx.main_session("dev"))
    assert a == b
    await store.set_session_context(a, "ctx-1")
    await store.set_session_context(a, "ctx-2")  # the first context sticks
    row = await store.session(a)
    assert row is not None and row["context_id"] == "ctx-1"
    tmp1 = await store.transact(lambda tx: tx.new_disposable_session("subagent"))
    tmp2 = await store.transact(lambda tx: tx.new_disposable_session("subagent"))
    assert tmp1 != tmp2


async def test_hostile_text_is_stored_as_data(store: Store, tmp_path: Path) -> None:
    from bot.store import ThreadKey

    key = ThreadKey("slack", "T1", "C1'; DROP TABLE tasks; --", "1.0")
    await store.add_history(key, "mallory", "user", "'); DELETE FROM requests; --")
    rows = await store.recent_history(key, 5)
    assert rows[0]["text"] == "'); DELETE FROM requests; --"
    con = sqlite3.connect(tmp_path / "state.db")
    assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'tasks'").fetchone()[0] == 1
    con.close()


async def test_update_task_refuses_unknown_columns(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown task fields"):
        await store.update_task("t", **{"state = 'x'; --": 1})


def test_brief_carries_everything_an_agent_needs() -> None:
    brief = Brief(
        task="use it on the landing page",
        request="Design the new logo, then use it on the landing page",
        requester="alice",
        platform="slack",
        channel="C42",
        thread="1700000000.0001",
        depends_on=[
            PriorWork(agent="🎨 Image", summary="Design the new logo", output="logo.png: a fox")
        ],
        thread_results=[PriorWork(agent="✍️ Writer", summary="copy", output="Headline: Go fast")],
        history=[
            HistoryLine(author="alice", text="Design the new logo, then use it on the landing page")
        ],
        attachments=[Attachment(name="brand.pdf", url="https://files.example/brand.pdf")],
    )
    text = brief.render()
    assert text.startswith("Task: use it on the landing page\n")
    assert "Requested by alice on slack, in channel C42 (thread 1700000000.0001)." in text
    assert "> Design the new logo, then use it on the landing page" in text
    assert "--- 🎨 Image: Design the new logo ---\nlogo.png: a fox" in text
    assert "Headline: Go fast" in text
    assert "- brand.pdf: https://files.example/brand.pdf" in text
    assert "- alice: Design the new logo" in text


async def test_the_database_and_its_wal_files_are_owner_only(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    old = tmp_path / "old.db"
    sqlite3.connect(old).close()
    for name in ("old.db", "old.db-wal", "old.db-shm"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)  # left by an earlier version
    for path in (fresh, old):
        store = await Store(path).open()
        await store.write("INSERT INTO agent_cards(agent, available) VALUES ('a', 1)")
        try:
            files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
            assert all(f.exists() for f in files)
            assert [f.stat().st_mode & 0o777 for f in files] == [0o600] * 3
        finally:
            await store.close()


async def test_a_database_from_before_scoped_sessions_is_upgraded_in_place(
    tmp_path: Path,
) -> None:
    """The tables as the previous release made them: opening adds the new columns, and the
    one-main-session-per-agent index gives way, so scoped sessions can be made."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE sessions (id TEXT PRIMARY KEY, agent TEXT NOT NULL, kind TEXT NOT NULL,
                context_id TEXT, created_at REAL NOT NULL, last_used_at REAL, discarded_at REAL);
            CREATE UNIQUE INDEX sessions_main ON sessions(agent) WHERE kind = 'persistent';
            CREATE TABLE lessons (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL,
                agent TEXT NOT NULL, wrong TEXT, user TEXT, created_at REAL NOT NULL);
            INSERT INTO sessions(id, agent, kind, context_id, created_at)
                VALUES ('main-dev', 'dev', 'persistent', 'ctx-1', 1.0);
            INSERT INTO lessons(text, agent, user, created_at) VALUES ('tweets', 'social', 'U1', 1);
            """
        )
    store = await Store(path).open()
    try:
        main = await store.transact(lambda tx: tx.main_session("dev"))
        scoped = await store.transact(lambda tx: tx.main_session("dev", "user:slack:T1:U1"))
        assert main == "main-dev" and scoped != main
        rows = await store.all("SELECT id, scope, context_id FROM sessions ORDER BY id")
        assert [dict(r) for r in rows] == [
            {"id": "main-dev", "scope": "", "context_id": "ctx-1"},
            {"id": "main-dev@user:slack:T1:U1", "scope": "user:slack:T1:U1", "context_id": None},
        ]
        lesson = await store.one("SELECT text, platform, shared FROM lessons")
        assert lesson is not None and dict(lesson) == {
            "text": "tweets",
            "platform": None,
            "shared": 0,
        }
    finally:
        await store.close()
    again = await Store(path).open()  # a second open changes nothing
    await again.close()


async def test_a_board_drawn_from_what_was_just_written_is_the_board_read_back(
    store: Store,
) -> None:
    """Intake draws a new request's board from the values it wrote, not by reading them back:
    the same rows and notes, a task waiting on another and one queued behind a busy session."""
    fleet = demo_fleet()
    tasks = [
        (("r1/t1", "r1", "t1", "dev", "persistent", "fix the login", "b", "queued", 1.0, "k"), []),
        (("r1/t2", "r1", "t2", "writer", "disposable", "write it up", "b", "waiting", 1.0, ""), []),
        (("r1/t3", "r1", "t3", "gone", "disposable", "tidy up", "b", "waiting", 1.0, ""), []),
    ]
    tasks[1] = (tasks[1][0], ["r1/t1"])
    tasks[2] = (tasks[2][0], ["r1/t1", "r1/t2"])
    busy = {("dev", "k")}

    def body(tx: Tx) -> tuple[board.Board, board.Board]:
        key = ThreadKey("slack", "T1", "C1", "1.0")
        tx.insert_request("r1", key, "m1", "U1", "Ann", "text", False, "work", "running", None)
        tx.insert_tasks(tasks)
        drawn = board.fresh("r1", [v for v, _ in tasks], [d for _, d in tasks], fleet, busy)
        return board.read(tx, "r1", fleet, busy), drawn

    read, drawn = await store.transact(body)
    assert drawn.model_copy(update={"elapsed": read.elapsed}) == read
    assert [bool(row.note) for row in drawn.rows] == [True, True, True]


async def test_a_question_from_a_task_that_has_ended_changes_nothing(store: Store) -> None:
    """A runner does not read its task for every event, so an agent's question can arrive
    after the task was cancelled: the task stays cancelled, and nothing waits for an answer."""

    def body(tx: Tx) -> list[tuple[bool, str]]:
        key = ThreadKey("slack", "T1", "C1", "1.0")
        tx.insert_request("r1", key, "m1", "U1", "Ann", "text", False, "work", "running", None)
        tx.insert_tasks(
            [(("r1/t1", "r1", "t1", "dev", "disposable", "fix it", "b", "running", 1.0, ""), [])]
        )
        asked = [(tx.ask("r1/t1", "which page?", 5.0), tx.task_state("r1/t1"))]
        tx.finish_task("r1/t1", "cancelled", None, None, "stopped")
        asked.append((tx.ask("r1/t1", "and now?", 5.0), tx.task_state("r1/t1")))
        return asked

    assert await store.transact(body) == [(True, "input_required"), (False, "cancelled")]
