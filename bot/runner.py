"""Tasks running: start what can start, talk to each agent for its task, apply what it
reports, and finish: relay the result (or say why not), release or stop what depends on
it, and close the request after its last task.

The runner owns the in-memory state of running work: a task per conversation with an
agent, the persistent sessions each holds, and the backends. Every transition is written
to the database before the side effect it causes, so `bot.recovery` can finish the job
after a crash.

Over its 400-line budget: starting, driving, applying events and finishing share that
in-memory state. An agent's questions (ask, deadline, answer) are the next part to move."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from bot import render
from bot.backends.base import Backend, BackendError, without_endpoints
from bot.board import Session, session_of
from bot.brief import Brief, HistoryLine, PriorWork
from bot.manifest import AgentSpec
from bot.models import AgentEvent, Request
from bot.places import key_of, queue, target_of
from bot.states import TERMINAL_TASK_STATES
from bot.store import Row, Tx, dumps

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

INTAKE_FIRST = 0.1
"""How long new tasks may wait for a burst of incoming messages to be acknowledged."""
CONTEXTS_KEPT = 10_000
"""How many sessions' recorded agent conversation ids the runner remembers."""


class Mode(StrEnum):
    """How a runner talks to its agent: send the brief, send the user's answer to the
    agent's question, or follow a task the agent already has (after a restart)."""

    SEND = "send"
    ANSWER = "answer"
    WATCH = "watch"


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
    request_id: str = ""
    traceparent: str | None = None
    """The request's trace, when traces are on (`bot.telemetry`)."""
    session_id: str | None = None


class Known(NamedTuple):
    """A running task as far as its events need it."""

    id: str
    agent: str
    remote_task_id: str | None
    session_id: str | None
    request_id: str

    @classmethod
    def of(cls, task: Row) -> Known:
        return cls(
            task["id"], task["agent"], task["remote_task_id"], task["session_id"],
            task["request_id"],
        )  # fmt: skip

    @classmethod
    def of_run(cls, task_id: str, run: Run) -> Known:
        return cls(task_id, run.agent, run.remote_task_id, run.session_id, run.request_id)


def _run_of(
    tx: Tx,
    task: Row,
    session_id: str | None,
    deadline: float | None,
    traceparent: str | None,
    *,
    fresh: bool = False,
) -> Run:
    """`fresh`: the session was made in this transaction, with no agent context yet."""
    session = tx.session(session_id) if session_id and not fresh else None
    return Run(
        agent=task["agent"],
        remote_task_id=task["remote_task_id"],
        attempt=task["attempt"],
        deadline=deadline,
        context_id=session["context_id"] if session else None,
        session_key=task["session_key"],
        request_id=task["request_id"],
        traceparent=traceparent,
        session_id=session_id,
    )


