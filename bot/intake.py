"""Intake: a message, up to "recorded and acknowledged".

`receive` reads top to bottom: take the message in, let the model plan it if it should,
then act on the plan. Taking in is one transaction and the only place a message is claimed:
it refuses it (too long, or its author over a limit), records it as received for the model,
or plans it by the rules and records it (for work: its tasks, board and acknowledgement
too), so most messages cost one transaction. The model's turn (`bot.planning`) comes after
the claim, so "Routing…" can be said while it thinks. The acknowledgement goes out before
any agent is called; then the runner starts the work. Every sentence comes from `render`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import board, planning, render
from bot.board import Session
from bot.brief import briefs_for
from bot.models import Decision, Request
from bot.places import queue, thread_key
from bot.planner import Lesson, ThreadContext
from bot.store import Row, Tx, new_id

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.semantic.ahead import Ahead

log = logging.getLogger(__name__)

ACK_WAIT = 1.0
"""How long task launch waits for the acknowledgement to be posted first."""
REFUSED_CHARS = 200
"""How much of a refused message is kept."""


@dataclass
class Taken:
    """What intake's one transaction claimed, read, decided and recorded."""

    decision: Decision
    context: ThreadContext = field(default_factory=ThreadContext)
    lessons: list[Lesson] = field(default_factory=list)
    head: Row | None = None
    """The notice or acknowledgement queued, if it heads its thread (it can go at once)."""
    ack_id: int | None = None
    refused: bool = False
    """Too long, or its author over a limit: recorded as refused, `head` says why."""
    for_model: bool = False
    """Recorded as received; the model plans it next."""
    work_recorded: bool = False
    """Its tasks, board and acknowledgement are recorded: only launching is left."""
    running: bool = False
    """It started work (not refused for its author's work in flight)."""


def _author(request: Request) -> tuple[str, str, str]:
    return request.platform, request.workspace, request.user


class _Duplicate(Exception):
    """The message was already handled; the transaction that found it rolls back."""


LESSONS_KEPT = 10_000
"""Authors whose lessons intake keeps as last read, to plan ahead without a read."""

GC_HOLD = 1.0
"""Seconds the garbage collector waits at most while messages are being taken in."""


class _CollectorHold:
    """The collector waits out a burst of messages: a collection walks every young object
    (with thousands of tasks in flight, tens of milliseconds) and would stop every
    acknowledgement behind it. It runs once the burst is taken in, or after `GC_HOLD`
    seconds of intake without a pause, so a steady stream cannot grow memory without bound.
    A collector someone else switched off stays off."""

    def __init__(self) -> None:
        self._release: asyncio.TimerHandle | None = None

    def hold(self) -> None:
        if self._release is None and gc.isenabled():
            gc.disable()
            self._release = asyncio.get_running_loop().call_later(GC_HOLD, self.release)

    def release(self) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None
            gc.enable()


