"""Reads for the web board: requests in flight with their task graphs, the agents' lanes,
recent requests under filters, and a thread's transcript.

Read only, and cheap on purpose: the board's live feed runs these a few times a second
while anyone watches, beside a dispatcher acknowledging requests. Every list of ids is
sent in chunks of `CHUNK`, and every statement is plain SQL any database speaks ("user"
quoted, no JSON functions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.store.base import Row, ThreadKey, TxBase

CHUNK = 500
"""Ids per `IN (…)` list."""

REQUEST_COLUMNS = (
    'r.id, r.platform, r.workspace, r.channel, r.thread, r."user", r.user_name, r.text,'
    " r.is_dm, r.kind, r.state, r.question, r.created_at, r.finished_at"
)
TASK_COLUMNS = (
    "t.id, t.request_id, t.seq, t.agent, t.session_kind, t.summary, t.state, t.question,"
    " t.error, t.created_at, t.started_at, t.finished_at, t.attempt"
)


def _marks(count: int) -> str:
    return ",".join("?" for _ in range(count))


def _chunked(ids: Sequence[str], read: Callable[[str, list[str]], list[Row]]) -> list[Row]:
    rows: list[Row] = []
    for start in range(0, len(ids), CHUNK):
        part = list(ids[start : start + CHUNK])
        rows += read(_marks(len(part)), part)
    return rows


class WebVerbs(TxBase):
    """What the board reads, inside one hop to the database."""

    def open_request_versions(self) -> list[Row]:
        """Requests in flight with their state and board version: a change to either is a
        change to draw (every task transition bumps the board)."""
        return self.all(
            "SELECT r.id, r.state, r.created_at, b.version FROM requests r"
            " LEFT JOIN boards b ON b.request_id = r.id"
            " WHERE r.state IN ('running','clarifying')"
        )

    def finished_requests_since(self, since: float) -> list[Row]:
        """Requests finished at or after `since`, newest first."""
        return self.all(
            f"SELECT {REQUEST_COLUMNS} FROM requests r"  # noqa: S608
            " WHERE r.state = 'done' AND r.finished_at >= ? ORDER BY r.finished_at DESC",
            (since,),
        )

    def board_requests(self, ids: Sequence[str]) -> list[Row]:
        return _chunked(
            ids,
            lambda marks, part: self.all(
                f"SELECT {REQUEST_COLUMNS} FROM requests r WHERE r.id IN ({marks})",  # noqa: S608
                part,
            ),
        )

    def board_tasks(self, request_ids: Sequence[str]) -> list[Row]:
        """The tasks of these requests, in the order they were planned."""
        rows = _chunked(
            request_ids,
            lambda marks, part: self.all(
                f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.request_id IN ({marks})",  # noqa: S608
                part,
            ),
        )
        return sorted(rows, key=lambda row: row["seq"])

    def board_edges(self, request_ids: Sequence[str]) -> list[Row]:
        """Each dependency among these requests' tasks: (task id, the task it waits for)."""
        return _chunked(
            request_ids,
            lambda marks, part: self.all(
                "SELECT d.task_id, d.depends_on FROM task_deps d"  # noqa: S608
                f" JOIN tasks t ON t.id = d.task_id WHERE t.request_id IN ({marks})",
                part,
            ),
        )

    def lane_counts(self, agents: Sequence[str]) -> list[Row]:
        """Per agent, its tasks queued, running or asking, counted on the (agent, state)
        index alone: agent by agent, so finished history is never scanned."""
        rows: list[Row] = []
        for agent in agents:
            rows += self.all(
                "SELECT agent, state, COUNT(*) AS n FROM tasks WHERE agent = ?"
                " AND state IN ('queued','running','input_required') GROUP BY agent, state",
                (agent,),
            )
        return rows

    def lane_heads(self, agents: Sequence[str], per_agent: int) -> list[Row]:
        """Per agent, the first `per_agent` tasks it is busy with (oldest first) and the first
        `per_agent` queued behind its persistent sessions (in order)."""
        rows: list[Row] = []
        for agent in agents:
            rows += self.all(
                "SELECT id, request_id, agent, summary, state, started_at, 'busy' AS lane"
                " FROM tasks WHERE agent = ? AND state IN ('running','input_required')"
                " ORDER BY started_at, seq LIMIT ?",
                (agent, per_agent),
            )
            rows += self.all(
                "SELECT id, request_id, agent, summary, state, started_at, 'queue' AS lane"
                " FROM tasks WHERE state = 'queued' AND session_kind = 'persistent'"
                " AND agent = ? ORDER BY seq LIMIT ?",
                (agent, per_agent),
            )
        return rows

    def finished_per_agent(self, since: float) -> list[Row]:
        """Tasks done, failed and timed out since `since`, per agent."""
        return self.all(
            "SELECT agent, state, COUNT(*) AS n FROM tasks WHERE finished_at >= ?"
            " AND state IN ('completed','failed','timed_out') GROUP BY agent, state",
            (since,),
        )

    def finished_requests(
        self,
        *,
        user: str = "",
        channel: str = "",
        agent: str = "",
        states: Iterable[str] = (),
        before: float | None = None,
        limit: int = 50,
    ) -> list[Row]:
        """Finished requests, newest first, narrowed by whoever filled the filters in:
        a user (id or name), a channel, an agent that had a task, a task state seen."""
        where = ["r.state = 'done'"]
        params: list[Any] = []
        if user:
            where.append('(r."user" = ? OR r.user_name = ?)')
            params += [user, user]
        if channel:
            where.append("r.channel = ?")
            params.append(channel)
        if agent:
            where.append("EXISTS (SELECT 1 FROM tasks t WHERE t.request_id = r.id AND t.agent = ?)")
            params.append(agent)
        wanted = list(states)
        if wanted:
            where.append(
                "EXISTS (SELECT 1 FROM tasks t WHERE t.request_id = r.id"  # noqa: S608
                f" AND t.state IN ({_marks(len(wanted))}))"
            )
            params += wanted
        if before is not None:
            where.append("r.finished_at < ?")
            params.append(before)
        params.append(int(limit))
        # `where` is assembled from the fixed fragments above; every value is a parameter.
        return self.all(
            f"SELECT {REQUEST_COLUMNS} FROM requests r WHERE {' AND '.join(where)}"  # noqa: S608
            " ORDER BY r.finished_at DESC LIMIT ?",
            params,
        )

    def task_outcomes(self, request_ids: Sequence[str]) -> list[Row]:
        """Per request: its tasks counted per agent and state."""
        return _chunked(
            request_ids,
            lambda marks, part: self.all(
                "SELECT request_id, agent, state, COUNT(*) AS n FROM tasks"  # noqa: S608
                f" WHERE request_id IN ({marks}) GROUP BY request_id, agent, state",
                part,
            ),
        )

    def thread_messages(self, key: ThreadKey) -> list[Row]:
        """What Dispatch queued in a thread, in order, with the stored result a relay reads."""
        return self.all(
            "SELECT o.id, o.request_id, o.task_id, o.kind, o.payload, o.state, o.created_at,"
            " o.sent_at, t.result AS task_result FROM outbox o"
            " JOIN requests r ON r.id = o.request_id LEFT JOIN tasks t ON t.id = o.task_id"
            " WHERE r.platform = ? AND r.workspace = ? AND r.channel = ? AND r.thread = ?"
            " ORDER BY o.id",
            (key.platform, key.workspace, key.channel, key.thread),
        )

    def thread_words(self, key: ThreadKey) -> list[Row]:
        """What people wrote in a thread, as its history keeps it."""
        return self.all(
            "SELECT author, text, at FROM history WHERE platform = ? AND workspace = ?"
            " AND channel = ? AND thread = ? AND role = 'user' ORDER BY id",
            (key.platform, key.workspace, key.channel, key.thread),
        )