class Runner:
    def __init__(
        self,
        core: Dispatcher,
        backend_factory: Callable[[AgentSpec], Backend],
    ) -> None:
        self.core = core
        self._backend_factory = backend_factory
        self._backends: dict[str, Backend] = {}
        self.runners: dict[str, asyncio.Task[None]] = {}
        self._finished: set[str] = set()
        """Tasks this process finished whose runner is still wrapping up (freeing the session,
        starting what may start): `reap` must not cut that short."""
        self._busy: dict[Session, str] = {}
        """(agent id, session key) → the task holding that persistent session."""
        self.held: frozenset[Session] = frozenset()
        """The sessions in `_busy`, as a snapshot a transaction may read on the database
        thread (remade when a session is taken or freed, not per message)."""
        self._pump_lock = asyncio.Lock()
        self._pumper: asyncio.Task[None] | None = None
        self._pump_wanted = False
        self.recovered = False
        """No task starts before `recover()` has run: adapters listen before the dispatcher
        starts, and a task started in that gap would look, to recovery, like one a dead process
        left running, and reach its agent twice."""
        self._questions = asyncio.Event()
        """Set when an agent asks a question, so the deadline watch looks again."""
        self._contexts: dict[str, str] = {}
        """session id → the agent's conversation id recorded for it: an agent repeats it on
        every event of a stream, and it is written once (a bounded memo, not a record)."""

    async def stop(self) -> None:
        """Stop every runner and close the backends, changing no task's state."""
        if self._pumper is not None:
            self._pumper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pumper
        runners = list(self.runners.values())
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        self.runners.clear()

    async def close_backends(self) -> None:
        for backend in self._backends.values():
            try:
                await backend.aclose()
            except Exception:
                log.debug("closing a backend failed", exc_info=True)
        self._backends.clear()

    def backend(self, agent: AgentSpec) -> Backend:
        if agent.id not in self._backends:
            self._backends[agent.id] = self._backend_factory(agent)
        return self._backends[agent.id]

    def pump_soon(self) -> None:
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
            await self.core.intake.quiet(INTAKE_FIRST)
            self._pump_wanted = False
            await self.pump()

    async def pump(self) -> None:
        """Start every queued task whose session is free; main sessions take one at a time.

        What can start now starts together: one transaction records them all running (with
        their briefs completed from the thread), then every agent is called at once."""
        if not self.recovered:
            return  # recover() pumps once it has run
        async with self._pump_lock:
            chosen: list[Row] = []
            gone: list[Row] = []
            for task in await self.core.store.startable_tasks():
                if self.core.fleet.get(task["agent"]) is None:
                    gone.append(task)
                    continue
                if task["session_kind"] == "persistent":
                    if session_of(task) in self._busy:
                        continue
                    self.hold(session_of(task), task["id"])
                chosen.append(task)
            if chosen:
                try:
                    started = await self.core.store.transact(
                        lambda tx: self._start_tasks(tx, chosen)
                    )
                except Exception:
                    for task in chosen:  # nothing started: the next pump tries again
                        if task["session_kind"] == "persistent":
                            self._free(session_of(task), task["id"])
                    raise
                await self.core.notify()
                ours = {task_id for task_id, _, _ in started}
                for task in chosen:  # another replica started it, or holds its session
                    if task["id"] not in ours and task["session_kind"] == "persistent":
                        self._free(session_of(task), task["id"])
                for task_id, text, run in started:
                    self.spawn(task_id, self.drive(task_id, Mode.SEND, text, run))
        for task in gone:
            await self.finish(task["id"], "failed", error=render.gone_from_fleet(task["agent"]))

    def _prior(self, task: Row) -> PriorWork:
        """A finished task as a brief shows it: who, what, and its output."""
        return PriorWork(
            agent=self.core.label(task["agent"]),
            summary=task["summary"],
            output=task["result"] or "",
        )

    def _start_tasks(self, tx: Tx, tasks: list[Row]) -> list[tuple[str, str, Run]]:
        """Mark tasks running in their sessions, each with a brief it can start from:
        upstream outputs, earlier results in the thread, and the thread's recent history.
        Returns each task's id, brief and what its runner needs to call the agent, for the
        tasks this replica claimed."""
        started = []
        threads: dict[str, tuple[list[Row], list[HistoryLine], str | None]] = {}
        for task in tasks:
            if not tx.claim_task(task["id"], task["session_kind"]):
                continue
            agent = self.core.fleet.agent(task["agent"])
            request_id = task["request_id"]
            deps, request, history, in_thread = tx.for_brief(
                task["id"], None if request_id in threads else request_id,
                self.core.settings.history_limit,
            )  # fmt: skip
            brief = Brief.model_validate_json(task["brief"])
            brief.depends_on = [self._prior(d) for d in deps]
            if request_id not in threads:
                assert request is not None
                threads[request_id] = (
                    in_thread,
                    [HistoryLine(author=h["author"], text=h["text"]) for h in history],
                    request["traceparent"],
                )
            thread_tasks, history_lines, traceparent = threads[request_id]
            dep_ids = {d["id"] for d in deps}
            brief.thread_results = [
                self._prior(t)
                for t in thread_tasks
                if t["state"] == "completed" and t["id"] not in dep_ids and t["id"] != task["id"]
            ][-5:]
            brief.history = history_lines
            now = time.time()
            fresh = task["session_kind"] != "persistent"
            session_id = (
                tx.new_disposable_session(agent.id)
                if fresh
                else tx.main_session(agent.id, task["session_key"])
            )
            tx.start_task(task["id"], session_id, brief.model_dump_json(), now, now + agent.timeout)
            tx.bump_board(task["request_id"])
            run = _run_of(tx, task, session_id, now + agent.timeout, traceparent, fresh=fresh)
            started.append((task["id"], brief.render(), run))
        return started

    async def reap(self) -> None:
        """Stop driving tasks that are no longer this replica's: finished through another
        replica (an agent's callback reached it), or adopted by another after this one was
        taken for dead. Their records stay as they are."""
        ids = list(self.runners)
        if not ids:
            return
        me = self.core.store.replica
        for row in await self.core.store.read(lambda tx: tx.owns(ids)):
            if row["id"] in self._finished:
                continue
            if row["owner"] != me or row["state"] != "running":
                runner = self.runners.get(row["id"])
                if runner is not None and runner is not asyncio.current_task():
                    runner.cancel()
                if row["session_kind"] == "persistent" and row["state"] != "input_required":
                    self._free(session_of(row), row["id"])

    def spawn(self, task_id: str, coro: Any) -> None:
        runner = asyncio.create_task(coro, name=f"task {task_id}")
        self.runners[task_id] = runner
        runner.add_done_callback(functools.partial(self._runner_done, task_id))

    def _runner_done(self, task_id: str, runner: asyncio.Task[None]) -> None:
        self._finished.discard(task_id)
        if self.runners.get(task_id) is runner:
            del self.runners[task_id]
        if not runner.cancelled() and runner.exception() is not None:
            log.error("runner for %s crashed", task_id, exc_info=runner.exception())

    async def _read_run(self, task_id: str) -> Run | None:
        def read(tx: Tx) -> Run | None:
            task, request = tx.task_and_request(task_id)
            if task is None:
                return None
            traceparent = request["traceparent"] if request is not None else None
            return _run_of(tx, task, task["session_id"], task["deadline"], traceparent)

        return await self.core.store.read(read)

    async def drive(self, task_id: str, mode: Mode, text: str = "", run: Run | None = None) -> None:
        """Talk to the agent for one task until it finishes, asks a question, or times out.

        `run`: what the transaction that started the task knows, so a hundred tasks started
        together do not each read it back; without it, it is read from the database."""
        if run is None:
            run = await self._read_run(task_id)
            if run is None:
                return
        agent = self.core.fleet.get(run.agent)
        if agent is None:
            await self.finish(task_id, "failed", error=render.left_fleet(run.agent))
            return
        backend = self.backend(agent)
        remaining = (run.deadline or time.time() + agent.timeout) - time.time()
        call = self.core.telemetry.agent_call(task_id, run, agent, mode, text)
        try:
            async with asyncio.timeout(max(remaining, 0.001)):
                if mode is Mode.WATCH:
                    assert run.remote_task_id is not None, "only a task the agent named is watched"
                    stream = backend.watch(run.remote_task_id)
                else:
                    stream = backend.send(
                        text,
                        message_id=f"{task_id}#{mode}#{int(time.time() * 1000)}"
                        if mode is Mode.ANSWER
                        else (task_id if not run.attempt else f"{task_id}#{run.attempt}"),
                        context_id=run.context_id,
                        remote_task_id=run.remote_task_id if mode is Mode.ANSWER else None,
                        metadata={
                            "dispatch_task_id": task_id,
                            "dispatch_attempt": str(run.attempt),
                        }
                        | ({"dispatch_session": run.session_key} if run.session_key else {})
                        | call.headers,  # the trace, W3C (`traceparent`), when traces are on
                    )
                    text = ""  # the backend has the brief now
                # Closed here even when the runner is cancelled (a stop, Ctrl-C): a generator
                # left open would be closed by the event loop's shutdown, in no useful order.
                async with contextlib.aclosing(stream) as events:
                    known = Known.of_run(task_id, run)
                    async for event in events:
                        done = await self.on_event(task_id, event, known)
                        if event.remote_task_id and event.remote_task_id != known.remote_task_id:
                            known = known._replace(remote_task_id=event.remote_task_id)
                        del event  # not kept while the next one is awaited
                        if done:
                            return
            await self.finish(task_id, "failed", error=render.NO_RESULT)
        except TimeoutError:
            await self.cancel_remote(task_id)
            await self.finish(task_id, "timed_out", error=render.no_result_within(agent.timeout))
        except BackendError as exc:
            error = without_endpoints(str(exc))  # relayed to chat: the log keeps the address
            if exc.unreachable:
                self.core.mark_unavailable(agent.id, error)
            await self.finish(task_id, "failed", error=error)
        finally:  # a runner stopped or cancelled: its call ended with no outcome of its own
            self.core.telemetry.agent_call_ended(task_id, "interrupted", call=call)

    async def agent_event(
        self, task_id: str, event: AgentEvent, attempt: int | None = None
    ) -> bool:
        """A report that arrived outside a stream (an HTTP agent's callback).

        Recorded like any event; returns False when it changed nothing (a duplicate, a task
        that already finished, or a report on an earlier `attempt` of a retried task). A report
        that ends the task's stream stops its runner.
        """
        task = await self.core.store.task(task_id)
        if task is None or task["state"] != "running":
            return False
        if attempt is not None and attempt != task["attempt"]:
            return False
        if await self.on_event(task_id, event, Known.of(task)):
            runner = self.runners.pop(task_id, None)
            if runner is not None and runner is not asyncio.current_task():
                runner.cancel()
        return True

    async def on_event(self, task_id: str, event: AgentEvent, known: Known | None = None) -> bool:
        """Record one agent event; True once the task needs nothing more from this stream.

        `known`: the running task as its caller knows it. The task is then not read for each
        event: what changes something checks the task's state as it writes (a finish, a
        question, a new remote id), and a cancel stops the runner itself."""
        if known is None:
            row = await self.core.store.task(task_id)
            if row is None:
                return True
            if row["state"] != "running":
                if row["state"] == "cancelled" and event.remote_task_id and not event.terminal:
                    # Cancelled before the agent told us its task id: stop it now we know.
                    await self.core.store.update_task(task_id, remote_task_id=event.remote_task_id)
                    await self.cancel_remote(task_id)
                return True
            known = Known.of(row)
        self.core.mark_available(known.agent)
        if event.context_id:
            self.core.telemetry.agent_conversation(task_id, event.context_id)
        new_remote = event.remote_task_id and event.remote_task_id != known.remote_task_id
        session, context = known.session_id or "", event.context_id or ""
        new_context = bool(context and session and self._contexts.get(session) != context)
        if new_remote or new_context:

            def note(tx: Tx) -> str:
                if new_remote:
                    tx.set_remote_task_id(task_id, event.remote_task_id)
                if new_context:
                    tx.set_session_context(session, context)
                return tx.task_state(task_id)

            state = await self.core.store.transact(note)
            if new_context:
                if len(self._contexts) >= CONTEXTS_KEPT:
                    self._contexts.clear()
                self._contexts[session] = context
            if state != "running":
                if state == "cancelled" and new_remote:
                    await self.cancel_remote(task_id)  # cancelled while the id was on its way
                return True
        if event.state == "input_required":
            await self._ask_user(known, event.text or render.AGENT_ASKS)
            return True
        if event.state == "completed":
            await self.finish(task_id, "completed", result=event.text, files=event.files)
            return True
        if event.state in ("failed", "rejected"):
            await self.finish(
                task_id, "failed", error=event.text or render.agent_reported(event.state)
            )
            return True
        if event.state == "canceled":
            await self.finish(task_id, "cancelled", error=render.CANCELLED_BY_AGENT)
            return True
        return False

    async def _ask_user(self, task: Known, question: str) -> None:
        agent = self.core.fleet.get(task.agent)

        def ask(tx: Tx) -> bool:
            request = tx.request(task.request_id)
            assert request is not None
            deadline = time.time() + self.core.settings.question_timeout
            if not tx.ask(task.id, question, deadline):
                return False  # it ended meanwhile (a cancel)
            queue(
                tx, request["id"], target_of(request), "question", question,
                task_id=task.id, agent=agent,
            )  # fmt: skip
            tx.bump_board(request["id"])
            tx.add_history(key_of(request), self.core.label(task.agent), "agent", question)
            return True

        if not await self.core.store.transact(ask):
            return
        self.core.telemetry.agent_call_ended(task.id, "input_required")
        self._questions.set()
        await self.core.notify()

    async def watch_questions(self) -> None:
        """An agent's question cannot hold its session forever: unanswered past
        `question_timeout`, its task ends as timed out (the thread is told, the session is
        freed). The deadline is in the database, so it holds across restarts; a question
        asked by an older version, with none, gets a full one from now."""
        timeout = self.core.settings.question_timeout
        await self.core.store.date_open_questions(time.time() + timeout)
        while True:
            self._questions.clear()
            due = await self.core.store.next_question_deadline()
            if due is None or due > time.time():
                wait = None if due is None else min(due - time.time(), 3600.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._questions.wait(), wait)
                continue
            lapsed = await self.core.store.lapsed_questions(time.time())
            for task in lapsed:
                try:
                    await self.finish(
                        task["id"], "timed_out", error=render.question_lapsed(timeout)
                    )
                    await self.cancel_remote(task["id"])
                except Exception:  # one task's trouble must not stop the watch
                    log.exception("ending %s after its question lapsed failed", task["id"])
                    await asyncio.sleep(1.0)  # and must not spin it either

    async def answer(self, request: Request, request_id: str, task_id: str) -> None:
        """The user's reply in the thread goes back to the task that asked."""
        task = await self.core.store.task(task_id)
        await self.core.store.set_request_state(request_id, "done", finished=True)
        asker = await self.core.store.request(task["request_id"]) if task is not None else None
        if task is None or task["state"] != "input_required" or asker is None:
            await self.core.say(request_id, request, "notice", render.QUESTION_CLOSED)
            return
        if not self.core.control.may_control(
            request.user, asker
        ):  # planners never send one; be sure
            await self.core.say(request_id, request, "notice", render.not_yours(asker["user_name"]))
            return
        deadline = time.time() + self.core.fleet.agent(task["agent"]).timeout

        def resume(tx: Tx) -> bool:
            if not tx.resume_task(task_id, deadline):
                return False
            tx.bump_board(task["request_id"])
            return True

        if not await self.core.store.transact(resume):
            await self.core.say(request_id, request, "notice", render.QUESTION_CLOSED)
            return
        await self.core.notify()
        answer = render.answer_from(request.user_name or request.user, request.text)
        self.spawn(task_id, self.drive(task_id, Mode.ANSWER, answer))

    async def cancel_remote(self, task_id: str) -> bool:
        """Ask the agent to stop; False when its task id is not known yet."""
        task = await self.core.store.task(task_id)
        agent = self.core.fleet.get(task["agent"]) if task else None
        if task is None or agent is None or not task["remote_task_id"]:
            return False
        try:
            await self.backend(agent).cancel(task["remote_task_id"])
        except Exception as exc:
            log.warning("cancel of %s at its agent failed: %s", task_id, exc)
        return True

    async def finish(
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
        finished = await self.core.store.transact(
            lambda tx: self._finish_tx(tx, task_id, state, result, files, error, announce)
        )
        if finished is None:
            return  # someone else finished it first (a cancel racing a result)
        task, head, may_start = finished
        self.core.telemetry.task_ended(task_id, task["agent"], state, result)
        if self.runners.get(task_id) is asyncio.current_task():
            # Its own runner finished it: the pump below may claim other tasks, and a reap
            # cancelling this runner then would leave them running with no one driving them.
            self._finished.add(task_id)
        self._free(session_of(task), task_id)
        # The relay (or notice) goes out now, unless its thread has older messages to send.
        await self.core.notify(head)
        if may_start:
            await self.pump()

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
        task, request = tx.task_and_request(task_id)
        if task is None:
            return None
        assert request is not None
        if not tx.finish_task(
            task_id, state, result,
            dumps([f.model_dump() for f in files]) if files else None, error or None,
        ):  # fmt: skip
            return None
        agent = self.core.fleet.get(task["agent"])
        queued: int | None = None
        if state == "completed":
            queued = queue(
                tx, request["id"], target_of(request), "result", "", task_id=task_id,
                agent=agent, files=list(files), dedupe=f"result:{task_id}:{task['attempt']}",
            )  # fmt: skip
            if result is not None:
                tx.add_history(key_of(request), self.core.label(task["agent"]), "agent", result)
            released = self._release_dependents(tx, task_id)
        else:
            released = False
            stopped = self._block_dependents(
                tx, task_id, render.ended(self.core.label(task["agent"]), state)
            )
            if announce or stopped:
                text = render.failure(
                    render.badge(agent) if agent else render.badge(self.core.fleet.catch_all.as_agent()),
                    task["summary"], state, error, stopped,
                )  # fmt: skip
                queued = queue(
                    tx, request["id"], target_of(request), "notice", text,
                    task_id=task_id, agent=agent, dedupe=f"notice:{task_id}:{task['attempt']}",
                )  # fmt: skip
        tx.bump_board(request["id"])
        if task["session_kind"] == "disposable" and task["session_id"]:
            tx.discard_session(task["session_id"])
        self.close_if_done(tx, request["id"], request)
        may_start = released or tx.has_queued(task["agent"])
        return task, self.core.head(tx, queued), may_start

    def _block_dependents(self, tx: Tx, task_id: str, why: str) -> list[str]:
        stopped: list[str] = []
        frontier = [task_id]
        while frontier:
            for row in tx.dependents(frontier.pop()):
                if row["state"] not in ("waiting", "queued"):
                    continue
                tx.block_task(row["id"], render.not_started(why))
                stopped.append(render.task_label(self.core.label(row["agent"]), row["summary"]))
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

    def close_if_done(self, tx: Tx, request_id: str, request: Row | None = None) -> None:
        """The closing line, once every task of a running request has ended. `request`: its
        row, if this transaction has read it already."""
        # Counted by the database: a fan-out's every finish would otherwise read all its tasks.
        counts = tx.state_counts(request_id)
        if not counts or any(state not in TERMINAL_TASK_STATES for state in counts):
            return
        request = request or tx.request(request_id)
        if request is None or request["state"] != "running":
            return
        text = render.closing(counts, time.time() - request["created_at"])
        if tx.close_request(request_id):
            queue(
                tx,
                request_id,
                target_of(request),
                "closing",
                text,
                dedupe=f"closing:{request_id}:{request['round']}",
            )

    def hold(self, session: Session, task_id: str) -> None:
        self._busy[session] = task_id
        self.held = frozenset(self._busy)

    def _free(self, session: Session, task_id: str) -> None:
        if self._busy.get(session) == task_id:
            del self._busy[session]
            self.held = frozenset(self._busy)
