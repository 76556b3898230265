"""Verbs outside a request's life: cached Agent Cards, the scripted demo's leftovers, a
thread that has gone quiet, and the planners' figures."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from bot.store.base import Row
from bot.store.core import StoreCore


class ReportStore(StoreCore):
    async def cached_card(self, agent: str) -> dict[str, Any] | None:
        """The card last fetched for `agent` (or a gateway's agent list), if any."""
        row = await self.one("SELECT card FROM agent_cards WHERE agent = ?", (agent,))
        return json.loads(row["card"]) if row and row["card"] else None

    async def save_card(self, agent: str, card: dict[str, Any] | None, reason: str | None) -> None:
        """Record a probe: a fetched card replaces the cached one; a failed probe keeps it."""
        await self.write(
            "INSERT INTO agent_cards(agent, card, fetched_at, available, reason)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(agent) DO UPDATE SET card = COALESCE(excluded.card, agent_cards.card),"
            " fetched_at = CASE WHEN excluded.card IS NULL THEN agent_cards.fetched_at"
            " ELSE excluded.fetched_at END,"
            " available = excluded.available, reason = excluded.reason",
            (
                agent,
                json.dumps(card) if card is not None else None,
                time.time(),
                reason is None,
                reason,
            ),
        )

    async def leftovers(
        self, platform: str, threads: Sequence[str]
    ) -> tuple[list[Row], list[Row], list[Row]]:
        """In these threads: tasks that did not complete, requests not done, messages not
        sent (what the scripted demo judges, and only its own threads)."""
        mine = (platform, self.dialect.listed(threads))
        of_mine = self.dialect.in_list("r.thread")
        tasks = await self.all(
            "SELECT t.id, t.agent, t.state, t.error FROM tasks t"  # noqa: S608
            " JOIN requests r ON r.id = t.request_id"
            f" WHERE r.platform = ? AND {of_mine}"
            " AND t.state != 'completed'",
            mine,
        )
        requests = await self.all(
            "SELECT r.id, r.kind, r.state FROM requests r"  # noqa: S608
            f" WHERE r.platform = ? AND {of_mine}"
            " AND r.state != 'done'",
            mine,
        )
        unsent = await self.all(
            "SELECT o.id FROM outbox o JOIN requests r ON r.id = o.request_id"  # noqa: S608
            f" WHERE r.platform = ? AND {of_mine}"
            " AND o.state != 'sent'",
            mine,
        )
        return tasks, requests, unsent

    async def thread_busy(self, platform: str, thread: str) -> bool:
        """Something in the thread is still to run or to be sent."""
        row = await self.one(
            "SELECT EXISTS(SELECT 1 FROM tasks t JOIN requests r ON r.id = t.request_id"
            "   WHERE r.platform = ? AND r.thread = ? AND t.state IN ('waiting','queued','running'))"
            " OR EXISTS(SELECT 1 FROM outbox o JOIN requests r ON r.id = o.request_id"
            "   WHERE r.platform = ? AND r.thread = ? AND o.state = 'pending') AS busy",
            (platform, thread, platform, thread),
        )
        return bool(row and row["busy"])

    async def plan_figures(self) -> list[Row]:
        """Every recorded plan: which planner, whether a model was asked, and its cost."""
        return await self.all(
            "SELECT planner, model, fallback_reason, repaired, input_tokens, output_tokens,"
            " latency_ms FROM plans ORDER BY id"
        )
