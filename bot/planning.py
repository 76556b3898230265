"""What the planners see, and the model's turn at a plan: the one step of intake that may
take seconds. Reads run inside intake's transaction; only `ask_model` does I/O."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import render
from bot.brief import HistoryLine
from bot.models import Decision, Request
from bot.places import thread_key
from bot.planner import Lesson, ThreadContext, ThreadTask
from bot.states import ACTIVE_TASK_STATES
from bot.store import Row, ThreadKey, Tx

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

LESSON_LIMIT = 200
ROUTING_NOTICE = 1.0
"""Seconds of model planning after which the user sees "Routing…"."""
MODEL_KINDS = frozenset({"work", "followup", "clarify"})
"""Rule decisions a configured model may reconsider; the rest are instant and exact."""


@dataclass(frozen=True)
class Seen:
    """What the planners see of a message's thread and author, read with its claim."""

    claimed: bool
    context: ThreadContext
    lessons: list[Lesson]
    recent: int
    """The author's requests in the last minute, when a rate limit counts them."""


def read(core: Dispatcher, tx: Tx, request: Request, *, claim: bool) -> Seen:
    """Claim the message (if `claim`, counting its author's recent requests too) and read
    what planning it needs, in one go (`Tx.take_in`)."""
    limit = core.settings.max_requests_per_minute
    got = tx.take_in(
        request.dedupe_key if claim else None, thread_key(request), request.user,
        request.workspace, LESSON_LIMIT, time.time() - 60 if limit and claim else None,
    )  # fmt: skip
    if not got.claimed:
        return Seen(False, ThreadContext(), [], got.recent)
    context = thread_context(core, tx, thread_key(request), request.user, got.thread)
    return Seen(True, context, lessons(core, got.lessons), got.recent)


def thread_context(
    core: Dispatcher, tx: Tx, key: ThreadKey, user: str, requests: list[Row]
) -> ThreadContext:
    """The thread as `user` may act on it, from its `requests`. A question (an agent's, or
    Dispatch's clarifying one) is open only to whoever asked for that work, or an admin: to
    anyone else it is not there, so their message is a follow-up of their own."""
    if not requests:
        return ThreadContext()
    owners = {r["id"]: r for r in requests}
    tasks = tx.thread_tasks(key)
    may_control = core.control.may_control
    clarifying = next(
        (r for r in reversed(requests) if r["state"] == "clarifying" and may_control(user, r)),
        None,
    )
    return ThreadContext(
        tasks=[
            ThreadTask(t["id"], t["agent"], t["summary"], t["state"], t["question"])
            if t["state"] != "input_required" or may_control(user, owners[t["request_id"]])
            else ThreadTask(t["id"], t["agent"], t["summary"], "running")
            for t in tasks
        ],
        pending_question=clarifying["question"] if clarifying else None,
        pending_text=clarifying["text"] if clarifying else None,
        pending_id=clarifying["id"] if clarifying else None,
    )


def lessons(core: Dispatcher, rows: list[Row]) -> list[Lesson]:
    """The routing corrections that apply to a message's author, newest first: their own,
    and those an admin made for the workspace. Both planners learn from them."""
    return [Lesson(row["text"], row["agent"]) for row in rows if core.fleet.get(row["agent"])]


def wants_model(core: Dispatcher, decision: Decision) -> bool:
    """A configured model plans work: always, or (mode "doubt") only where the planner in
    front of it is unsure."""
    from bot.semantic.planner import model_wanted

    return (
        core.llm is not None
        and decision.kind in MODEL_KINDS
        and model_wanted(decision, core.settings.llm_mode)
    )


def usable(core: Dispatcher, decision: Decision) -> Decision:
    problems = decision.validate_against({a.id for a in core.fleet.all_agents})
    if not problems:
        return decision
    # Both planners are built not to do this; refuse rather than guess.
    log.error("planner produced an unusable decision: %s", problems)
    return Decision(kind="clarify", question=render.UNROUTABLE, reason="; ".join(problems))


async def ask_model(
    core: Dispatcher,
    request: Request,
    request_id: str,
    context: ThreadContext,
    lessons: list[Lesson],
) -> Decision:
    """For work, a configured model plans within its budget; the rules are its net. The
    decision is recorded with the plan's figures and the message joins the thread's history.

    Status, roster, cancel, answers and corrections stay with the instant rules. The model
    never delays the user silently: past a second they see "Routing…".
    """
    assert core.llm is not None
    key = thread_key(request)
    history = [
        HistoryLine(author=h["author"], text=h["text"])
        for h in await core.store.recent_history(key, core.settings.history_limit)
    ]
    planning = asyncio.create_task(
        core.llm.plan(
            request.text,
            context,
            lessons,
            history=history,
            in_flight=[t for t in context.tasks if t.state in ACTIVE_TASK_STATES],
            unavailable=core.unavailable,
        )
    )
    try:
        outcome = await asyncio.wait_for(asyncio.shield(planning), ROUTING_NOTICE)
    except TimeoutError:
        await core.say(request_id, request, "notice", render.ROUTING)
        outcome = await planning
    if outcome.fallback_reason:
        log.warning("model planner fell back to the rules: %s", outcome.fallback_reason)
        core.telemetry.planner_fallback(outcome.fallback_kind or "error")
    await core.store.transact(
        lambda tx: tx.insert_plan(
            request_id,
            outcome.planner,
            {
                "model": outcome.model,
                "fallback_reason": outcome.fallback_reason,
                "repaired": outcome.repaired,
                "input_tokens": outcome.input_tokens,
                "output_tokens": outcome.output_tokens,
                "latency_ms": outcome.latency_ms,
            },
        )
    )
    decision = usable(core, outcome.decision)
    await core.store.set_decision(request_id, decision.kind, decision.model_dump_json())
    await core.store.add_history(key, request.user_name or request.user, "user", request.text)
    return decision
