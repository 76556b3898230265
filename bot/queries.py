"""Read-only answers from the records: the status report and the roster.

Status is answered from SQLite alone, so it costs no agent a call; the words come from
`bot.render`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot import board, render
from bot.models import Request
from bot.outbound import StatusItem
from bot.places import queue, target_from_request, thread_key
from bot.store import ThreadKey, Tx

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

STATUS_LIMIT = 50


class Queries:
    def __init__(self, core: Dispatcher) -> None:
        self.core = core

    async def answer_status(
        self, request: Request, request_id: str, agent_id: str | None, *, closes: bool = True
    ) -> None:
        """In a DM, or in a request's own thread, the answer is for whoever reads there.
        Anywhere else it lists the asker's work in DMs and private channels, so only the
        asker sees it, and it stays out of the thread's history (and so out of briefs).
        `closes=False`: the message also asked for work, which keeps its request open."""
        key = thread_key(request)
        earlier = [  # a thread this message's own work just opened is no thread to report on
            t for t in await self.core.store.thread_tasks(key) if t["request_id"] != request_id
        ]
        if request.is_dm or earlier:
            text, items = await self.status_report(request.user, key, agent_id)
            await self.core.say(request_id, request, "status", text, done=closes, items=items)
            return
        text, items = await self.status_report(request.user, None, agent_id)
        target = target_from_request(request).model_copy(update={"private": True})

        def say(tx: Tx) -> None:
            queue(tx, request_id, target, "status", text, items=items)
            if closes:
                tx.finish_request(request_id)

        await self.core.store.transact(say)
        await self.core.notify()

    async def status_text(
        self, user: str | None, key: ThreadKey | None, agent_id: str | None = None
    ) -> str:
        return (await self.status_report(user, key, agent_id))[0]

    async def status_report(
        self,
        user: str | None,
        key: ThreadKey | None,
        agent_id: str | None = None,
        *,
        platform: str | None = None,
    ) -> tuple[str, list[StatusItem]]:
        """Answered from SQLite alone; scoped to this thread, else to the asker's own requests.

        `user=None` (the operator's `dispatch status`) sees everything. Items carry where each
        task lives, so an adapter can link to its thread.
        """
        in_thread = key is not None and bool(await self.core.store.thread_tasks(key))
        rows = await self.core.store.status_tasks(
            key if in_thread else None, user, platform, agent_id, STATUS_LIMIT + 1
        )
        agent = self.core.fleet.get(agent_id) if agent_id else None
        scope = render.status_scope(in_thread, user is not None)
        lead = ""
        if not rows and agent is not None:
            busy = await self.core.store.agent_load(agent.id)
            lead = render.nothing_in_flight(scope, agent.label, busy)
            if user is not None:  # in chat the rest of the asker's work may be what was meant
                rows = await self.core.store.status_tasks(
                    key if in_thread else None, user, platform, None, STATUS_LIMIT + 1
                )
            if not rows:
                return lead, []
            agent = None
        if not rows:
            return render.nothing_in_flight(scope), []
        more = len(rows) > STATUS_LIMIT
        rows = rows[:STATUS_LIMIT]
        held = self.core.runner.held
        notes = await self.core.store.read(
            lambda tx: {
                row["id"]: board.waiting_note(tx, row, self.core.fleet, held) for row in rows
            }
        )
        now = time.time()
        lines: list[str] = []
        items: list[StatusItem] = []
        for row in rows:
            took = now - row["started_at"] if row["started_at"] else None
            line = render.status_line(
                self.core.label(row["agent"]), row["summary"], row["state"], took, notes[row["id"]]
            )
            lines.append(line)
            items.append(
                StatusItem(
                    line=line,
                    platform=row["r_platform"],
                    workspace=row["r_workspace"],
                    channel=row["r_channel"],
                    thread=row["r_thread"],
                    is_dm=bool(row["r_dm"]),
                )
            )
        places = (
            None
            if in_thread
            else [render.where(i.platform, i.channel, i.thread, i.is_dm) for i in items]
        )
        down = sorted({row["agent"] for row in rows} & self.core.unavailable.keys())
        text = render.status(
            agent.label if agent else None,
            len(rows),
            more,
            scope,
            lines,
            places,
            [(self.core.label(a), self.core.unavailable[a]) for a in down],
        )
        return (f"{lead}\n{text}" if lead else text), ([] if in_thread else items)

    async def answer_roster(self, request: Request, request_id: str, query: str | None) -> None:
        await self.core.say(request_id, request, "roster", self.roster_text(query), done=True)

    def roster_text(self, query: str | None) -> str:
        catch_all = self.core.fleet.catch_all
        if query:
            return render.roster_for(
                query, self.core.planner.capable(query), catch_all, self.core.unavailable
            )
        return render.roster(self.core.fleet.agents, catch_all, self.core.unavailable)
