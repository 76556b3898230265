"""The dispatcher: the composition root of the core, and the face adapters call.

The life of a request reads top to bottom in `bot.intake` (a message, up to recorded and
acknowledged) then `bot.runner` (its tasks, up to the closing line); `bot.recovery` picks
it up after a restart, `bot.control` and `bot.queries` answer users' actions and
questions, and `bot.store` holds every SQL statement. As a state machine:

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import board, discovery, recovery
from bot.backends import BackendContext, backend_for
from bot.backends.base import Backend, without_endpoints
from bot.control import Control
from bot.courier import Courier
from bot.intake import Intake
from bot.manifest import AgentSpec, Fleet
from bot.models import AgentEvent, Request
from bot.outbound import Outbound, StatusItem
from bot.places import said
from bot.planner import RulePlanner
from bot.ports import Action, Adapter
from bot.queries import Queries
from bot.replicas import Membership
from bot.runner import Runner
from bot.settings import Settings
from bot.store import Row, Store, ThreadKey, Tx
from bot.telemetry import Telemetry

if TYPE_CHECKING:
    from bot.llm import LLMPlanner
    from bot.semantic.ahead import PlanProcess

log = logging.getLogger(__name__)

WAKE_GATHER = 0.02
"""Seconds another replica's wake-ups are gathered for before this one looks."""

