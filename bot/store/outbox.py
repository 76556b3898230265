"""The outbox (every message Dispatch will post, in order per conversation), the live
status boards, and retention: what finished requests leave behind, purged in batches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from bot.store.base import Row, TxBase
from bot.store.core import StoreCore
from bot.store.replicas import LIVING

if TYPE_CHECKING:
    from bot.store import Tx

T = TypeVar("T")

ENQUEUE_SQL = (
    "INSERT INTO outbox(request_id, task_id, kind, thread, dedupe, payload, created_at,"
    " origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id"
)
BUMP_BOARD_SQL = (
    "INSERT INTO boards(request_id, version) VALUES (?, 1)"
    " ON CONFLICT(request_id) DO UPDATE SET version = boards.version + 1"
)
HEAD_ROW = (
    "SELECT o.*, (SELECT COUNT(*) FROM outbox WHERE thread = o.thread AND state ="
    " 'pending') AS pending, (SELECT result FROM tasks WHERE id = o.task_id) AS"
    " task_result FROM outbox o WHERE o.id = ? AND o.state = 'pending' AND o.id ="
    " (SELECT MIN(id) FROM outbox WHERE thread = o.thread AND state = 'pending')"
)
HEAD_ROW_LEASED = (
    f"WITH head AS ({HEAD_ROW}),"  # noqa: S608
    " held AS (SELECT owner FROM thread_leases WHERE thread = (SELECT thread FROM head)),"
    " taken AS (INSERT INTO thread_leases(thread, owner, expires_at)"
    " SELECT thread, ?, 0 FROM head ON CONFLICT(thread) DO UPDATE SET owner = excluded.owner"
    f" WHERE thread_leases.owner = excluded.owner OR thread_leases.owner NOT IN ({LIVING})"
    " RETURNING owner)"
    " SELECT head.*, (SELECT owner FROM taken) AS leased, (SELECT owner FROM held) AS held"
    " FROM head"
)
"""The head row and its thread's lease in one round trip (PostgreSQL: every CTE sees the
rows as they were before the statement, so `held` is the holder before this take)."""


class OutboxVerbs(TxBase):
    """Messages and boards, inside a transaction."""

    def head_of(self, thread: str) -> Row | None:
        """The oldest pending message of one conversation, due or not (with the stored
        result it relays, if it is a result)."""
        return self.one(
            "SELECT o.*, (SELECT result FROM tasks WHERE id = o.task_id) AS task_result"
            " FROM outbox o WHERE o.thread = ? AND o.state = 'pending' ORDER BY o.id LIMIT 1",
            (thread,),
        )

    def thread_head_row(self, outbox_id: int, lease: tuple[str, float] | None = None) -> Row | None:
        """Message `outbox_id` as the courier reads it, if it is the oldest pending one of
        its conversation (so it may go out now without passing anything queued before it).

        `lease` (this replica, the cutoff for the living), with replicas: the thread's lease
        is taken in the same statement, so the courier need not take it in a transaction of
        its own before posting. None if a living replica holds the thread (it sends this
        message after its own); the row's `held` says who held it before."""
        if lease is None:
            return self.one(HEAD_ROW, (outbox_id,))
        row = self.one(HEAD_ROW_LEASED, (outbox_id, lease[0], lease[1]))
        return row if row is not None and row["leased"] is not None else None

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
        body, now, origin = json.dumps(payload), time.time(), self.replica or None
        cursor = self.execute(
            ENQUEUE_SQL, (request_id, task_id, kind, thread, dedupe, body, now, origin)
        )
        row = cursor.fetchone()
        return int(row["id"]) if row is not None else None

    def bump_board(self, request_id: str) -> None:
        """Mark a request's status board stale; the courier redraws it (coalesced)."""
        self.execute(BUMP_BOARD_SQL, (request_id,))

    def new_board(self, request_id: str) -> None:
        self.execute("INSERT INTO boards(request_id, version) VALUES (?, 1)", (request_id,))

    def ack_payload(self, request_id: str) -> str | None:
        """The stored acknowledgement of a request, which carries its status board."""
        row = self.one(
            "SELECT payload FROM outbox WHERE request_id = ? AND kind = 'ack'", (request_id,)
        )
        return None if row is None else str(row["payload"])


