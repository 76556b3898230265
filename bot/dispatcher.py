"""The dispatcher core: the life of a request, as a small state machine over SQLite.

    received ─┬─ status / roster / cancel ───────────────────────────────→ done
              ├─ clarify ──→ clarifying ──(user answers in thread)──→ a new request
              ├─ answer  ──→ the waiting task resumes ────────────────→ done
              └─ work / followup ──→ running: tasks waiting → queued → running
                                        → (input_required ⇄ running)
                                        → completed | failed | timed_out | cancelled | blocked
                                     results relayed as each arrives ──→ done + closing line

Every transition is written to the database before the side effect it causes (calling an
agent, posting a message), so after a crash `recover()` can finish the job: reconcile
running tasks with their agents, start what had not started, and relay nothing twice.

Dispatch never does the work. Its only outputs are the `bot.outbound` kinds, the words come
from `bot.render`, and a relayed result is read back from the agent's stored output.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.base import Action, Adapter
from bot import board, discovery, recovery, render
from bot.backends import BackendContext, backend_for
from bot.backends.base import Backend, without_endpoints
from bot.board import Session
from bot.brief import Brief, HistoryLine
from bot.control import Control
from bot.courier import Courier
from bot.manifest import AgentSpec, Fleet
from bot.models import AgentEvent, Decision, Request
from bot.outbound import Board, Outbound, StatusItem, Target
from bot.places import target_from_request, thread_key
from bot.planner import Lesson, RulePlanner, ThreadContext, ThreadTask
from bot.queries import Queries
from bot.runner import Runner
from bot.settings import Settings
from bot.states import ACTIVE_TASK_STATES
from bot.store import Row, Store, ThreadKey, Tx, loads, new_id

if TYPE_CHECKING:
    from bot.llm import LLMPlanner

log = logging.getLogger(__name__)

ACK_WAIT = 1.0
"""How long task launch waits for the acknowledgement to be posted first."""
LESSON_LIMIT = 200
ROUTING_NOTICE = 1.0
"""Seconds of model planning after which the user sees "Routing…"."""
INTAKE_FIRST = 0.1
"""How long new tasks may wait for a burst of incoming messages to be acknowledged."""
MODEL_KINDS = frozenset({"work", "followup", "clarify"})
"""Rule decisions a configured model may reconsider; the rest are instant and exact."""
REPROBE_INTERVAL = 60.0
"""Seconds between checks on agents marked unavailable."""
REFUSED_CHARS = 200
"""How much of a refused message is kept."""
STOP_INTAKE_WAIT = 2.0
"""How long `stop()` lets messages already being taken in finish."""
PURGE_INTERVAL = 3600.0
"""Seconds between retention purges (`DISPATCH_RETENTION_DAYS`)."""


@dataclass(frozen=True)
class Intake:
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


class Dispatcher:
    def __init__(
        self,
        store: Store,
        fleet: Fleet,
        adapters: dict[str, Adapter],
        *,
        settings: Settings | None = None,
        backend_factory: Callable[[AgentSpec], Backend] | None = None,
        soul: str = "",
        llm: LLMPlanner | None = None,
    ) -> None:
        self.store = store
        self.fleet = fleet
        self._manifest_fleet = fleet
        self._prober: asyncio.Task[None] | None = None
        self._keepers: list[asyncio.Task[None]] = []
        self.adapters = adapters
        self.settings = settings or Settings()
        self.soul = soul
        self.unavailable: dict[str, str] = {}
        """agent id → why it is not answering (roster discovery, or a failed call)."""
        self._planner: RulePlanner | None = None
        self.llm = llm
        if self.llm is None and (config := self.settings.llm_config()) is not None:
            from bot.llm import LLMPlanner  # the model client: only when one is configured

            self.llm = LLMPlanner(config, fleet, soul, rule_planner=self.planner)
        self._backend_factory = backend_factory or functools.partial(
            backend_for,
            context=BackendContext(
                runs_dir=runs_dir(self.settings), max_result_bytes=self.settings.max_result_bytes
            ),
        )
        self._receiving = 0  # messages being handled right now
        self._intake_idle = asyncio.Event()
        self._intake_idle.set()
        self.runner = Runner(self, self._backend_factory, self._intake_idle)
        self._changed = asyncio.Condition()
        self.queries = Queries(self)
        self.control = Control(self)
        self.courier = Courier(
            store,
            adapters,
            board_renderer=self.render_board,
            board_interval=self.settings.board_interval,
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh_roster()
        self._planner = self.planner  # a model that cannot load fails the start, not a message
        await self.courier.start()
        await recovery.recover(self.runner)
        self._prober = asyncio.create_task(self._reprobe(), name="roster-reprobe")
        self._keepers = [
            asyncio.create_task(self.runner.watch_questions(), name="question-deadlines"),
            asyncio.create_task(self._retention(), name="retention"),
        ]

    async def refresh_roster(self) -> None:
        """Cards fill in the roster; agents that do not answer are marked unavailable."""
        roster = await discovery.refresh(self._manifest_fleet, self.store, self._backend_factory)
        self.fleet = roster.fleet
        self.unavailable = roster.unavailable
        self._replan()
        for agent_id, reason in self.unavailable.items():
            log.warning("agent %s is unavailable: %s", agent_id, reason)

    async def _reprobe(self) -> None:
        while True:
            await asyncio.sleep(REPROBE_INTERVAL)
            if self.unavailable:
                with contextlib.suppress(Exception):
                    await self.refresh_roster()

    def mark_unavailable(self, agent_id: str, reason: str) -> None:
        reason = without_endpoints(reason)  # shown in chat and given to the planner's model
        if self.unavailable.get(agent_id) != reason:
            log.warning("agent %s is unavailable: %s", agent_id, reason)
            self.unavailable[agent_id] = reason
            self._replan()

    def mark_available(self, agent_id: str) -> None:
        if self.unavailable.pop(agent_id, None) is not None:
            self._replan()

    @property
    def planner(self) -> RulePlanner:
        """Built when first needed, after the roster is known: a `Dispatcher` made only to
        answer `dispatch status` loads no embedding model, and start-up builds it once."""
        if self._planner is None:
            from bot.semantic import make_planner  # numpy and the model: not for status

            self._planner = make_planner(self.settings, self.fleet, self.unavailable)
        return self._planner

    def _replan(self) -> None:
        """Planners follow the roster: who exists, and who is answering."""
        self._planner = None
        if self.llm is not None:
            self.llm.update_roster(self.fleet, self.planner)

    async def stop(self) -> None:
        """Stop without changing any task's state: a later start picks everything up."""
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
        for keeper in self._keepers:
            keeper.cancel()
        await asyncio.gather(*self._keepers, return_exceptions=True)
        self._keepers = []
        # Messages being taken in may finish (the adapters have stopped first).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._intake_idle.wait(), STOP_INTAKE_WAIT)
        await self.runner.stop()
        await self.courier.stop()
        await self.runner.close_backends()
        if self.llm is not None:
            await self.llm.aclose()

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until no task is active, every queued message has gone out, and no runner is
        left (one whose task was cancelled before the agent named it stays to cancel it)."""

        async def settled() -> None:
            while True:
                busy = await self.store.unsettled()
                if busy == 0 and not self._receiving and not self.runner.runners:
                    await self.courier.refresh_boards()
                    return
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.2)
                    except TimeoutError:
                        pass

        await asyncio.wait_for(settled(), timeout)

    async def notify(self, queued: Row | None = None) -> bool:
        """Tell whoever waits for a change (`idle`), and the courier. `queued`, a message
        just queued that heads its thread (`Tx.thread_head_row`), goes out at once instead,
        and the courier then has nothing new to read. Returns whether it went."""
        started = queued is not None and self.courier.send_now(queued)
        if not started:
            self.courier.wake()
        async with self._changed:
            self._changed.notify_all()
        return started

    # -- received ---------------------------------------------------------------------------

    async def receive(self, request: Request) -> str | None:
        """Handle one normalized message. Returns the request id, or None for a duplicate."""
        self._receiving += 1
        self._intake_idle.clear()
        try:
            return await self._receive(request)
        finally:
            self._receiving -= 1
            if not self._receiving:
                self._intake_idle.set()
            await self.notify()

    async def _receive(self, request: Request) -> str | None:
        key = thread_key(request)
        request_id = new_id("req")
        author = request.user_name or request.user
        if len(request.text) > self.settings.max_message_chars:
            why = render.too_long(len(request.text), self.settings.max_message_chars)
            try:
                head = await self.store.transact(
                    lambda tx: self._refuse(tx, request, request_id, why)
                )
            except _Duplicate:
                return self._duplicate(request)
            await self.notify(head)
            return request_id
        await self.planner.warm(request.text)
        held = self.runner.held
        try:
            taken = await self.store.transact(
                lambda tx: self._take_in(tx, request, request_id, author, held)
            )
        except _Duplicate:
            return self._duplicate(request)
        if taken.refused:
            await self.notify(taken.ack_head)
            return request_id
        context, lessons, decision = taken.context, taken.lessons, taken.decision
        if taken.recorded:
            if decision.kind in ("work", "followup"):
                await self._after_work_recorded(taken.ack_id, taken.ack_head)
                return request_id
        else:
            # The row exists first so "Routing…" can be said while the model thinks.
            try:
                refused, head = await self.store.transact(
                    lambda tx: self._take_in_for_model(tx, request, request_id)
                )
            except _Duplicate:
                return self._duplicate(request)
            if refused:
                await self.notify(head)
                return request_id
            decision = self._usable(await self._ask_model(request, request_id, context, lessons))
            await self.store.set_decision(request_id, decision.kind, decision.model_dump_json())
            await self.store.add_history(key, author, "user", request.text)

        if decision.kind in ("work", "followup"):
            await self._plan_work(request, request_id, decision, context)
        elif decision.kind == "clarify":
            await self._clarify(request, request_id, decision)
        elif decision.kind == "answer":
            await self.runner.answer(request, request_id, decision.target or "")
        elif decision.kind == "status":
            await self.queries.answer_status(request, request_id, decision.target)
        elif decision.kind == "roster":
            await self.queries.answer_roster(request, request_id, decision.target)
        elif decision.kind == "cancel":
            await self.control.answer_cancel(request, request_id, decision.target or "all", key)
        elif decision.kind == "reroute":
            await self.control.reroute(request, request_id, decision.target or "", key)
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
        decision = self.planner.plan(request.text, context, lessons)
        if self._wants_model(decision):
            return Taken(context, lessons, decision)
        decision = self._usable(decision)
        intake = Intake(request.dedupe_key, author, (time.perf_counter() - started) * 1000)
        if decision.kind not in ("work", "followup"):
            self._intake(tx, request, request_id, decision, intake)
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
        limit = self.settings.max_requests_per_minute
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
        notice = self.queue(tx, request_id, request, "notice", why)
        return None if notice is None else tx.thread_head_row(notice)

    @staticmethod
    def _claim(tx: Tx, dedupe_key: str) -> None:
        """Claim a delivery; a duplicate raises `_Duplicate` (its transaction rolls back)."""
        if not tx.claim(dedupe_key):
            raise _Duplicate

    def _over_in_flight(self, tx: Tx, platform: str, user: str, adding: int) -> str | None:
        """Why new work is refused, if it would take its owner past the in-flight cap."""
        limit = self.settings.max_in_flight_per_user
        if not limit:
            return None
        count = tx.in_flight(user, platform)
        return render.too_many_in_flight(count, limit) if count + adding > limit else None

    def _wants_model(self, decision: Decision) -> bool:
        """A configured model plans work: always, or (mode "doubt") only where the planner
        in front of it is unsure."""
        from bot.semantic.planner import model_wanted

        return (
            self.llm is not None
            and decision.kind in MODEL_KINDS
            and model_wanted(decision, self.settings.llm_mode)
        )

    @staticmethod
    def _duplicate(request: Request) -> None:
        log.info("duplicate delivery ignored: %s", request.dedupe_key)

    def _intake(
        self, tx: Tx, request: Request, request_id: str, decision: Decision, intake: Intake
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
                if r["state"] == "clarifying" and self.control.may_control(user, r)
            ),
            None,
        )
        return ThreadContext(
            tasks=[
                ThreadTask(t["id"], t["agent"], t["summary"], t["state"], t["question"])
                if t["state"] != "input_required"
                or self.control.may_control(user, owners[t["request_id"]])
                else ThreadTask(t["id"], t["agent"], t["summary"], "running")
                for t in tasks
            ],
            pending_question=clarifying["question"] if clarifying else None,
            pending_text=clarifying["text"] if clarifying else None,
            pending_id=clarifying["id"] if clarifying else None,
        )

    def _usable(self, decision: Decision) -> Decision:
        problems = decision.validate_against({a.id for a in self.fleet.all_agents})
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
        assert self.llm is not None
        history = [
            HistoryLine(author=h["author"], text=h["text"])
            for h in await self.store.recent_history(
                thread_key(request), self.settings.history_limit
            )
        ]
        planning = asyncio.create_task(
            self.llm.plan(
                request.text,
                context,
                lessons,
                history=history,
                in_flight=[t for t in context.tasks if t.state in ACTIVE_TASK_STATES],
                unavailable=self.unavailable,
            )
        )
        try:
            outcome = await asyncio.wait_for(asyncio.shield(planning), ROUTING_NOTICE)
        except TimeoutError:
            await self.say(request_id, request, "notice", render.ROUTING)
            outcome = await planning
        if outcome.fallback_reason:
            log.warning("model planner fell back to the rules: %s", outcome.fallback_reason)
        await self.store.transact(
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
        return [Lesson(row["text"], row["agent"]) for row in rows if self.fleet.get(row["agent"])]

    # -- planned: clarify, status, roster, cancel ---------------------------------------------

    async def _clarify(self, request: Request, request_id: str, decision: Decision) -> None:
        from bot.semantic.planner import SPLIT

        question = decision.question or render.SAY_MORE
        # A refused oversized plan waits for nothing: the user sends smaller requests.
        state = "done" if decision.target == SPLIT else "clarifying"
        await self.store.set_question(request_id, state, question)
        await self.say(request_id, request, "clarify", question)

    # -- what adapters may ask -------------------------------------------------------------

    async def claim(self, key: str) -> bool:
        return await self.store.claim_message(key)

    async def knows_thread(self, platform: str, workspace: str, channel: str, thread: str) -> bool:
        return await self.store.knows_thread(ThreadKey(platform, workspace, channel, thread))

    async def status_for(self, platform: str, user: str) -> tuple[str, list[StatusItem]]:
        """A user's own work on one platform (Discord's ephemeral /status)."""
        return await self.queries.status_report(user, None, platform=platform)

    async def status_text(
        self, user: str | None, key: ThreadKey | None, agent_id: str | None = None
    ) -> str:
        return await self.queries.status_text(user, key, agent_id)

    async def status_report(
        self, user: str | None, key: ThreadKey | None, agent_id: str | None = None
    ) -> tuple[str, list[StatusItem]]:
        return await self.queries.status_report(user, key, agent_id)

    async def roster(self, query: str | None = None) -> str:
        return self.queries.roster_text(query)

    async def cancel_matching(
        self, platform: str, user: str, target: str, key: ThreadKey | None, *, actor: str = ""
    ) -> str:
        return await self.control.cancel_matching(platform, user, target, key, actor=actor)

    async def cancel_for(self, platform: str, user: str, target: str) -> str:
        return await self.control.cancel_for(platform, user, target)

    async def cancel_task(self, task_id: str, *, reason: str) -> bool:
        return await self.control.cancel_task(task_id, reason=reason)

    async def retry_task(self, task_id: str, actor: str) -> str:
        return await self.control.retry_task(task_id, actor)

    async def act(self, action: Action) -> str:
        return await self.control.act(action)

    async def thread_for_reply(self, platform: str, channel: str, message_id: str) -> str | None:
        """The thread a message Dispatch posted belongs to (a DM reply names its parent)."""
        return await self.store.thread_of_message(platform, channel, message_id)

    async def open_question_thread(self, platform: str, channel: str, user: str) -> str | None:
        """The latest thread in a channel where Dispatch or an agent waits on this user."""
        return await self.store.open_question_thread(platform, channel, user)

    # -- planned: work ----------------------------------------------------------------------

    async def _plan_work(
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
        held = self.runner.held
        ack_id, head = await self.store.transact(
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
        intake: Intake | None,
        held: frozenset[Session],
    ) -> tuple[int | None, Row | None]:
        """The plan's tasks, their dependencies, the board and the acknowledgement (with the
        message's intake, when the rules planned it). Returns the acknowledgement's outbox
        id, and its row if it heads its thread (so it can go out at once)."""
        agents = {a.id: a for a in self.fleet.all_agents}
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
            self._intake(tx, request, request_id, decision, intake)
        if (
            why := self._over_in_flight(tx, request.platform, owner, len(decision.tasks))
        ) is not None:
            tx.refuse_request(request_id, now)
            notice = self.queue(tx, request_id, request, "notice", why)
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
                ids[spec.id], request_id, spec.id, self.store.next_seq(), spec.agent,
                spec.session, spec.summary, briefs[spec.id],
                "waiting" if spec.depends_on else "queued", now, session_key,
            )  # fmt: skip
            rows.append((values, [ids[dep] for dep in spec.depends_on]))
        tx.insert_tasks(rows)
        tx.new_board(request_id)
        shown = board.read(tx, request_id, self.fleet, held)
        ack_id = self.queue(tx, request_id, request, "ack", ack_text, board=shown)
        tx.add_history(key, "Dispatch", "dispatch", ack_text)
        return ack_id, None if ack_id is None else tx.thread_head_row(ack_id)

    async def _after_work_recorded(self, ack_id: int | None, head: Row | None) -> None:
        # The acknowledgement goes out now, unless its thread has older messages to send.
        started = await self.notify(head)
        if ack_id is not None:
            await self.courier.sent(ack_id, ACK_WAIT, look=not started)
        self.runner.pump_soon()

    # -- tasks running ----------------------------------------------------------------------

    async def _retention(self) -> None:
        """Finished requests older than `retention_days` are deleted, with all they hold
        (tasks, results, messages, history), at start and every hour after."""
        days = self.settings.retention_days
        while days:
            try:
                purged = await self.store.purge_finished(time.time() - days * 86400)
                if purged:
                    log.info("retention: deleted %d finished request(s)", purged)
            except Exception:
                log.exception("retention purge failed; trying again later")
            await asyncio.sleep(PURGE_INTERVAL)

    # -- results relayed --------------------------------------------------------------------

    # -- the live status board --------------------------------------------------------------

    async def render_board(self, request_id: str) -> Outbound | None:
        held = self.runner.held
        return await self.store.read(lambda tx: self._render_board(tx, request_id, held))

    def _render_board(self, tx: Tx, request_id: str, held: frozenset[Session]) -> Outbound | None:
        ack = tx.ack_payload(request_id)
        if ack is None:
            return None
        message = Outbound.model_validate(loads(ack)["message"])
        message.board = board.read(tx, request_id, self.fleet, held)
        return message

    # -- what the runtime and tests call ----------------------------------------------------

    async def recover(self) -> None:
        """Finish what a previous process started. Safe to run on a clean database."""
        await recovery.recover(self.runner)

    def backend(self, agent: AgentSpec) -> Backend:
        return self.runner.backend(agent)

    async def agent_event(
        self, task_id: str, event: AgentEvent, attempt: int | None = None
    ) -> bool:
        """A report that arrived outside a stream (an HTTP agent's callback)."""
        return await self.runner.agent_event(task_id, event, attempt)

    # -- talking back ---------------------------------------------------------------------

    async def say(
        self,
        request_id: str,
        request: Request,
        kind: str,
        text: str,
        *,
        done: bool = False,
        items: Sequence[StatusItem] = (),
    ) -> None:
        def say(tx: Tx) -> None:
            self.queue(tx, request_id, target_from_request(request), kind, text, items=items)
            if done:
                tx.finish_request(request_id)
            tx.add_history(thread_key(request), "Dispatch", "dispatch", text)

        await self.store.transact(say)
        await self.notify()

    def queue(
        self,
        tx: Tx,
        request_id: str,
        target: Target | Request,
        kind: str,
        text: str,
        *,
        task_id: str | None = None,
        agent: AgentSpec | None = None,
        files: Sequence[Any] = (),
        dedupe: str | None = None,
        board: Board | None = None,
        items: Sequence[StatusItem] = (),
    ) -> int | None:
        if isinstance(target, Request):
            target = target_from_request(target)
        message = Outbound(
            kind=kind,  # type: ignore[arg-type]
            text=text,
            agent=render.badge(agent) if agent else None,
            board=board,
            files=list(files),
            items=list(items),
            request_id=request_id,
            task_id=task_id,
        )
        payload = {"target": target.model_dump(), "message": message.model_dump()}
        return tx.enqueue(request_id, kind, payload, task_id=task_id, dedupe=dedupe)

    def label(self, agent_id: str) -> str:
        return board.label(self.fleet, agent_id)


def runs_dir(settings: Settings) -> Path:
    """Command-line agents keep their runs beside the database, so restarts can find them."""
    return settings.db.resolve().parent / f"{settings.db.stem}-runs"
