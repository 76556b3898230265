"""Requests: claiming a delivery, recording and closing a request, its thread's history,
the user's lessons and the plan that routed it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.store.base import Row, ThreadKey, TxBase
from bot.store.core import StoreCore

HISTORY_SQL = (
    "INSERT INTO history(platform, workspace, channel, thread, author, role, text, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


THREAD_REQUESTS_SQL = (
    "SELECT * FROM requests WHERE platform = ? AND workspace = ? AND channel = ?"
    " AND thread = ? ORDER BY created_at"
)
CLAIM_SQL = "INSERT INTO processed_messages(key, at) VALUES (?, ?) ON CONFLICT DO NOTHING"
RECENT_SQL = (
    'SELECT COUNT(*) AS n FROM requests WHERE "user" = ? AND platform = ?'
    " AND created_at > ? AND kind != 'refused'"
)
LESSONS_SQL = (
    'SELECT text, agent FROM lessons WHERE ("user" = ? AND (platform = ? OR platform IS NULL))'
    " OR (shared = 1 AND platform = ? AND workspace = ?) ORDER BY id DESC LIMIT ?"
)


@dataclass(frozen=True)
class IntakeReads:
    """What taking a message in reads, besides the claim (`RequestVerbs.take_in`)."""

    claimed: bool
    thread: list[Row]
    """The thread's requests, oldest first."""
    lessons: list[Row]
    recent: int
    """The author's requests in the rate window (0 when not counted)."""


class RequestVerbs(TxBase):
    """What happens to a request, inside a transaction."""

    def take_in(
        self,
        dedupe_key: str | None,
        key: ThreadKey,
        user: str,
        workspace: str,
        lesson_limit: int,
        since: float | None = None,
    ) -> IntakeReads:
        """Claim a delivery (unless `dedupe_key` is None) and read its thread, its author's
        lessons and (from `since`) their recent requests. Every statement is sent before
        any result is read, so in PostgreSQL's pipeline they cost one round trip, not one
        each. Not `claimed`: a duplicate, and what was read is of no use."""
        p = key.platform
        claim = None if dedupe_key is None else self.execute(CLAIM_SQL, (dedupe_key, time.time()))
        thread = self.execute(THREAD_REQUESTS_SQL, (p, key.workspace, key.channel, key.thread))
        lessons = self.execute(LESSONS_SQL, (user, p, p, workspace, lesson_limit))
        recent = None if since is None else self.execute(RECENT_SQL, (user, p, since))
        rows, taught = thread.fetchall(), lessons.fetchall()
        count = 0 if recent is None else int(recent.fetchone()["n"])
        return IntakeReads(claim is None or claim.rowcount == 1, rows, taught, count)

    def request(self, request_id: str) -> Row | None:
        return self.one("SELECT * FROM requests WHERE id = ?", (request_id,))

    def thread_requests(self, key: ThreadKey) -> list[Row]:
        return self.all(THREAD_REQUESTS_SQL, (key.platform, key.workspace, key.channel, key.thread))

    def recent_history(self, key: ThreadKey, limit: int) -> list[Row]:
        rows = self.all(
            "SELECT * FROM history WHERE platform = ? AND workspace = ? AND channel = ? AND thread = ?"
            " ORDER BY id DESC LIMIT ?",
            (key.platform, key.workspace, key.channel, key.thread, limit),
        )
        return list(reversed(rows))

    def add_history(self, key: ThreadKey, author: str, role: str, text: str) -> None:
        self.execute(
            HISTORY_SQL,
            (key.platform, key.workspace, key.channel, key.thread, author, role, text, time.time()),
        )

    def claim(self, dedupe_key: str) -> bool:
        """Claim a delivery: False when its key was seen before (a duplicate)."""
        return self.changed(CLAIM_SQL, (dedupe_key, time.time())) == 1

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
        *,
        traceparent: str | None = None,
    ) -> None:
        """`traceparent`: the request's trace (W3C), when traces are on, so the spans of its
        tasks join it even after a restart."""
        self.execute(
            "INSERT INTO requests(id, platform, workspace, channel, thread, message_id, \"user\","
            " user_name, text, is_dm, kind, state, decision, created_at, traceparent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id, key.platform, key.workspace, key.channel, key.thread,
                message_id, user, user_name, text, is_dm, kind, state, decision, time.time(),
                traceparent,
            ),
        )  # fmt: skip

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
            'INSERT INTO lessons(text, agent, wrong, "user", platform, workspace, shared,'
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (text, agent, wrong, user, platform, workspace, shared, time.time()),
        )
        self.execute(
            'DELETE FROM lessons WHERE "user" = ? AND platform = ? AND id NOT IN'
            ' (SELECT id FROM lessons WHERE "user" = ? AND platform = ? ORDER BY id DESC LIMIT ?)',
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
            "UPDATE requests SET state = 'running', text = ?, \"user\" = ?, user_name = ? WHERE id = ?",
            (text, user, user_name, request_id),
        )

    def reopen_request(self, request_id: str) -> None:
        self.execute(
            "UPDATE requests SET state = 'running', round = round + 1, finished_at = NULL"
            " WHERE id = ?",
            (request_id,),
        )

    def close_request(self, request_id: str) -> bool:
        """A running request is done; False when it was not running."""
        return (
            self.changed(
                "UPDATE requests SET state = 'done', finished_at = ? WHERE id = ?"
                " AND state = 'running'",
                (time.time(), request_id),
            )
            == 1
        )

    def running_requests(self) -> list[str]:
        return [row["id"] for row in self.all("SELECT id FROM requests WHERE state = 'running'")]


class RequestStore(StoreCore):
    """Requests, read or changed in a hop of their own."""

    # -- deduplication ------------------------------------------------------------------------

    async def claim_message(self, key: str) -> bool:
        """True the first time a delivery key is seen; atomic, so a racing duplicate loses."""
        return await self.transact(lambda tx: tx.claim(key))

    async def request(self, request_id: str) -> Row | None:
        return await self.read(lambda tx: tx.request(request_id))

    async def set_request_state(
        self, request_id: str, state: str, *, finished: bool = False
    ) -> None:
        await self.write(
            "UPDATE requests SET state = ?, finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END"
            " WHERE id = ?",
            (state, finished, time.time(), request_id),
        )

    async def add_history(self, key: ThreadKey, author: str, role: str, text: str) -> None:
        await self.transact(lambda tx: tx.add_history(key, author, role, text))

    async def recent_history(self, key: ThreadKey, limit: int) -> list[Row]:
        return await self.read(lambda tx: tx.recent_history(key, limit))

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
            "SELECT r.thread FROM outbox o JOIN requests r ON r.id = o.request_id"  # noqa: S608
            f" WHERE r.platform = ? AND {self.dialect.json_text('o.ref', 'channel')} = ?"
            f" AND {self.dialect.json_text('o.ref', 'id')} = ? LIMIT 1",
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