class Intake:
    def __init__(self, core: Dispatcher) -> None:
        self.core = core
        self.receiving = 0
        """Messages being handled right now."""
        self.idle_event = asyncio.Event()
        """Set while no message is being taken in."""
        self.idle_event.set()
        self._collector = _CollectorHold()
        self._lessons: dict[tuple[str, str, str], list[Lesson]] = {}
        """(platform, workspace, user) → that author's lessons, as this replica last read
        them (`_plan_ahead`)."""

    @property
    def busy(self) -> bool:
        """A message is being taken in (read from any thread: housekeeping waits on it)."""
        return self.receiving > 0

    async def quiet(self, limit: float) -> None:
        """Until no message is being taken in, or `limit` seconds: housekeeping (status-board
        edits, a metrics scrape) waits out a burst, so its acknowledgements go first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle_event.wait(), limit)

    async def receive(self, request: Request, recorded: asyncio.Event | None = None) -> str | None:
        """Handle one normalized message. Returns the request id, or None for a duplicate.
        `recorded` is set once the message is in the database."""
        self.receiving += 1
        self.idle_event.clear()
        self._collector.hold()
        try:
            return await self._receive(request, recorded or asyncio.Event())
        finally:
            self.receiving -= 1
            if not self.receiving:
                self.idle_event.set()
                self._collector.release()
            await self.core.notify()

    async def _receive(self, request: Request, recorded: asyncio.Event) -> str | None:
        """Take the message in (one transaction), let the model plan it if it should, then
        answer it or start its work."""
        request_id = new_id("req")
        telemetry = self.core.telemetry
        traceparent = telemetry.request_received(request_id, request)
        try:
            taken = await self._take_in(request, request_id, traceparent)
        except _Duplicate:
            recorded.set()
            telemetry.request_dropped(request_id)
            log.info("duplicate delivery ignored: %s", request.dedupe_key)
            return None
        recorded.set()
        if taken.refused:
            telemetry.request_decided(request_id, "refused", "none")
            await self.core.notify(taken.head)
            telemetry.request_taken(request_id)
            return request_id
        decision = taken.decision
        if taken.for_model:
            decision = await planning.ask_model(
                self.core, request, request_id, taken.context, taken.lessons
            )
        telemetry.request_decided(request_id, decision.kind, decision.planner)
        if taken.work_recorded:
            running = taken.running
            await self._launch(taken.ack_id, taken.head)
            if decision.also is not None and running:  # "scrap X and do Y instead"
                aside = decision.also.decision()
                await self._act(request, request_id, aside, taken.context, closes=False)
        else:
            running = await self._act(request, request_id, decision, taken.context)
        if not running:
            telemetry.request_taken(request_id)  # all there was to it: no work to follow
        return request_id

    async def _take_in(self, request: Request, request_id: str, traceparent: str | None) -> Taken:
        """Claim the message and record it in one transaction: refused, received for the
        model, or planned by the rules (for work, with its tasks and acknowledgement)."""
        limit = self.core.settings.max_message_chars
        too_long = render.too_long(len(request.text), limit) if len(request.text) > limit else None
        ahead = None
        if too_long is None:
            await self.core.planner.warm(request.text)
            ahead = await self._plan_ahead(request)
        held = self.core.runner.held
        taken = await self.core.store.transact(
            lambda tx: self._record(tx, request, request_id, too_long, held, traceparent, ahead)
        )
        if not taken.refused:
            if len(self._lessons) >= LESSONS_KEPT:
                self._lessons.clear()
            self._lessons[_author(request)] = taken.lessons
        return taken

    async def _plan_ahead(self, request: Request) -> Ahead | None:
        """The plan the planning process makes from the thread and lessons as they are now;
        the transaction uses it if they are still so (`bot.semantic.ahead`)."""
        process = self.core.plan_process
        if process is None or not process.ready:
            return None
        known = self._lessons.get(_author(request))
        if request.thread is None and known is not None:
            # A new top-level message has no thread yet, and its author's lessons are as
            # last read here: no read. The transaction checks both (`Ahead.stands`) and
            # plans again if either has changed meanwhile (a lesson taught on another
            # replica), so a wrong guess costs a plan, never a wrong route.
            return await process.plan(request.text, ThreadContext(), known)
        core = self.core
        seen = await core.store.read(lambda tx: planning.read(core, tx, request, claim=False))
        return await process.plan(request.text, seen.context, seen.lessons)

    def _record(
        self,
        tx: Tx,
        request: Request,
        rid: str,
        too_long: str | None,
        held: frozenset[Session],
        traceparent: str | None,
        ahead: Ahead | None = None,
    ) -> Taken:
        # The one claim: a duplicate rolls everything after it back.
        seen = planning.read(self.core, tx, request, claim=True)
        if not seen.claimed:
            raise _Duplicate
        if (why := too_long or self._over_rate(seen.recent)) is not None:
            head = self._refuse(tx, request, rid, why, traceparent)
            return Taken(Decision(kind="clarify"), refused=True, head=head)
        context, lessons = seen.context, seen.lessons
        process = self.core.plan_process
        started = time.perf_counter()
        if (
            ahead is not None
            and process is not None
            and ahead.stands(process.roster, context, lessons)
        ):
            decision, latency_ms = ahead.decision, ahead.latency_ms
        else:  # nothing planned ahead, or the thread has moved on since
            decision = self.core.planner.plan(request.text, context, lessons)
            latency_ms = (time.perf_counter() - started) * 1000
        if planning.wants_model(self.core, decision):
            # The row exists first so "Routing…" can be said while the model thinks.
            self._insert_request(tx, request, rid, "received", "received", None, traceparent)
            return Taken(decision, context, lessons, for_model=True)
        decision = planning.usable(self.core, decision)
        work = decision.kind in ("work", "followup")
        # Work is recorded in this transaction, so its row starts out running.
        state = "running" if work else "received"
        self._insert_request(tx, request, rid, decision.kind, state, decision, traceparent)
        tx.insert_plan(rid, decision.planner, {"latency_ms": latency_ms})
        tx.add_history(thread_key(request), request.user_name or request.user, "user", request.text)
        if not work:
            return Taken(decision, context, lessons)
        ack_id, head, running = self._record_work(
            tx, request, rid, decision, context, request.text, held, inserted_running=True
        )
        return Taken(decision, context, lessons, head, ack_id, work_recorded=True, running=running)

    async def _act(
        self,
        request: Request,
        request_id: str,
        decision: Decision,
        context: ThreadContext,
        *,
        closes: bool = True,
    ) -> bool:
        """Whatever the plan says to do about a recorded message, besides launching work the
        rules already recorded. Returns whether it started work. `closes=False`: a stop or a
        question beside the message's own work, which it leaves alone and open."""
        key = thread_key(request)
        if decision.kind in ("work", "followup"):
            return await self.plan_work(request, request_id, decision, context)
        if decision.kind == "clarify":
            await self._clarify(request, request_id, decision)
        elif decision.kind == "answer":
            await self.core.runner.answer(request, request_id, decision.target or "")
        elif decision.kind == "status":
            await self.core.queries.answer_status(
                request, request_id, decision.target, closes=closes
            )
        elif decision.kind == "roster":
            await self.core.queries.answer_roster(request, request_id, decision.target)
        elif decision.kind == "cancel":
            await self.core.control.answer_cancel(
                request, request_id, decision.target or "all", key, closes=closes
            )
        elif decision.kind == "reroute":
            await self.core.control.reroute(request, request_id, decision.target or "", key)
        return False

    def _over_rate(self, count: int) -> str | None:
        """Why this message is refused, if its author already sent the most one may in a
        minute (`count`, read in the transaction that records it, so a burst cannot slip by)."""
        limit = self.core.settings.max_requests_per_minute
        return render.too_many_requests(limit) if limit and count >= limit else None

    def _refuse(
        self, tx: Tx, request: Request, request_id: str, why: str, traceparent: str | None
    ) -> Row | None:
        """Record a message Dispatch will not act on, as refused, and queue the notice
        saying why. Returns the notice's row if it heads its thread (it can go at once)."""
        self._insert_request(tx, request, request_id, "refused", "done", None, traceparent)
        # Not acted on, so not kept: a line to recognise it by, never a whole paste.
        tx.keep_refused(request_id, request.text[:REFUSED_CHARS])
        notice = queue(tx, request_id, request, "notice", why)
        return self.core.head(tx, notice)

    def _over_in_flight(self, tx: Tx, platform: str, user: str, adding: int) -> str | None:
        """Why new work is refused, if it would take its owner past the in-flight cap."""
        limit = self.core.settings.max_in_flight_per_user
        if not limit:
            return None
        count = tx.in_flight(user, platform)
        return render.too_many_in_flight(count, limit) if count + adding > limit else None

    @staticmethod
    def _insert_request(
        tx: Tx,
        request: Request,
        request_id: str,
        kind: str,
        state: str,
        d: Decision | None,
        traceparent: str | None,
    ) -> None:
        tx.insert_request(
            request_id, thread_key(request), request.message_id, request.user,
            request.user_name, request.text, request.is_dm, kind, state,
            d.model_dump_json() if d else None, traceparent=traceparent,
        )  # fmt: skip

    async def _clarify(self, request: Request, request_id: str, decision: Decision) -> None:
        from bot.semantic.planner import NO_REPLY

        question = decision.question or render.SAY_MORE
        state = "done" if decision.target == NO_REPLY else "clarifying"
        await self.core.store.set_question(request_id, state, question)
        await self.core.say(request_id, request, "clarify", question)

    async def plan_work(
        self,
        request: Request,
        request_id: str,
        decision: Decision,
        context: ThreadContext,
        *,
        words: str | None = None,
    ) -> bool:
        """Record the plan's tasks, their dependencies, the board and the acknowledgement in
        one transaction, post the acknowledgement, then start what can start. Returns
        whether it started work (False: refused for its author's work in flight)."""
        held = self.core.runner.held
        ack_id, head, running = await self.core.store.transact(
            lambda tx: self._record_work(
                tx, request, request_id, decision, context, words or request.text, held
            )
        )
        await self._launch(ack_id, head)
        return running

    def _record_work(
        self,
        tx: Tx,
        request: Request,
        request_id: str,
        decision: Decision,
        context: ThreadContext,
        words: str,
        held: frozenset[Session],
        *,
        inserted_running: bool = False,
    ) -> tuple[int | None, Row | None, bool]:
        """The plan's tasks, their dependencies, the board and the acknowledgement. Returns
        the acknowledgement's outbox id, its row if it heads its thread (so it can go out at
        once), and whether the work was taken (False: refused, and the id and row are the
        notice's). `inserted_running`: the request's row was written in this transaction,
        running, in its author's name and words."""
        agents = {a.id: a for a in self.core.fleet.all_agents}
        key = thread_key(request)
        author = request.user_name or request.user
        owner, owner_name = request.user, author
        asked = tx.request(context.pending_id) if context.pending_id else None
        if asked is not None:  # this message answers our clarifying question
            words = render.clarified(asked["text"], asked["question"] or "", author, request.text)
            # An admin's answer completes the requester's request: it stays theirs.
            owner, owner_name = asked["user"], asked["user_name"] or asked["user"]
        ids = {spec.id: f"{request_id}/{spec.id}" for spec in decision.tasks}
        now = time.time()
        ack_text = " ".join(
            [
                *decision.notes,
                render.ack(decision.tasks, agents, followup=decision.kind == "followup"),
            ]
        )
        briefs = briefs_for(decision, request, words, owner_name)
        if (
            why := self._over_in_flight(tx, request.platform, owner, len(decision.tasks))
        ) is not None:
            tx.refuse_request(request_id, now)
            notice = queue(tx, request_id, request, "notice", why)
            return notice, self.core.head(tx, notice), False
        if asked is not None:
            tx.close_clarifying(asked["id"], now)
        if asked is not None or not inserted_running:
            tx.run_request(request_id, words, owner, owner_name)
        rows = []
        for spec in decision.tasks:
            session_key = agents[spec.agent].session_key(
                platform=key.platform, workspace=key.workspace, channel=key.channel,
                user=owner, is_dm=request.is_dm,
            ) if spec.session == "persistent" else ""  # fmt: skip
            values = (
                ids[spec.id], request_id, spec.id, spec.agent,
                spec.session, spec.summary, briefs[spec.id],
                "waiting" if spec.depends_on else "queued", now, session_key,
            )  # fmt: skip
            rows.append((values, [ids[dep] for dep in spec.depends_on]))
        tx.insert_tasks(rows)
        tx.new_board(request_id)
        if inserted_running:  # nothing else has touched these rows: no need to read them back
            shown = board.fresh(
                request_id, [v for v, _ in rows], [d for _, d in rows], self.core.fleet, held
            )
        else:
            shown = board.read(tx, request_id, self.core.fleet, held)
        ack_id = queue(tx, request_id, request, "ack", ack_text, board=shown)
        tx.add_history(key, "Dispatch", "dispatch", ack_text)
        return ack_id, self.core.head(tx, ack_id), True

    async def _launch(self, ack_id: int | None, head: Row | None) -> None:
        # The acknowledgement goes out now, unless its thread has older messages to send.
        started = await self.core.notify(head)
        if ack_id is not None:
            await self.core.courier.sent(ack_id, ACK_WAIT, look=not started)
        self.core.runner.pump_soon()