REPROBE_INTERVAL = 60.0
"""Seconds between checks on agents marked unavailable."""
STOP_INTAKE_WAIT = 2.0
"""How long `stop()` lets messages already being taken in finish."""


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
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store = store
        self.fleet = fleet
        self._manifest_fleet = fleet
        self._keepers: list[asyncio.Task[None]] = []
        """Background loops: roster re-probe, question deadlines, retention."""
        self.adapters = adapters
        self.settings = settings or Settings()
        self.telemetry = telemetry or Telemetry()
        """Metrics and traces (`bot.telemetry`); all off unless the service turned them on."""
        self.soul = soul
        self.unavailable: dict[str, str] = {}
        """agent id → why it is not answering (roster discovery, or a failed call)."""
        self._planner: RulePlanner | None = None
        self.plan_process: PlanProcess | None = None
        """Plans messages on another core (`bot.semantic.ahead`), once started."""
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
        self.intake = Intake(self)
        self.runner = Runner(self, self._backend_factory)
        self._changed = asyncio.Condition()
        self.watchers: list[Callable[[], None]] = []
        """Called on every change `notify` announces, and when an agent's availability
        changes: cheap and synchronous (the web board's live feed sets an event)."""
        self.queries = Queries(self)
        self.control = Control(self)
        self.membership = Membership(store, self.settings.replica_dead_after)
        self.courier = Courier(
            store,
            adapters,
            board_renderer=self.render_board,
            board_interval=self.settings.board_interval,
            leases=self.membership,
            telemetry=self.telemetry,
            quiet=self.intake.quiet,
        )
        self.telemetry.yield_to(lambda: self.intake.busy)
        self._reaper: asyncio.Task[None] | None = None
        self._waking: asyncio.TimerHandle | None = None
        self._taking: set[asyncio.Task[str | None]] = set()
        """Messages acknowledged to their platform once recorded, still being handled."""

    async def start(self) -> None:
        await self.refresh_roster()
        self._planner = self.planner  # a model that cannot load fails the start, not a message
        await self._start_plan_process()
        await self.membership.join()
        await self.courier.start()
        await recovery.recover(self.runner)
        self._keepers = [
            asyncio.create_task(self.membership.run(self), name="replica"),
            asyncio.create_task(self._reprobe(), name="roster-reprobe"),
            asyncio.create_task(self.runner.watch_questions(), name="question-deadlines"),
            asyncio.create_task(
                recovery.retention(self.store, self.settings.retention_days), name="retention"
            ),
        ]

    async def refresh_roster(self) -> None:
        """Cards fill in the roster; agents that do not answer are marked unavailable."""
        roster = await discovery.refresh(self._manifest_fleet, self.store, self._backend_factory)
        self.fleet = roster.fleet
        self.unavailable = roster.unavailable
        self._replan()
        self._tell_watchers()
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
            self._tell_watchers()

    def mark_available(self, agent_id: str) -> None:
        if self.unavailable.pop(agent_id, None) is not None:
            self._replan()
            self._tell_watchers()

    def _tell_watchers(self) -> None:
        for watcher in self.watchers:
            watcher()

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
        if self.plan_process is not None:
            self.plan_process.set_roster(self.fleet, self.unavailable)

    async def _start_plan_process(self) -> None:
        """Only for the semantic planner on a model of its own: a remote model's calls are
        I/O, made off the event loop already (`SemanticPlanner.warm`)."""
        if not self.settings.plan_process or self.plan_process is not None:
            return
        from bot.semantic import SemanticPlanner
        from bot.semantic.ahead import PlanProcess

        planner = self._planner
        if not isinstance(planner, SemanticPlanner) or planner.embedder.remote:
            return
        self.plan_process = PlanProcess(self.settings.embeddings, self.settings.max_tasks)
        self.plan_process.set_roster(self.fleet, self.unavailable)
        await self.plan_process.start()

    async def stop(self) -> None:
        """Stop without changing any task's state: a later start picks everything up."""
        if self._waking is not None:
            self._waking.cancel()
            self._waking = None
        for keeper in self._keepers:
            keeper.cancel()
        await asyncio.gather(*self._keepers, return_exceptions=True)
        self._keepers = []
        # Messages being taken in may finish (the adapters have stopped first).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.intake.idle_event.wait(), STOP_INTAKE_WAIT)
        await self.runner.stop()
        await self.courier.stop()
        await self.membership.leave()
        await self.runner.close_backends()
        if self.llm is not None:
            await self.llm.aclose()
        if self.plan_process is not None:
            await self.plan_process.stop()
            self.plan_process = None
        await self.telemetry.aclose()

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until no task is active, every queued message has gone out, and no runner is
        left (one whose task was cancelled before the agent named it stays to cancel it)."""

        async def settled() -> None:
            while True:
                busy = await self.store.unsettled()
                if busy == 0 and not self.intake.receiving and not self.runner.runners:
                    await self.courier.refresh_boards()
                    return
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.2)
                    except TimeoutError:
                        pass

        await asyncio.wait_for(settled(), timeout)

    def head(self, tx: Tx, queued: int | None) -> Row | None:
        """Message `queued` (an outbox id) for `notify`, if it heads its thread; with
        replicas, read with the thread's lease. Runs in the transaction that queued it."""
        return None if queued is None else tx.thread_head_row(queued, self.membership.as_replica())

    async def notify(self, queued: Row | None = None) -> bool:
        """Tell whoever waits for a change (`idle`), and the courier. `queued`, a message
        just queued that heads its thread (`Tx.thread_head_row`), goes out at once instead,
        and the courier then has nothing new to read. Returns whether it went."""
        started = queued is not None and self.courier.send_now(queued)
        if not started:
            self.courier.wake()
        self._tell_watchers()
        async with self._changed:
            self._changed.notify_all()
        return started

    def wake(self) -> None:
        """Another replica changed something (or a beat came): look for work to start,
        messages to send, and tasks this replica should stop driving. Wake-ups arriving
        together (every commit of every replica sends one) are looked at once."""
        if self._waking is None:
            self._waking = asyncio.get_running_loop().call_later(WAKE_GATHER, self._wake_now)

    def _wake_now(self) -> None:
        self._waking = None
        self.runner.pump_soon()
        self.courier.wake()
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap(), name="reap")

    async def _reap(self) -> None:
        try:
            await self.runner.reap()
        except Exception:
            log.exception("checking this replica's tasks failed")
        async with self._changed:
            self._changed.notify_all()

    async def take_in(self, request: Request) -> asyncio.Task[str | None]:
        """`receive` in the background, returned once the message is recorded (or refused,
        or found a duplicate): the rest (a model's plan, the acknowledgement) goes on."""
        recorded = asyncio.Event()
        work = asyncio.create_task(self.intake.receive(request, recorded))
        self._taking.add(work)  # the loop keeps only a weak reference
        work.add_done_callback(self._taking.discard)
        waiting = asyncio.create_task(recorded.wait())
        await asyncio.wait((work, waiting), return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if work.done():
            work.result()  # raises what receiving raised
        return work

    async def receive(self, request: Request) -> str | None:
        """Handle one normalized message. Returns the request id, or None for a duplicate."""
        return await self.intake.receive(request)

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

    async def render_board(self, request_id: str) -> Outbound | None:
        """The acknowledgement with its board redrawn, for the courier to edit in place."""
        fleet, held = self.fleet, self.runner.held
        return await self.store.read(lambda tx: board.redrawn(tx, request_id, fleet, held))

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
        await self.store.transact(lambda tx: said(tx, request_id, request, kind, text, done, items))
        await self.notify()

    def label(self, agent_id: str) -> str:
        return board.label(self.fleet, agent_id)


def runs_dir(settings: Settings) -> Path:
    """Command-line agents keep their runs beside the database, so restarts can find them."""
    return settings.beside_db("-runs")
