"""Intake: a message, up to "recorded and acknowledged".

A message is planned by the rules in the transaction that claims and records it (for
work: its tasks, board and acknowledgement too), so most messages cost one transaction.
One the model should plan is claimed and recorded first, so "Routing…" can be said while
the model thinks. The acknowledgement goes out before any agent is called; then the
runner starts the work. Everything Dispatch says comes from `bot.render`."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import board, render
from bot.board import Session
from bot.brief import Brief, HistoryLine
from bot.models import Decision, Request
from bot.places import queue, thread_key
from bot.planner import Lesson, ThreadContext, ThreadTask
from bot.states import ACTIVE_TASK_STATES
from bot.store import Row, ThreadKey, Tx, new_id

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

ACK_WAIT = 1.0
"""How long task launch waits for the acknowledgement to be posted first."""
LESSON_LIMIT = 200
ROUTING_NOTICE = 1.0
"""Seconds of model planning after which the user sees "Routing…"."""
MODEL_KINDS = frozenset({"work", "followup", "clarify"})
"""Rule decisions a configured model may reconsider; the rest are instant and exact."""
REFUSED_CHARS = 200
"""How much of a refused message is kept."""


@dataclass(frozen=True)
class RulesPlan:
    """A message the rules planned, to be claimed and recorded with its plan."""

    dedupe_key: str
    author: str
    latency_ms: float


@dataclass
class Taken:
    """What one transaction of intake read, decided and (when the rules decided) recorded."""

    context: ThreadContext
    lessons: list[Lesson]
    decision: Decision
    recorded: bool = False
    ack_id: int | None = None
    ack_head: Row | None = None
    refused: bool = False
    """Over a per-user limit: recorded as refused, and `ack_head` is the notice saying so."""


class _Duplicate(Exception):
    """The message was already handled; the transaction that found it rolls back."""


class Intake:
    def __init__(self, core: Dispatcher) -> None:
        self.core = core
        self.receiving = 0
        """Messages being handled right now."""
        self.idle_event = asyncio.Event()
        """Set while no message is being taken in."""
        self.idle_event.set()

    async def receive(self, request: Request) -> str | None:
        """Handle one normalized message. Returns the request id, or None for a duplicate."""
        self.receiving += 1
        self.idle_event.clear()
        try:
            return await self._receive(request)
        finally:
            self.receiving -= 1
            if not self.receiving:
                self.idle_event.set()
            await self.core.notify()

    async def _receive(self, request: Request) -> str | None:
        key = thread_key(request)
        request_id = new_id("req")
        author = request.user_name or request.user
        if len(request.text) > self.core.settings.max_message_chars:
            why = render.too_long(len(request.text), self.core.settings.max_message_chars)
            try:
                head = await self.core.store.transact(
                    lambda tx: self._refuse(tx, request, request_id, why)
                )
            except _Duplicate:
                return self._duplicate(request)
            await self.core.notify(head)
            return request_id
        await self.core.planner.warm(request.text)
        held = self.core.runner.held
        try:
            taken = await self.core.store.transact(
                lambda tx: self._take_in(tx, request, request_id, author, held)
            )
        except _Duplicate:
            return self._duplicate(request)
        if taken.refused:
            await self.core.notify(taken.ack_head)
            return request_id
        context, lessons, decision = taken.context, taken.lessons, taken.decision
        if taken.recorded:
            if decision.kind in ("work", "followup"):
                await self._after_work_recorded(taken.ack_id, taken.ack_head)
                return request_id
        else:
            # The row exists first so "Routing…" can be said while the model thinks.
            try:
                refused, head = await self.core.store.transact(
                    lambda tx: self._take_in_for_model(tx, request, request_id)
                )
            except _Duplicate:
                return self._duplicate(request)
            if refused:
                await self.core.notify(head)
                return request_id
            decision = self._usable(await self._ask_model(request, request_id, context, lessons))
            await self.core.store.set_decision(
                request_id, decision.kind, decision.model_dump_json()
            )
            await self.core.store.add_history(key, author, "user", request.text)

        if decision.kind in ("work", "followup"):
            await self.plan_work(request, request_id, decision, context)
        elif decision.kind == "clarify":
            await self._clarify(request, request_id, decision)
        elif decision.kind == "answer":
            await self.core.runner.answer(request, request_id, decision.target or "")
        elif decision.kind == "status":
            await self.core.queries.answer_status(request, request_id, decision.target)
        elif decision.kind == "roster":
            await self.core.queries.answer_roster(request, request_id, decision.target)
        elif decision.kind == "cancel":
            await self.core.control.answer_cancel(
                request, request_id, decision.target or "all", key
            )
        elif decision.kind == "reroute":
            await self.core.control.reroute(request, request_id, decision.target or "", key)
        return request_id

    def _take_in(
        self, tx: Tx, request: Request, request_id: str, author: str, held: frozenset[Session]
    ) -> Taken:
        """Read the thread and plan with the rules, in one transaction; when the rules
        decide, claim and record the message there too (for work, its tasks and the
        acknowledgement as well). A message for the model is only read here."""
        if (why := self._over_rate(tx, request)) is not None:
            head = self._refuse(tx, request, request_id, why)
            return Taken(
                ThreadContext(), [], Decision(kind="clarify"), True, refused=True, ack_head=head
            )
        key = thread_key(request)
        context, lessons = self._thread_context(tx, key, request.user), self._lessons(tx, request)
        started = time.perf_counter()
        decision = self.core.planner.plan(request.text, context, lessons)
        if self._wants_model(decision):
            return Taken(context, lessons, decision)
        decision = self._usable(decision)
        intake = RulesPlan(request.dedupe_key, author, (time.perf_counter() - started) * 1000)
        if decision.kind not in ("work", "followup"):
            self._record_intake(tx, request, request_id, decision, intake)
            return Taken(context, lessons, decision, recorded=True)
        ack_id, head = self._record_work(
            tx, request, request_id, decision, context, request.text, intake, held
        )
        return Taken(context, lessons, decision, recorded=True, ack_id=ack_id, ack_head=head)

    def _take_in_for_model(
        self, tx: Tx, request: Request, request_id: str
    ) -> tuple[bool, Row | None]:
        """Claim and record a message the model will plan, unless its author is over the
        rate limit: then it is recorded as refused (True), with the notice's row if it
        heads its thread."""
        if (why := self._over_rate(tx, request)) is not None:
            return True, self._refuse(tx, request, request_id, why)
        self._claim(tx, request.dedupe_key)
        self._insert_request(tx, request, request_id, "received", "received", None)
        return False, None

    def _over_rate(self, tx: Tx, request: Request) -> str | None:
        """Why this message is refused, if its author already sent the most one may in a
        minute (counted in the transaction that records it, so a burst cannot slip by)."""
        limit = self.core.settings.max_requests_per_minute
        if not limit:
            return None
        count = tx.recent_requests(request.user, request.platform, time.time() - 60)
        return render.too_many_requests(limit) if count >= limit else None

    def _refuse(self, tx: Tx, request: Request, request_id: str, why: str) -> Row | None:
        """Record a message Dispatch will not act on, as refused, and queue the notice
        saying why. Returns the notice's row if it heads its thread (it can go at once)."""
        self._claim(tx, request.dedupe_key)
        self._insert_request(tx, request, request_id, "refused", "done", None)
        # Not acted on, so not kept: a line to recognise it by, never a whole paste.
        tx.keep_refused(request_id, request.text[:REFUSED_CHARS])
        notice = queue(tx, request_id, request, "notice", why)
        return None if notice is None else tx.thread_head_row(notice)

    @staticmethod
    def _claim(tx: Tx, dedupe_key: str) -> None:
        """Claim a delivery; a duplicate raises `_Duplicate` (its transaction rolls back)."""
        if not tx.claim(dedupe_key):
            raise _Duplicate

    def _over_in_flight(self, tx: Tx, platform: str, user: str, adding: int) -> str | None:
        """Why new work is refused, if it would take its owner past the in-flight cap."""
        limit = self.core.settings.max_in_flight_per_user
        if not limit:
            return None
        count = tx.in_flight(user, platform)
        return render.too_many_in_flight(count, limit) if count + adding > limit else None

    def _wants_model(self, decision: Decision) -> bool:
        """A configured model plans work: always, or (mode "doubt") only where the planner
        in front of it is unsure."""
        from bot.semantic.planner import model_wanted

        return (
            self.core.llm is not None
            and decision.kind in MODEL_KINDS
            and model_wanted(decision, self.core.settings.llm_mode)
        )

    @staticmethod
    def _duplicate(request: Request) -> None:
        log.info("duplicate delivery ignored: %s", request.dedupe_key)

    def _record_intake(
        self, tx: Tx, request: Request, request_id: str, decision: Decision, intake: RulesPlan
    ) -> None:
        """Claim the message (a duplicate rolls everything back) and record what the rules
        decided about it."""
        self._claim(tx, intake.dedupe_key)
        self._insert_request(tx, request, request_id, decision.kind, "received", decision)
        self._record_plan(tx, request_id, decision.planner, latency_ms=intake.latency_ms)
        tx.add_history(thread_key(request), intake.author, "user", request.text)

    def _insert_request(
        self,
        tx: Tx,
        request: Request,
        request_id: str,
        kind: str,
        state: str,
        decision: Decision | None,
    ) -> None:
        tx.insert_request(
            request_id, thread_key(request), request.message_id, request.user,
            request.user_name, request.text, request.is_dm, kind, state,
            decision.model_dump_json() if decision else None,
        )  # fmt: skip

    def _thread_context(self, tx: Tx, key: ThreadKey, user: str) -> ThreadContext:
        """The thread as `user` may act on it. A question (an agent's, or Dispatch's
        clarifying one) is open only to whoever asked for that work, or an admin: to
        anyone else it is not there, so their message is a follow-up of their own."""
        requests = tx.thread_requests(key)
        if not requests:
            return ThreadContext()
        owners = {r["id"]: r for r in requests}
        tasks = tx.thread_tasks(key)
        clarifying = next(
            (
                r
                for r in reversed(requests)
                if r["state"] == "clarifying" and self.core.control.may_control(user, r)
            ),
            None,
        )
        return ThreadContext(
            tasks=[
                ThreadTask(t["id"], t["agent"], t["summary"], t["state"], t["question"])
                if t["state"] != "input_required"
                or self.core.control.may_control(user, owners[t["request_id"]])
                else ThreadTask(t["id"], t["agent"], t["summary"], "running")
                for t in tasks
            ],
            pending_question=clarifying["question"] if clarifying else None,
            pending_text=clarifying["text"] if clarifying else None,
            pending_id=clarifying["id"] if clarifying else None,
        )

    def _usable(self, decision: Decision) -> Decision:
        problems = decision.validate_against({a.id for a in self.core.fleet.all_agents})
        if not problems:
            return decision
        # Both planners are built not to do this; refuse rather than guess.
        log.error("planner produced an unusable decision: %s", problems)
        return Decision(
            kind="clarify",
            question=render.UNROUTABLE,
            reason="; ".join(problems),
        )

    async def _ask_model(
        self, request: Request, request_id: str, context: ThreadContext, lessons: list[Lesson]
    ) -> Decision:
        """For work, a configured model plans within its budget; the rules are its net.

        Status, roster, cancel, answers and corrections stay with the instant rules. The
        model never delays the user silently: past a second they see "Routing…".
        """
        assert self.core.llm is not None
        history = [
            HistoryLine(author=h["author"], text=h["text"])
            for h in await self.core.store.recent_history(
                thread_key(request), self.core.settings.history_limit
            )
        ]
        planning = asyncio.create_task(
            self.core.llm.plan(
                request.text,
                context,
                lessons,
                history=history,
                in_flight=[t for t in context.tasks if t.state in ACTIVE_TASK_STATES],
                unavailable=self.core.unavailable,
            )
        )
        try:
            outcome = await asyncio.wait_for(asyncio.shield(planning), ROUTING_NOTICE)
        except TimeoutError:
            await self.core.say(request_id, request, "notice", render.ROUTING)
            outcome = await planning
        if outcome.fallback_reason:
            log.warning("model planner fell back to the rules: %s", outcome.fallback_reason)
        await self.core.store.transact(
            lambda tx: self._record_plan(
                tx,
                request_id,
                outcome.planner,
                model=outcome.model,
                fallback_reason=outcome.fallback_reason,
                repaired=outcome.repaired,
                input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens,
                latency_ms=outcome.latency_ms,
            )
        )
        return outcome.decision

    @staticmethod
    def _record_plan(tx: Tx, request_id: str, planner: str, **figures: Any) -> None:
        tx.insert_plan(request_id, planner, figures)

    def _lessons(self, tx: Tx, request: Request) -> list[Lesson]:
        """The routing corrections that apply to this message's author, newest first: their
        own, and those an admin made for the workspace. Both planners learn from them."""
        rows = tx.lessons(request.user, request.platform, request.workspace, LESSON_LIMIT)
        return [
            Lesson(row["text"], row["agent"]) for row in rows if self.core.fleet.get(row["agent"])
        ]

    async def _clarify(self, request: Request, request_id: str, decision: Decision) -> None:
        from bot.semantic.planner import SPLIT

        question = decision.question or render.SAY_MORE
        # A refused oversized plan waits for nothing: the user sends smaller requests.
        state = "done" if decision.target == SPLIT else "clarifying"
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
    ) -> None:
        """Record the plan's tasks, their dependencies, the board and the acknowledgement in
        one transaction, post the acknowledgement, then start what can start."""
        held = self.core.runner.held
        ack_id, head = await self.core.store.transact(
            lambda tx: self._record_work(
                tx, request, request_id, decision, context, words or request.text, None, held
            )
        )
        await self._after_work_recorded(ack_id, head)

    def _record_work(
        self,
        tx: Tx,
        request: Request,
        request_id: str,
        decision: Decision,
        context: ThreadContext,
        words: str,
        intake: RulesPlan | None,
        held: frozenset[Session],
    ) -> tuple[int | None, Row | None]:
        """The plan's tasks, their dependencies, the board and the acknowledgement (with the
        message's intake, when the rules planned it). Returns the acknowledgement's outbox
        id, and its row if it heads its thread (so it can go out at once)."""
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
        briefs = {
            spec.id: Brief(
                task=spec.summary,
                request=words,
                requester=owner_name,
                platform=request.platform,
                channel=request.channel,
                thread=key.thread,
                is_dm=request.is_dm,
                session=spec.session,
                followup=decision.kind == "followup",
                attachments=list(request.attachments),
            ).model_dump_json()
            for spec in decision.tasks
        }

        if intake is not None:
            self._record_intake(tx, request, request_id, decision, intake)
        if (
            why := self._over_in_flight(tx, request.platform, owner, len(decision.tasks))
        ) is not None:
            tx.refuse_request(request_id, now)
            notice = queue(tx, request_id, request, "notice", why)
            return notice, None if notice is None else tx.thread_head_row(notice)
        if asked is not None:
            tx.close_clarifying(asked["id"], now)
        tx.run_request(request_id, words, owner, owner_name)
        rows = []
        for spec in decision.tasks:
            session_key = agents[spec.agent].session_key(
                platform=key.platform, workspace=key.workspace, channel=key.channel,
                user=owner, is_dm=request.is_dm,
            ) if spec.session == "persistent" else ""  # fmt: skip
            values = (
                ids[spec.id], request_id, spec.id, self.core.store.next_seq(), spec.agent,
                spec.session, spec.summary, briefs[spec.id],
                "waiting" if spec.depends_on else "queued", now, session_key,
            )  # fmt: skip
            rows.append((values, [ids[dep] for dep in spec.depends_on]))
        tx.insert_tasks(rows)
        tx.new_board(request_id)
        shown = board.read(tx, request_id, self.core.fleet, held)
        ack_id = queue(tx, request_id, request, "ack", ack_text, board=shown)
        tx.add_history(key, "Dispatch", "dispatch", ack_text)
        return ack_id, None if ack_id is None else tx.thread_head_row(ack_id)

    async def _after_work_recorded(self, ack_id: int | None, head: Row | None) -> None:
        # The acknowledgement goes out now, unless its thread has older messages to send.
        started = await self.core.notify(head)
        if ack_id is not None:
            await self.core.courier.sent(ack_id, ACK_WAIT, look=not started)
        self.core.runner.pump_soon()
