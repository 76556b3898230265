"""Tasks: their rows and dependencies, the queue, starting, asking, finishing and
retrying, and the agents' sessions they run in."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bot.store.base import Row, ThreadKey, TxBase, new_id
from bot.store.core import StoreCore

DEPENDENCIES_SQL = (
    "SELECT t.* FROM task_deps d JOIN tasks t ON t.id = d.depends_on"
    " WHERE d.task_id = ? ORDER BY t.seq"
)
SAME_THREAD = (
    "x.platform = r.platform AND x.workspace = r.workspace AND x.channel = r.channel"
    " AND x.thread = r.thread"
)
HISTORY_OF_REQUEST_SQL = (
    f"SELECT x.* FROM history x JOIN requests r ON {SAME_THREAD}"  # noqa: S608
    " WHERE r.id = ? ORDER BY x.id DESC LIMIT ?"
)
TASKS_OF_THREAD_SQL = (
    "SELECT t.* FROM tasks t JOIN requests x ON x.id = t.request_id"  # noqa: S608
    f" JOIN requests r ON {SAME_THREAD} WHERE r.id = ? ORDER BY t.seq"
)
"""A request's thread's history and tasks, found from the request's id."""


class TaskVerbs(TxBase):
    """What happens to a task, inside a transaction."""

    def task(self, task_id: str) -> Row | None:
        return self.one("SELECT * FROM tasks WHERE id = ?", (task_id,))

    def task_and_request(self, task_id: str) -> tuple[Row | None, Row | None]:
        """A task and its request, both sent before either is read (one round trip in
        PostgreSQL's pipeline)."""
        task = self.execute("SELECT * FROM tasks WHERE id = ?", (task_id,))
        request = self.execute(
            "SELECT * FROM requests WHERE id = (SELECT request_id FROM tasks WHERE id = ?)",
            (task_id,),
        )
        return task.fetchone(), request.fetchone()

    def request_tasks(self, request_id: str) -> list[Row]:
        return self.all("SELECT * FROM tasks WHERE request_id = ? ORDER BY seq", (request_id,))

    def dependencies(self, task_id: str) -> list[Row]:
        return self.all(DEPENDENCIES_SQL, (task_id,))

    def dependents(self, task_id: str) -> list[Row]:
        return self.all(
            "SELECT t.* FROM task_deps d JOIN tasks t ON t.id = d.task_id"
            " WHERE d.depends_on = ? ORDER BY t.seq",
            (task_id,),
        )

    def for_brief(
        self, task_id: str, request_id: str | None, history_limit: int
    ) -> tuple[list[Row], Row | None, list[Row], list[Row]]:
        """What a starting task's brief is made of: its dependencies, and (given its
        `request_id`) the request, its thread's recent history (oldest first) and the
        thread's tasks. Sent together before any is read: one round trip in PostgreSQL's
        pipeline."""
        deps = self.execute(DEPENDENCIES_SQL, (task_id,))
        if request_id is None:
            return deps.fetchall(), None, [], []
        request = self.execute("SELECT * FROM requests WHERE id = ?", (request_id,))
        history = self.execute(HISTORY_OF_REQUEST_SQL, (request_id, history_limit))
        tasks = self.execute(TASKS_OF_THREAD_SQL, (request_id,))
        return deps.fetchall(), request.fetchone(), history.fetchall()[::-1], tasks.fetchall()

    def thread_tasks(self, key: ThreadKey) -> list[Row]:
        return self.all(
            "SELECT t.* FROM tasks t JOIN requests r ON r.id = t.request_id"
            " WHERE r.platform = ? AND r.workspace = ? AND r.channel = ? AND r.thread = ?"
            " ORDER BY t.seq",
            (key.platform, key.workspace, key.channel, key.thread),
        )

    def main_session(self, agent: str, scope: str = "") -> str:
        """The agent's persistent session for `scope` ('' for its one main session, else a
        channel's or a user's own), created on first use and kept."""
        self.execute(
            "INSERT INTO sessions(id, agent, kind, scope, created_at)"
            " VALUES (?, ?, 'persistent', ?, ?) ON CONFLICT DO NOTHING",
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

    def insert_tasks(self, tasks: Sequence[tuple[tuple[Any, ...], Sequence[str]]]) -> None:
        """Each task's row (id, request id, spec id, agent, session kind, summary, brief, state,
        created at, session key) followed by the ids of the tasks it depends on. Each gets the
        next task number, so tasks start in the order they were asked for."""
        self.execute_many(
            "INSERT INTO tasks(id, request_id, spec_id, agent, session_kind, summary, brief,"  # noqa: S608
            f" state, created_at, session_key, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            f" {self.dialect.NEXT_TASK_NUMBER})",
            [values for values, _ in tasks],
        )
        edges = [(values[0], dep) for values, depends_on in tasks for dep in depends_on]
        if edges:
            self.execute_many("INSERT INTO task_deps(task_id, depends_on) VALUES (?, ?)", edges)

    def claim_task(self, task_id: str, session_kind: str | None = None) -> bool:
        """Take a queued task to start it: False if another replica has (or it is no longer
        queued). A persistent session takes one task at a time, across replicas too.
        `session_kind` "disposable", known from the row the caller read: one statement."""
        if session_kind == "disposable":
            return (
                self.changed(
                    "UPDATE tasks SET state = 'running', owner = ? WHERE id = ? AND state ="
                    " 'queued' AND session_kind = 'disposable'",
                    (self.replica, task_id),
                )
                == 1
            )
        task = self.one(
            "SELECT agent, session_kind, session_key FROM tasks WHERE id = ? AND state = 'queued'",
            (task_id,),
        )
        if task is None:
            return False
        if task["session_kind"] == "persistent":
            self.lock_session(task["agent"], task["session_key"])
            if self.one(
                "SELECT 1 FROM tasks WHERE agent = ? AND session_key = ? AND session_kind ="
                " 'persistent' AND state IN ('running', 'input_required') LIMIT 1",
                (task["agent"], task["session_key"]),
            ):
                return False
        claimed = self.changed(
            "UPDATE tasks SET state = 'running', owner = ? WHERE id = ? AND state = 'queued'",
            (self.replica, task_id),
        )
        return claimed == 1

    def lock_session(self, agent: str, session_key: str) -> None:
        """Hold a persistent session until the transaction ends (SQLite's write lock holds
        every session already)."""

    def start_task(
        self, task_id: str, session_id: str, brief: str, now: float, deadline: float
    ) -> None:
        self.execute(
            "UPDATE tasks SET state = 'running', session_id = ?, brief = ?, started_at = ?,"
            " deadline = ?, owner = ? WHERE id = ?",
            (session_id, brief, now, deadline, self.replica, task_id),
        )

    def set_remote_task_id(self, task_id: str, remote_task_id: str | None) -> None:
        self.execute("UPDATE tasks SET remote_task_id = ? WHERE id = ?", (remote_task_id, task_id))

    def resume_task(self, task_id: str, deadline: float) -> bool:
        """An answer came for a task waiting on one: it runs again, driven by this replica.
        False if it no longer waits (another answer, on any replica, got there first)."""
        resumed = self.changed(
            "UPDATE tasks SET state = 'running', deadline = ?, owner = ? WHERE id = ?"
            " AND state = 'input_required'",
            (deadline, self.replica, task_id),
        )
        return resumed == 1

    def task_state(self, task_id: str) -> str:
        row = self.one("SELECT state FROM tasks WHERE id = ?", (task_id,))
        return str(row["state"]) if row else "gone"

    def ask(self, task_id: str, question: str, deadline: float) -> bool:
        """The agent asked the user something: the task waits for the answer until `deadline`.
        False when the task is not running (it ended meanwhile)."""
        return (
            self.changed(
                "UPDATE tasks SET state = 'input_required', question = ?, deadline = ?"
                " WHERE id = ? AND state = 'running'",
                (question, deadline, task_id),
            )
            > 0
        )

    def finish_task(
        self, task_id: str, state: str, result: str | None, files: str | None, error: str | None
    ) -> bool:
        """Record a terminal state; False when the task had already ended."""
        finished = self.changed(
            "UPDATE tasks SET state = ?, result = ?, files = ?, error = ?, finished_at = ?,"
            " deadline = NULL WHERE id = ? AND state IN ('waiting','queued','running','input_required')",
            (state, result, files, error, time.time(), task_id),
        )
        return finished == 1

    def block_task(self, task_id: str, error: str) -> None:
        self.execute(
            "UPDATE tasks SET state = 'blocked', error = ?, finished_at = ? WHERE id = ?",
            (error, time.time(), task_id),
        )

    def queue_task(self, task_id: str) -> bool:
        """A waiting task may start: True if it was waiting."""
        queued = self.changed(
            "UPDATE tasks SET state = 'queued' WHERE id = ? AND state = 'waiting'", (task_id,)
        )
        return queued == 1

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

    def state_counts(self, request_id: str) -> dict[str, int]:
        """A request's tasks per state, counted by the database."""
        return {
            row["state"]: row["n"]
            for row in self.all(
                "SELECT state, COUNT(*) AS n FROM tasks WHERE request_id = ? GROUP BY state",
                (request_id,),
            )
        }


class TaskStore(StoreCore):
    """Tasks and sessions, read or changed in a hop of their own."""

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
            " WHERE NOT EXISTS (SELECT 1 FROM tasks b WHERE b.agent = t.agent AND b.session_key ="
            "   t.session_key AND b.session_kind = 'persistent' AND b.state IN"
            "   ('running', 'input_required'))"
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

    async def active_task_counts(self) -> dict[str, int]:
        """Active tasks per state, for everyone (the metrics' `dispatch_tasks`)."""
        rows = await self.all(
            "SELECT state, COUNT(*) AS n FROM tasks"
            " WHERE state IN ('waiting','queued','running','input_required') GROUP BY state"
        )
        return {row["state"]: int(row["n"]) for row in rows}

    async def user_active_tasks(self, platform: str, user: str) -> list[Row]:
        return await self.all(
            "SELECT t.* FROM tasks t JOIN requests r ON r.id = t.request_id"
            " WHERE r.platform = ? AND r.user = ?"
            " AND t.state IN ('waiting','queued','running','input_required') ORDER BY t.seq",
            (platform, user),
        )

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