def _purge_batch(tx: OutboxVerbs, before: float, limit: int) -> int:
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
        chosen, of_chosen = tx.dialect.listed(ids), tx.dialect.in_list("request_id")
        tasks = f"SELECT id FROM tasks WHERE {of_chosen}"  # noqa: S608
        sessions = [
            row["session_id"]
            for row in tx.all(
                "SELECT DISTINCT session_id FROM tasks WHERE session_kind = 'disposable'"  # noqa: S608
                f" AND session_id IS NOT NULL AND {of_chosen}",
                (chosen,),
            )
        ]
        tx.execute(
            f"DELETE FROM task_deps WHERE task_id IN ({tasks}) OR depends_on IN ({tasks})",  # noqa: S608
            (chosen, chosen),
        )
        for table in ("outbox", "boards", "plans", "tasks"):
            tx.execute(
                f"DELETE FROM {table} WHERE {of_chosen}",  # noqa: S608
                (chosen,),
            )
        tx.execute(
            f"UPDATE requests SET parent_id = NULL WHERE {tx.dialect.in_list('parent_id')}",  # noqa: S608
            (chosen,),
        )
        tx.execute(f"DELETE FROM requests WHERE {tx.dialect.in_list('id')}", (chosen,))  # noqa: S608
        tx.execute(
            f"DELETE FROM sessions WHERE kind = 'disposable' AND {tx.dialect.in_list('id')}"  # noqa: S608
            " AND NOT EXISTS (SELECT 1 FROM tasks WHERE session_id = sessions.id)",
            (tx.dialect.listed(sessions),),
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


class OutboxStore(StoreCore):
    """Messages, boards and retention, each in a hop of its own."""

    async def outbox_state(self, outbox_id: int) -> str | None:
        """A message's delivery state (pending, sent, dead), or None once purged."""
        row = await self.one("SELECT state FROM outbox WHERE id = ?", (outbox_id,))
        return None if row is None else str(row["state"])

    async def unsettled(self) -> int:
        """Tasks not finished plus messages not sent: zero when all is quiet."""
        row = await self.one(
            "SELECT (SELECT COUNT(*) FROM tasks WHERE state IN ('waiting','queued','running'))"
            " + (SELECT COUNT(*) FROM outbox WHERE state = 'pending') AS n"
        )
        return int(row["n"]) if row is not None else -1

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

    async def due_heads(
        self,
        now: float,
        first: Sequence[str] = (),
        limit: int = 500,
        *,
        leased: tuple[str, float] | None = None,
    ) -> list[Row]:
        """The oldest pending message of each conversation, if it is due: one per thread,
        so a thread's messages go out in order while threads go out side by side. Heads of
        the kinds in `first` come first, then the rest, each oldest first. `pending` is how
        many messages that thread has waiting, the head included.

        `leased` (this replica's id, and the heartbeat cutoff of the living), with replicas
        sharing the database: threads another living replica holds are left out, since
        they are its to send; asking for their lease again would only be refused. So are
        heads another living replica queued: it sends them as soon as they are queued, and
        two replicas reaching for one thread would wait on each other's rows."""
        others = ""
        params: tuple[Any, ...] = (now,)
        if leased is not None:
            others = (
                " AND NOT EXISTS (SELECT 1 FROM thread_leases l WHERE l.thread = o.thread"  # noqa: S608
                f" AND l.owner != ? AND l.owner IN ({LIVING}))"
                f" AND (o.origin IS NULL OR o.origin = ? OR o.origin NOT IN ({LIVING}))"
            )
            params += (*leased, leased[0], leased[1])
        return await self.all(
            "SELECT o.*, head.pending FROM outbox o JOIN (SELECT thread, MIN(id) AS id,"  # noqa: S608
            "   COUNT(*) AS pending FROM outbox WHERE state = 'pending' GROUP BY thread) head"
            f" ON o.id = head.id WHERE o.next_at <= ?{others}"
            f" ORDER BY {self.dialect.in_list('o.kind')} DESC, o.id LIMIT ?",
            (*params, self.dialect.listed(first), limit),
        )

    async def mark_sent(
        self,
        outbox_id: int,
        ref: dict[str, Any] | None,
        *,
        board_of: str | None = None,
        then: Callable[[Tx], T] | None = None,
    ) -> T | None:
        """Delivered; an acknowledgement also becomes its request's live status board.

        `then` runs in the same transaction and its value is returned: what the sender does
        next (read the thread's next message, keep or give back its lease) costs no
        transaction of its own."""
        ref_json = json.dumps(ref) if ref else None

        def mark(tx: Tx) -> T | None:
            tx.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, ref = ? WHERE id = ?",
                (time.time(), ref_json, outbox_id),
            )
            if board_of is not None:
                tx.execute(
                    "UPDATE boards SET ref = ?, shown = 0 WHERE request_id = ?",
                    (ref_json, board_of),
                )
            return None if then is None else then(tx)

        return await self.transact(mark)

    async def mark_retry(self, outbox_id: int, error: str, next_at: float, *, dead: bool) -> None:
        """A failed attempt: counted, and retried at `next_at` (or given up: `dead`)."""
        await self.write(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ?,"
            " state = CASE WHEN ? = 1 THEN 'dead' ELSE state END WHERE id = ?",
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
