"""SQLite state: every request, task, dependency, session, delivery and processed message.

The dispatcher writes a state change here before it causes the side effect, so a restart
can always tell what was promised and what was done. Every statement is parametrized, and
every statement of Dispatch lives in this package:

- `core`: the store, its database thread and the group commit;
- `requests`, `tasks`, `outbox`: the verbs by subject, as `Tx` methods (run inside a
  transaction) and `Store` methods (a hop of their own);
- `reports`: cached Agent Cards, the scripted demo's leftovers, the planners' figures;
- `web`: what the web board reads (graphs in flight, agents' lanes, recent requests,
  transcripts);
- `migrate` and `schema.sql`: the schema, and the columns older databases lack.

The connection lives on a thread the store owns (one `sqlite3` connection, functions sent
to it and their outcomes handed back to the event loop), not in aiosqlite, whose private
`_execute` and `_conn` the group commit needed to send a whole transaction in one hop.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.base import Row, ThreadKey, dumps, loads, new_id
from bot.store.core import StoreError
from bot.store.outbox import OutboxStore, OutboxVerbs
from bot.store.replicas import ReplicaStore, ReplicaVerbs
from bot.store.reports import ReportStore
from bot.store.requests import RequestStore, RequestVerbs
from bot.store.tasks import TaskStore, TaskVerbs
from bot.store.web import WebVerbs


class Tx(RequestVerbs, TaskVerbs, OutboxVerbs, ReplicaVerbs, WebVerbs):
    """Every verb, for a body that `Store.transact` or `Store.read` runs on the database
    thread: a whole transaction (or a group of reads) costs one hop from the event loop."""


class Store(RequestStore, TaskStore, OutboxStore, ReportStore, ReplicaStore):
    """The store with every verb; `open()` it before use and `close()` it after."""

    tx_type = Tx

    async def open(self) -> Store:
        await super().open()
        return self


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def store_for(target: str | Path) -> Store:
    """The store `DISPATCH_DB` names: a `postgresql://` URL, or else a SQLite file."""
    if not is_postgres(target):
        return Store(target)
    try:
        from bot.store.postgres import PgStore
    except ImportError:
        raise StoreError(
            "a PostgreSQL database needs the psycopg driver: pip install 'dispatch[postgres]'"
        ) from None
    return PgStore(str(target))


__all__ = [
    "Row", "Store", "StoreError", "ThreadKey", "Tx", "dumps", "is_postgres", "loads", "new_id",
    "store_for",
]  # fmt: skip
