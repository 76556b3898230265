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
from bot import board, discovery, render
from bot.backends import BackendContext, backend_for
from bot.backends.base import Backend, BackendError, without_endpoints
from bot.board import Session
from bot.brief import Brief, HistoryLine, PriorWork
from bot.control import Control
from bot.courier import Courier
from bot.manifest import AgentSpec, Fleet
from bot.models import AgentEvent, Decision, Request
from bot.outbound import Board, Outbound, StatusItem, Target
from bot.places import key_of, target_from_request, target_of, thread_key
from bot.planner import Lesson, RulePlanner, ThreadContext, ThreadTask
from bot.queries import Queries
from bot.settings import Settings
from bot.states import ACTIVE_TASK_STATES, FAILED_TASK_STATES, TERMINAL_TASK_STATES
from bot.store import Row, Store, ThreadKey, Tx, dumps, loads, new_id

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


@dataclass(frozen=True, slots=True)
class Run:
    """What a task's runner needs to call its agent. A runner lives as long as its task
    (hours, for some), so it keeps these few values, not the task's row with its brief."""

    agent: str
    remote_task_id: str | None
    attempt: int
    deadline: float | None
    context_id: str | None
    session_key: str = ""


def _run_of(tx: Tx, task: Row, session_id: str | None, deadline: float | None) -> Run:
    session = tx.session(session_id) if session_id else None
    return Run(
        agent=task["agent"],
        remote_task_id=task["remote_task_id"],
        attempt=task["attempt"],
        deadline=deadline,
        context_id=session["context_id"] if session else None,
        session_key=task["session_key"],
    )


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
        self._questions = asyncio.Event()
        """Set when an agent asks a question, so the deadline watch looks again."""
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
        self._backends: dict[str, Backend] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._busy: dict[Session, str] = {}
        """(agent id, session key) → the task holding that persistent session."""
        self.held: frozenset[Session] = frozenset()
        """The sessions in `_busy`, as a snapshot a transaction may read on the database
        thread (remade when a session is taken or freed, not per message)."""
        self._receiving = 0  # messages being handled right now
        self._pump_lock = asyncio.Lock()
        self._intake_idle = asyncio.Event()
        self._intake_idle.set()
        self._pumper: asyncio.Task[None] | None = None
        self._pump_wanted = False
        self._recovered = False
        """No task starts before `recover()` has run: adapters listen before the dispatcher
        starts, and a task started in that gap would look, to recovery, like one a dead process
        left running, and reach its agent twice."""
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
        await self.recover()
        self._prober = asyncio.create_task(self._reprobe(), name="roster-reprobe")
        self._keepers = [
            asyncio.create_task(self._question_deadlines(), name="question-deadlines"),
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
        with contextlib.suppress(
            TimeoutError
        ):  # messages being taken in finish (adapters stop first)
            await asyncio.wait_for(self._intake_idle.wait(), STOP_INTAKE_WAIT)
        if self._pumper is not None:
            self._pumper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pumper
        runners = list(self._runners.values())
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        self._runners.clear()
        await self.courier.stop()
        for backend in self._backends.values():
            try:
                await backend.aclose()
            except Exception:
                log.debug("closing a backend failed", exc_info=True)
        self._backends.clear()
        if self.llm is not None:
            await self.llm.aclose()

    def backend(self, agent: AgentSpec) -> Backend:
        if agent.id not in self._backends:
            self._backends[agent.id] = self._backend_factory(agent)
        return self._backends[agent.id]

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until no task is active, every queued message has gone out, and no runner is
        left (one whose task was cancelled before the agent named it stays to cancel it)."""

        async def settled() -> None:
            while True:
                busy = await self.store.unsettled()
                if busy == 0 and not self._receiving and not self._runners:
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
        held = self.held
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
            await self._answer(request, request_id, decision.target or "")
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
        held = self.held
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
        self._pump_after_intake()

    def _pump_after_intake(self) -> None:
        """Start new work once the messages being taken in right now are acknowledged.

        A burst of requests is acknowledged first and its tasks start together just after,
        instead of each request's agent calls delaying the next one's acknowledgement. The
        wait is bounded (INTAKE_FIRST), so a steady stream of messages cannot hold work back."""
        self._pump_wanted = True
        if self._pumper is None or self._pumper.done():
            self._pumper = asyncio.create_task(self._pump_when_quiet(), name="pump-after-intake")

    async def _pump_when_quiet(self) -> None:
        # A request recorded while this pump reads the queue asks again, so it is not missed.
        while self._pump_wanted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._intake_idle.wait(), INTAKE_FIRST)
            self._pump_wanted = False
            await self._pump()

    # -- tasks running ----------------------------------------------------------------------

    async def _pump(self) -> None:
        """Start every queued task whose session is free; main sessions take one at a time.

        What can start now starts together: one transaction records them all running (with
        their briefs completed from the thread), then every agent is called at once."""
        if not self._recovered:
            return  # recover() pumps once it has run
        async with self._pump_lock:
            chosen: list[Row] = []
            gone: list[Row] = []
            for task in await self.store.startable_tasks():
                if self.fleet.get(task["agent"]) is None:
                    gone.append(task)
                    continue
                if task["session_kind"] == "persistent":
                    if board.session_of(task) in self._busy:
                        continue
                    self._hold(board.session_of(task), task["id"])
                chosen.append(task)
            if chosen:
                started = await self.store.transact(lambda tx: self._start_tasks(tx, chosen))
                await self.notify()
                for task_id, text, run in started:
                    self._spawn(task_id, self._drive(task_id, "send", text, run))
        for task in gone:
            await self._finish(task["id"], "failed", error=render.gone_from_fleet(task["agent"]))

    def _start_tasks(self, tx: Tx, tasks: list[Row]) -> list[tuple[str, str, Run]]:
        """Mark tasks running in their sessions, each with a brief it can start from:
        upstream outputs, earlier results in the thread, and the thread's recent history.
        Returns each task's id, brief and what its runner needs to call the agent."""
        started = []
        threads: dict[str, tuple[list[Row], list[HistoryLine]]] = {}
        for task in tasks:
            agent = self.fleet.agent(task["agent"])
            deps = tx.dependencies(task["id"])
            brief = Brief.model_validate_json(task["brief"])
            brief.depends_on = [
                PriorWork(
                    agent=self.label(d["agent"]), summary=d["summary"], output=d["result"] or ""
                )
                for d in deps
            ]
            if task["request_id"] not in threads:
                request = tx.request(task["request_id"])
                assert request is not None
                key = key_of(request)
                history = tx.recent_history(key, self.settings.history_limit)
                threads[task["request_id"]] = (
                    tx.thread_tasks(key),
                    [HistoryLine(author=h["author"], text=h["text"]) for h in history],
                )
            thread_tasks, history_lines = threads[task["request_id"]]
            dep_ids = {d["id"] for d in deps}
            brief.thread_results = [
                PriorWork(
                    agent=self.label(t["agent"]), summary=t["summary"], output=t["result"] or ""
                )
                for t in thread_tasks
                if t["state"] == "completed" and t["id"] not in dep_ids and t["id"] != task["id"]
            ][-5:]
            brief.history = history_lines
            now = time.time()
            session_id = (
                tx.main_session(agent.id, task["session_key"])
                if task["session_kind"] == "persistent"
                else tx.new_disposable_session(agent.id)
            )
            tx.start_task(task["id"], session_id, brief.model_dump_json(), now, now + agent.timeout)
            tx.bump_board(task["request_id"])
            run = _run_of(tx, task, session_id, now + agent.timeout)
            started.append((task["id"], brief.render(), run))
        return started

    def _spawn(self, task_id: str, coro: Any) -> None:
        runner = asyncio.create_task(coro, name=f"task {task_id}")
        self._runners[task_id] = runner
        runner.add_done_callback(functools.partial(self._runner_done, task_id))

    def _runner_done(self, task_id: str, runner: asyncio.Task[None]) -> None:
        if self._runners.get(task_id) is runner:
            del self._runners[task_id]
        if not runner.cancelled() and runner.exception() is not None:
            log.error("runner for %s crashed", task_id, exc_info=runner.exception())

    async def _read_run(self, task_id: str) -> Run | None:
        def read(tx: Tx) -> Run | None:
            task = tx.task(task_id)
            return None if task is None else _run_of(tx, task, task["session_id"], task["deadline"])

        return await self.store.read(read)

    async def _drive(self, task_id: str, mode: str, text: str = "", run: Run | None = None) -> None:
        """Talk to the agent for one task until it finishes, asks a question, or times out.

        `run`: what the transaction that started the task knows, so a hundred tasks started
        together do not each read it back; without it, it is read from the database."""
        if run is None:
            run = await self._read_run(task_id)
            if run is None:
                return
        agent = self.fleet.get(run.agent)
        if agent is None:
            await self._finish(task_id, "failed", error=render.left_fleet(run.agent))
            return
        backend = self.backend(agent)
        remaining = (run.deadline or time.time() + agent.timeout) - time.time()
        try:
            async with asyncio.timeout(max(remaining, 0.001)):
                if mode == "watch":
                    assert run.remote_task_id is not None, "only a task the agent named is watched"
                    stream = backend.watch(run.remote_task_id)
                else:
                    stream = backend.send(
                        text,
                        message_id=f"{task_id}#{mode}#{int(time.time() * 1000)}"
                        if mode == "answer"
                        else (task_id if not run.attempt else f"{task_id}#{run.attempt}"),
                        context_id=run.context_id,
                        remote_task_id=run.remote_task_id if mode == "answer" else None,
                        metadata={
                            "dispatch_task_id": task_id,
                            "dispatch_attempt": str(run.attempt),
                        }
                        | ({"dispatch_session": run.session_key} if run.session_key else {}),
                    )
                    text = ""  # the backend has the brief now
                # Closed here even when the runner is cancelled (a stop, Ctrl-C): a generator
                # left open would be closed by the event loop's shutdown, in no useful order.
                async with contextlib.aclosing(stream) as events:
                    async for event in events:
                        done = await self._on_event(task_id, event)
                        del event  # not kept while the next one is awaited
                        if done:
                            return
            await self._finish(task_id, "failed", error=render.NO_RESULT)
        except TimeoutError:
            await self._cancel_remote(task_id)
            await self._finish(task_id, "timed_out", error=render.no_result_within(agent.timeout))
        except BackendError as exc:
            error = without_endpoints(str(exc))  # relayed to chat: the log keeps the address
            if exc.unreachable:
                self.mark_unavailable(agent.id, error)
            await self._finish(task_id, "failed", error=error)

    async def agent_event(
        self, task_id: str, event: AgentEvent, attempt: int | None = None
    ) -> bool:
        """A report that arrived outside a stream (an HTTP agent's callback).

        Recorded like any event; returns False when it changed nothing (a duplicate, a task
        that already finished, or a report on an earlier `attempt` of a retried task). A report
        that ends the task's stream stops its runner.
        """
        task = await self.store.task(task_id)
        if task is None or task["state"] != "running":
            return False
        if attempt is not None and attempt != task["attempt"]:
            return False
        if await self._on_event(task_id, event):
            runner = self._runners.pop(task_id, None)
            if runner is not None and runner is not asyncio.current_task():
                runner.cancel()
        return True

    async def _on_event(self, task_id: str, event: AgentEvent) -> bool:
        """Record one agent event; True once the task needs nothing more from this stream."""
        task = await self.store.task(task_id)
        if task is None:
            return True
        if task["state"] != "running":
            if task["state"] == "cancelled" and event.remote_task_id and not event.terminal:
                # Cancelled before the agent told us its task id: stop it now that we know.
                await self.store.update_task(task_id, remote_task_id=event.remote_task_id)
                await self._cancel_remote(task_id)
            return True
        self.mark_available(task["agent"])
        new_remote = event.remote_task_id and event.remote_task_id != task["remote_task_id"]
        if new_remote or (event.context_id and task["session_id"]):

            def note(tx: Tx) -> str:
                if new_remote:
                    tx.set_remote_task_id(task_id, event.remote_task_id)
                if event.context_id and task["session_id"]:
                    tx.set_session_context(task["session_id"], event.context_id)
                return tx.task_state(task_id)

            if await self.store.transact(note) == "cancelled" and new_remote:
                await self._cancel_remote(task_id)  # cancelled while the id was on its way
                return True
        if event.state == "input_required":
            await self._ask_user(task, event.text or render.AGENT_ASKS)
            return True
        if event.state == "completed":
            await self._finish(task_id, "completed", result=event.text, files=event.files)
            return True
        if event.state in ("failed", "rejected"):
            await self._finish(
                task_id, "failed", error=event.text or render.agent_reported(event.state)
            )
            return True
        if event.state == "canceled":
            await self._finish(task_id, "cancelled", error=render.CANCELLED_BY_AGENT)
            return True
        return False

    async def _ask_user(self, task: Row, question: str) -> None:
        agent = self.fleet.get(task["agent"])

        def ask(tx: Tx) -> None:
            request = tx.request(task["request_id"])
            assert request is not None
            tx.ask(task["id"], question, time.time() + self.settings.question_timeout)
            self.queue(
                tx, request["id"], target_of(request), "question", question,
                task_id=task["id"], agent=agent,
            )  # fmt: skip
            tx.bump_board(request["id"])
            tx.add_history(key_of(request), self.label(task["agent"]), "agent", question)

        await self.store.transact(ask)
        self._questions.set()
        await self.notify()

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

    async def _question_deadlines(self) -> None:
        """An agent's question cannot hold its session forever: unanswered past
        `question_timeout`, its task ends as timed out (the thread is told, the session is
        freed). The deadline is in the database, so it holds across restarts; a question
        asked by an older version, with none, gets a full one from now."""
        timeout = self.settings.question_timeout
        await self.store.date_open_questions(time.time() + timeout)
        while True:
            self._questions.clear()
            due = await self.store.next_question_deadline()
            if due is None or due > time.time():
                wait = None if due is None else min(due - time.time(), 3600.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._questions.wait(), wait)
                continue
            lapsed = await self.store.lapsed_questions(time.time())
            for task in lapsed:
                try:
                    await self._finish(
                        task["id"], "timed_out", error=render.question_lapsed(timeout)
                    )
                    await self._cancel_remote(task["id"])
                except Exception:  # one task's trouble must not stop the watch
                    log.exception("ending %s after its question lapsed failed", task["id"])
                    await asyncio.sleep(1.0)  # and must not spin it either

    async def _answer(self, request: Request, request_id: str, task_id: str) -> None:
        """The user's reply in the thread goes back to the task that asked."""
        task = await self.store.task(task_id)
        await self.store.set_request_state(request_id, "done", finished=True)
        asker = await self.store.request(task["request_id"]) if task is not None else None
        if task is None or task["state"] != "input_required" or asker is None:
            await self.say(request_id, request, "notice", render.QUESTION_CLOSED)
            return
        if not self.control.may_control(request.user, asker):  # planners never send one; be sure
            await self.say(request_id, request, "notice", render.not_yours(asker["user_name"]))
            return
        agent = self.fleet.agent(task["agent"])
        await self.store.update_task(task_id, state="running", deadline=time.time() + agent.timeout)
        await self.store.bump_board(task["request_id"])
        await self.notify()
        answer = render.answer_from(request.user_name or request.user, request.text)
        self._spawn(task_id, self._drive(task_id, "answer", answer))

    async def _cancel_remote(self, task_id: str) -> bool:
        """Ask the agent to stop; False when its task id is not known yet."""
        task = await self.store.task(task_id)
        agent = self.fleet.get(task["agent"]) if task else None
        if task is None or agent is None or not task["remote_task_id"]:
            return False
        try:
            await self.backend(agent).cancel(task["remote_task_id"])
        except Exception as exc:
            log.warning("cancel of %s at its agent failed: %s", task_id, exc)
        return True

    # -- results relayed --------------------------------------------------------------------

    async def _finish(
        self,
        task_id: str,
        state: str,
        *,
        result: str | None = None,
        files: Sequence[Any] = (),
        error: str = "",
        announce: bool = True,
    ) -> None:
        """Record a terminal state and all it causes in one transaction, then free the
        task's session and start what can start now."""
        finished = await self.store.transact(
            lambda tx: self._finish_tx(tx, task_id, state, result, files, error, announce)
        )
        if finished is None:
            return  # someone else finished it first (a cancel racing a result)
        task, head, may_start = finished
        self._free(board.session_of(task), task_id)
        # The relay (or notice) goes out now, unless its thread has older messages to send.
        await self.notify(head)
        if may_start:
            await self._pump()

    def _finish_tx(
        self,
        tx: Tx,
        task_id: str,
        state: str,
        result: str | None,
        files: Sequence[Any],
        error: str,
        announce: bool,
    ) -> tuple[Row, Row | None, bool] | None:
        """The terminal state, its relay (or notice) queued, dependents released or stopped,
        a disposable session discarded, and the request closed if this was its last task.
        Returns the task, its message's outbox row if that heads its thread, and whether a
        task may start now: a dependent released, or the agent's next one queued behind it
        (most finishes free nothing, and a fan-out's hundred need no hundred queue reads)."""
        task = tx.task(task_id)
        if task is None:
            return None
        request = tx.request(task["request_id"])
        assert request is not None
        if not tx.finish_task(
            task_id, state, result,
            dumps([f.model_dump() for f in files]) if files else None, error or None,
        ):  # fmt: skip
            return None
        agent = self.fleet.get(task["agent"])
        queued: int | None = None
        if state == "completed":
            queued = self.queue(
                tx, request["id"], target_of(request), "result", "", task_id=task_id,
                agent=agent, files=list(files), dedupe=f"result:{task_id}:{task['attempt']}",
            )  # fmt: skip
            if result is not None:
                tx.add_history(key_of(request), self.label(task["agent"]), "agent", result)
            released = self._release_dependents(tx, task_id)
        else:
            released = False
            stopped = self._block_dependents(
                tx, task_id, render.ended(self.label(task["agent"]), state)
            )
            if announce or stopped:
                text = render.failure(
                    render.badge(agent) if agent else render.badge(self.fleet.catch_all.as_agent()),
                    task["summary"], state, error, stopped,
                )  # fmt: skip
                queued = self.queue(
                    tx, request["id"], target_of(request), "notice", text,
                    task_id=task_id, agent=agent, dedupe=f"notice:{task_id}:{task['attempt']}",
                )  # fmt: skip
        tx.bump_board(request["id"])
        if task["session_kind"] == "disposable" and task["session_id"]:
            tx.discard_session(task["session_id"])
        self._close_if_done(tx, request["id"])
        may_start = released or tx.has_queued(task["agent"])
        return task, None if queued is None else tx.thread_head_row(queued), may_start

    def _block_dependents(self, tx: Tx, task_id: str, why: str) -> list[str]:
        stopped: list[str] = []
        frontier = [task_id]
        while frontier:
            for row in tx.dependents(frontier.pop()):
                if row["state"] not in ("waiting", "queued"):
                    continue
                tx.block_task(row["id"], render.not_started(why))
                stopped.append(render.task_label(self.label(row["agent"]), row["summary"]))
                frontier.append(row["id"])
        return stopped

    @staticmethod
    def _release_dependents(tx: Tx, task_id: str) -> bool:
        """Queue the dependents whose every dependency is now complete: True if any."""
        released = False
        for dependent in tx.dependents(task_id):
            if dependent["state"] != "waiting":
                continue
            if all(d["state"] == "completed" for d in tx.dependencies(dependent["id"])):
                released = tx.queue_task(dependent["id"]) or released
        return released

    def _close_if_done(self, tx: Tx, request_id: str) -> None:
        """The closing line, once every task of a running request has ended."""
        # Counted by the database: a fan-out's every finish would otherwise read all its tasks.
        counts = tx.state_counts(request_id)
        if not counts or any(state not in TERMINAL_TASK_STATES for state in counts):
            return
        request = tx.request(request_id)
        if request is None or request["state"] != "running":
            return
        text = render.closing(counts, time.time() - request["created_at"])
        if tx.close_request(request_id):
            self.queue(
                tx,
                request_id,
                target_of(request),
                "closing",
                text,
                dedupe=f"closing:{request_id}:{request['round']}",
            )

    # -- the live status board --------------------------------------------------------------

    async def render_board(self, request_id: str) -> Outbound | None:
        held = self.held
        return await self.store.read(lambda tx: self._render_board(tx, request_id, held))

    def _render_board(self, tx: Tx, request_id: str, held: frozenset[Session]) -> Outbound | None:
        ack = tx.ack_payload(request_id)
        if ack is None:
            return None
        message = Outbound.model_validate(loads(ack)["message"])
        message.board = board.read(tx, request_id, self.fleet, held)
        return message

    # -- recovery after a restart -----------------------------------------------------------

    async def recover(self) -> None:
        """Finish what a previous process started. Safe to run on a clean database."""
        for task in await self.store.tasks_in_state("running", "input_required"):
            if task["session_kind"] == "persistent":
                self._hold(board.session_of(task), task["id"])
        for task in await self.store.tasks_in_state("running"):
            await self._reconcile(task)
        for task in await self.store.tasks_in_state("waiting"):
            deps = await self.store.dependencies(task["id"])
            if any(d["state"] in FAILED_TASK_STATES for d in deps):
                failed = next(d for d in deps if d["state"] != "completed")
                await self._finish(
                    task["id"], "blocked", error=render.did_not_finish(self.label(failed["agent"]))
                )
            elif all(d["state"] == "completed" for d in deps):
                await self.store.update_task(task["id"], state="queued")

        def close_finished(tx: Tx) -> None:
            for request_id in tx.running_requests():
                self._close_if_done(tx, request_id)

        await self.store.transact(close_finished)
        await self.notify()
        self._recovered = True
        await self._pump()

    async def _reconcile(self, task: Row) -> None:
        agent = self.fleet.get(task["agent"])
        if agent is None:
            await self._finish(task["id"], "failed", error=render.left_fleet(task["agent"]))
            return
        if not task["remote_task_id"]:
            # We crashed between recording the start and hearing back. The message id is the
            # task id, so an agent that de-duplicates messages will not run it twice.
            log.info("resending %s: no remote task id was recorded", task["id"])
            brief = Brief.model_validate_json(task["brief"])
            self._spawn(task["id"], self._drive(task["id"], "send", brief.render()))
            return
        try:
            event = await self.backend(agent).get(task["remote_task_id"])
        except BackendError as exc:
            log.warning("reconcile of %s deferred: %s", task["id"], exc)
            self._spawn(task["id"], self._drive(task["id"], "watch"))
            return
        if event.terminal or event.state == "input_required":
            await self._on_event(task["id"], event)
        else:
            self._spawn(task["id"], self._drive(task["id"], "watch"))

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

    def _hold(self, session: Session, task_id: str) -> None:
        self._busy[session] = task_id
        self.held = frozenset(self._busy)

    def _free(self, session: Session, task_id: str) -> None:
        if self._busy.get(session) == task_id:
            del self._busy[session]
            self.held = frozenset(self._busy)


def runs_dir(settings: Settings) -> Path:
    """Command-line agents keep their runs beside the database, so restarts can find them."""
    return settings.db.resolve().parent / f"{settings.db.stem}-runs"
