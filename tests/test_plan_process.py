"""The planning process (`bot.semantic.ahead`): it plans as this process would, its plan is
set aside when the thread moved on meanwhile, and it is never needed: while it loads, or
once it died, messages are planned in place."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from bot.dispatcher import Dispatcher
from bot.manifest import load_fleet
from bot.models import Decision
from bot.planner import Lesson, ThreadContext, ThreadTask
from bot.semantic import SemanticPlanner
from bot.semantic.ahead import Ahead, PlanProcess
from bot.semantic.embed import load_embedder
from evals.run import HERE, context_of, load_cases
from tests.conftest import Harness, HarnessFactory, echo

ON = {"plan_process": True}


def planned_here(dispatcher: Dispatcher) -> list[str]:
    """The texts this process's own planner plans from now on (the roster stays put in
    these tests, so the planner is not rebuilt)."""
    planner = dispatcher.planner
    texts: list[str] = []
    plan = planner.plan

    def counted(text: str, *args: Any, **kwargs: Any) -> Decision:
        texts.append(text)
        return plan(text, *args, **kwargs)

    planner.plan = counted  # type: ignore[method-assign]
    return texts


async def started(harness: HarnessFactory) -> tuple[Harness, PlanProcess]:
    h = await harness({"writer": echo("writer"), "designer": echo("designer")}, settings=ON)
    assert h.dispatcher is not None and h.dispatcher.plan_process is not None
    process = h.dispatcher.plan_process
    assert await process.until_ready()
    return h, process


async def test_the_planning_process_plans_as_this_process_does() -> None:
    """Every decision of a split's cases on one fleet, with their threads and a lesson, is
    the same from the planning process as from a planner in this process."""
    fleet = load_fleet(HERE / "fleets" / "software.yaml")
    cases = [c for c in load_cases(HERE, ["dev", "dev2"]) if c.fleet == "software"]
    assert len(cases) >= 40
    lessons = [Lesson("the release notes", "docs")] if fleet.get("docs") else []
    unavailable = {fleet.agents[0].id: "not answering"}
    here = SemanticPlanner(fleet, unavailable, embedder=load_embedder())
    process = PlanProcess("", 12)
    process.set_roster(fleet, unavailable)
    await process.start()
    try:
        assert await process.until_ready()
        for case in cases:
            context = context_of(case)
            ahead = await process.plan(case.text, context, lessons)
            assert ahead is not None and ahead.stands(process.roster, context, lessons)
            assert ahead.decision == here.plan(case.text, context, lessons), case.text
    finally:
        await process.stop()


async def test_a_message_is_planned_in_the_planning_process(harness: HarnessFactory) -> None:
    h, process = await started(harness)
    assert h.dispatcher is not None
    here = planned_here(h.dispatcher)
    text = "Writer and Designer: a one-pager for the partner program"
    request = await h.say(text)
    await h.idle()
    posted = h.adapter.in_thread(request.thread_key)
    assert [m.kind for m in posted] == ["ack", "result", "result", "closing"]
    assert here == []  # planned over there, not here
    rows = await h.rows(
        "SELECT r.decision, p.latency_ms FROM requests r JOIN plans p ON p.request_id = r.id"
    )
    assert len(rows) == 1 and rows[0]["latency_ms"] > 0  # the process's own timing
    assert Decision.model_validate(json.loads(rows[0]["decision"])) == h.dispatcher.planner.plan(
        text, ThreadContext(), []
    )
    # The process ends with the dispatcher.
    pid = process.pid
    assert pid is not None
    await h.close()
    h.service = None  # closed already
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_plan_made_before_the_thread_moved_on_is_made_again_here(
    harness: HarnessFactory,
) -> None:
    """The process planned from the thread as it was read; by the time the message is
    recorded, another message changed it: the plan is set aside and made again here."""
    h, process = await started(harness)
    assert h.dispatcher is not None
    here = planned_here(h.dispatcher)
    plan: Callable[..., Any] = process.plan

    async def from_a_stale_thread(text: str, context: ThreadContext, lessons: Any) -> Ahead:
        made = await plan(text, context, lessons)
        assert made is not None
        moved_on = ThreadContext(tasks=[ThreadTask("t9", "writer", "earlier work", "running")])
        # What it would have planned in that thread: a question about it, not work.
        return Ahead(made.roster, moved_on, made.lessons, Decision(kind="status"), 0.1)

    process.plan = from_a_stale_thread  # type: ignore[method-assign]
    text = "design a banner for the spring launch"
    request = await h.say(text)
    await h.idle()
    assert here == [text]
    assert [m.kind for m in h.adapter.in_thread(request.thread_key)] == ["ack", "result", "closing"]


async def test_a_new_message_from_an_author_seen_before_is_planned_ahead_with_no_read(
    harness: HarnessFactory,
) -> None:
    """A top-level message has no thread yet, and its author's lessons are as this replica
    last read them, so it is planned ahead with nothing read first. A lesson taught
    meanwhile elsewhere (another replica: written straight to the database here) is found
    by the transaction, which plans the message again here with it."""
    h, _ = await started(harness)
    assert h.dispatcher is not None and h.store is not None
    store = h.store
    here = planned_here(h.dispatcher)
    reads: list[str] = []
    read = store.read

    async def counted(body: Any) -> Any:
        reads.append(getattr(body, "__qualname__", ""))
        return await read(body)

    store.read = counted  # type: ignore[method-assign]

    def plans_ahead() -> int:
        return sum("_plan_ahead" in name for name in reads)

    await h.say("draft the FAQ for the new members' area")
    await h.idle()
    assert plans_ahead() == 1 and here == []  # an author not seen before: read, then planned
    await h.say("design a banner for the spring launch")
    await h.idle()
    assert plans_ahead() == 1 and here == []  # planned over there, nothing read for it
    first = await h.say("a poster for the summer fair")
    await h.idle()
    await h.say("and a flyer to go with it", thread=first.thread_key)  # in a thread: read
    await h.idle()
    assert plans_ahead() == 2
    await store.transact(
        lambda tx: tx.add_lesson(
            "posters", "writer", "designer", "U1", h.adapter.platform, h.adapter.workspace,
            shared=False, keep=50,
        )
    )  # fmt: skip
    text = "a poster for the winter fair"
    await h.say(text)
    await h.idle()
    assert plans_ahead() == 2 and here == [text]  # the guess did not stand: planned here
    rows = await h.rows("SELECT decision FROM requests WHERE text = ?", (text,))
    assert Decision.model_validate(json.loads(rows[0]["decision"])) == h.dispatcher.planner.plan(
        text, ThreadContext(), [Lesson("posters", "writer")]
    )


async def test_a_dead_planning_process_leaves_planning_here(harness: HarnessFactory) -> None:
    h, process = await started(harness)
    assert h.dispatcher is not None and process.pid is not None
    here = planned_here(h.dispatcher)
    os.kill(process.pid, signal.SIGKILL)
    first = await h.say("design a banner for the spring launch")
    second = await h.say("write the blog post for the spring launch")
    await h.idle()
    for request in (first, second):
        kinds = [m.kind for m in h.adapter.in_thread(request.thread_key)]
        assert kinds == ["ack", "result", "closing"], kinds
    assert here == [first.text, second.text] and not process.ready


async def test_the_process_follows_the_roster(harness: HarnessFactory) -> None:
    """An agent marked unavailable is unavailable to the process's plans too."""
    h, process = await started(harness)
    assert h.dispatcher is not None
    text = "write the blog post for the spring launch"
    before = await process.plan(text, ThreadContext(), [])
    h.dispatcher.mark_unavailable("writer", "not answering")
    assert await process.until_ready()
    after = await process.plan(text, ThreadContext(), [])
    assert before is not None and after is not None and after.roster > before.roster
    assert [t.agent for t in before.decision.tasks] == ["writer"]
    assert after.decision == h.dispatcher.planner.plan(text, ThreadContext(), [])
    assert "writer" not in [t.agent for t in after.decision.tasks]
