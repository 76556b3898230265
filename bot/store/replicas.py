"""Replicas sharing one database: each registers and heartbeats; a running task belongs to
the replica that started it, and a dead replica's tasks and threads pass to the living.

A replica is alive while its heartbeat is newer than the cutoff the caller gives (now minus
`DISPATCH_REPLICA_DEAD_AFTER`). On SQLite the cutoff is the future: one process owns the
file, so any other replica the records name is a previous run of it, and dead."""

from __future__ import annotations

from bot.store.base import Row, TxBase
from bot.store.core import StoreCore

LIVING = "SELECT id FROM replicas WHERE heartbeat_at >= ? AND stopped_at IS NULL"
"""The replicas alive at a cutoff (the one parameter): heartbeat recent, not stopped."""


LEASE_HOLDER = "SELECT owner FROM thread_leases WHERE thread = ?"
TAKE_LEASE = (
    "INSERT INTO thread_leases(thread, owner, expires_at) VALUES (?, ?, 0)"  # noqa: S608
    " ON CONFLICT(thread) DO UPDATE SET owner = excluded.owner"
    f" WHERE thread_leases.owner = excluded.owner OR thread_leases.owner NOT IN ({LIVING})"
    " RETURNING owner"
)
"""A row comes back only if the lease was inserted or taken: a living holder's stays."""
TAKE_LEASE_PG = (
    f"WITH held AS ({LEASE_HOLDER}), taken AS ({TAKE_LEASE})"  # noqa: S608
    " SELECT (SELECT owner FROM taken) AS taken, (SELECT owner FROM held) AS held"
)


class ReplicaVerbs(TxBase):
    def register_replica(self, replica: str, host: str, pid: int, now: float) -> None:
        """Join; and forget replicas gone a day that hold nothing, so the list stays short."""
        self.execute(
            "DELETE FROM replicas WHERE heartbeat_at < ? AND NOT EXISTS (SELECT 1 FROM tasks"
            " WHERE owner = replicas.id AND state IN ('running', 'input_required'))"
            " AND NOT EXISTS (SELECT 1 FROM thread_leases WHERE owner = replicas.id)",
            (now - 86400,),
        )
        self.execute(
            "INSERT INTO replicas(id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
            (replica, host, pid, now, now),
        )

    def heartbeat(self, replica: str, now: float) -> None:
        self.execute("UPDATE replicas SET heartbeat_at = ? WHERE id = ?", (now, replica))

    def live_replicas(self, cutoff: float) -> list[Row]:
        return self.all(
            "SELECT id, heartbeat_at FROM replicas WHERE heartbeat_at >= ? AND stopped_at IS NULL",
            (cutoff,),
        )

    def stop_replica(self, replica: str, now: float) -> None:
        """A clean stop: the others adopt this replica's tasks at once, not after the bound."""
        self.execute("UPDATE replicas SET stopped_at = ? WHERE id = ?", (now, replica))
        self.execute("DELETE FROM thread_leases WHERE owner = ?", (replica,))

    def adopt_tasks(self, replica: str, cutoff: float) -> list[Row]:
        """Take over the running and asking tasks of replicas that are dead (or unknown):
        each goes to exactly one adopter, which reconciles it with its agent."""
        return self.all(
            "UPDATE tasks SET owner = ? WHERE state IN ('running', 'input_required')"  # noqa: S608
            f" AND (owner IS NULL OR (owner != ? AND owner NOT IN ({LIVING})))"
            " RETURNING *",
            (replica, replica, cutoff),
        )

    def driven_by(self, replica: str, started_before: float) -> list[Row]:
        """The running tasks this replica owns that started before `started_before`."""
        return self.all(
            "SELECT * FROM tasks WHERE owner = ? AND state = 'running' AND started_at < ?"
            " ORDER BY seq",
            (replica, started_before),
        )

    def owns(self, task_ids: list[str]) -> list[Row]:
        """Of these tasks, each one's state and owner now."""
        return self.all(
            "SELECT id, state, owner, agent, session_kind, session_key FROM tasks WHERE"  # noqa: S608
            f" {self.dialect.in_list('id')}",
            (self.dialect.listed(task_ids),),
        )

    def lease_thread(self, thread: str, replica: str, cutoff: float) -> tuple[bool, bool]:
        """Post into `thread` alone: whether no living replica holds it, and whether it was
        taken from a dead one (which may have posted its head before it died)."""
        if self.dialect.shared:  # one round trip: PostgreSQL's CTEs all see the rows before
            row = self.one(TAKE_LEASE_PG, (thread, thread, replica, cutoff))
            granted, before = row is not None and row["taken"] is not None, row and row["held"]
        else:
            held = self.one(LEASE_HOLDER, (thread,))
            granted = self.one(TAKE_LEASE, (thread, replica, cutoff)) is not None
            before = held and held["owner"]
        return granted, granted and before is not None and before != replica

    def release_thread(self, thread: str, replica: str) -> None:
        self.execute("DELETE FROM thread_leases WHERE thread = ? AND owner = ?", (thread, replica))


class ReplicaStore(StoreCore):
    async def replicas(self) -> list[Row]:
        """Every replica on record, newest first, with the tasks and threads each holds."""
        return await self.all(
            "SELECT r.*, (SELECT COUNT(*) FROM tasks t WHERE t.owner = r.id AND t.state IN"
            " ('running', 'input_required')) AS tasks, (SELECT COUNT(*) FROM thread_leases l"
            " WHERE l.owner = r.id) AS threads FROM replicas r ORDER BY r.started_at DESC"
        )
