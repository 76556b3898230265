"""The dispatcher end to end: real A2A agents, a real SQLite file, the memory platform."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from typing import Any

import pytest

from adapters.memory import MemoryAdapter
from bot import render
from bot.demo.agent_server import AgentCall, Ask, Fail, Outcome, Reply
from bot.models import Request
from tests.conftest import Harness, HarnessFactory, both_stores, echo, gated, slow

store_kind = both_stores

U = 0.25  # one "unit" of agent time, in seconds


def thread_of(request: Request) -> str:
    return request.thread_key


async def image_task_with_remote_id(h: Harness) -> list[dict[str, Any]]:
    """The image task's row once the agent's task id is stored (the agent holds its task)."""
    async with asyncio.timeout(10):  # generous: only a hang should reach it
        while True:
            rows = await h.rows("SELECT state, remote_task_id FROM tasks WHERE agent = 'image'")
            if rows and rows[0]["remote_task_id"]:
                return rows
            await asyncio.sleep(0.02)


async def test_parallel_results_arrive_in_completion_order_and_take_the_slowest(
    harness: HarnessFactory,
) -> None:
    releases = {agent_id: asyncio.Event() for agent_id in ("image", "writer", "social")}
    h = await harness({agent_id: gated(agent_id, go) for agent_id, go in releases.items()})
    request = await h.say("Launch prep: brand images, landing page copy, and announcement tweets")
    # All three are called before any may finish; then they finish one by one, each result
    # posted before the next agent is let go.
    await h.adapter.wait_for(lambda: all(h.servers[agent_id].calls for agent_id in releases))
    for n, agent_id in enumerate(["writer", "social", "image"], 1):
        releases[agent_id].set()
        await h.adapter.wait_for(
            lambda n=n: len(h.adapter.in_thread(thread_of(request), "result")) == n
        )
    await h.idle()

    posted = h.adapter.in_thread(thread_of(request))
    kinds = [m.kind for m in posted]
    assert kinds == ["ack", "result", "result", "result", "closing"]
    assert posted[0].text.startswith(
        "Three in parallel: 🎨 Image → brand images, ✍️ Writer → landing page copy"
    )
    assert [m.agent.id for m in posted[1:4] if m.agent] == ["writer", "social", "image"]
    assert posted[-1].text.endswith(": all 3 tasks finished."), posted[-1]
    assert posted[1].text == "writer did: landing page copy"
    # In parallel: every agent started before any finished (so it takes the slowest, not the
    # sum), and the acknowledgement went out before the first call.
    assert max(t for ts in h.started_at.values() for t in ts) < min(
        t for ts in h.finished_at.values() for t in ts
    )
    ack_at = h.adapter.posted[0].at
    assert ack_at <= min(t for ts in h.started_at.values() for t in ts)


@pytest.mark.parametrize("store_kind", ["sqlite"])  # it reads SQLite's statement trace
async def test_a_fan_out_does_not_go_back_to_the_database_once_per_task(
    harness: HarnessFactory,
) -> None:
    """Starting and finishing n tasks together costs no n extra database reads: runners
    get what they need from the transaction that started them, and a finish reads the task
    queue only when it may have freed something (here, nothing waits)."""
    h = await harness(
        {"image": echo("image", U), "writer": echo("writer", U), "social": echo("social", U)}
    )
    assert h.store is not None
    statements: list[str] = []
    connection = h.store._conn()
    await h.store.read(lambda tx: connection.set_trace_callback(statements.append))
    request = await h.say("Launch prep: brand images, landing page copy, and announcement tweets")
    await h.idle()
    await h.store.read(lambda tx: connection.set_trace_callback(None))

    assert [m.kind for m in h.adapter.in_thread(thread_of(request))] == [
        "ack", "result", "result", "result", "closing",
    ]  # fmt: skip
    queue_reads = [s for s in statements if "state = 'queued' AND session_kind" in s]
    # One read of the queue for the three starts (the old code read it again after every
    # finish).
    assert len(queue_reads) == 1, queue_reads
    # Each session is read in the transaction that starts its task, and by no runner after.
    transactions: list[list[str]] = []
    for statement in statements:
        if statement.startswith("BEGIN"):
            transactions.append([])
        elif transactions and statement != "COMMIT":
            transactions[-1].append(statement)
    starting = [
        t
        for t in transactions
        if any(s.startswith("UPDATE tasks SET state = 'running'") for s in t)
    ]
    assert len(starting) == 1
    assert sum("FROM sessions WHERE id" in s for s in starting[0]) == 3
    assert sum("FROM sessions WHERE id" in s for s in statements) == 3


async def test_chain_passes_the_logo_to_the_landing_page(harness: HarnessFactory) -> None:
    seen: list[AgentCall] = []

    async def designer(call: AgentCall) -> Outcome:
        seen.append(call)
        return Reply("landing page with the logo")

    h = await harness({"image": echo("image", U), "designer": designer})
    request = await h.say("Design the new logo, then use it on the landing page")
    await h.idle()

    posted = h.adapter.in_thread(thread_of(request))
    assert [m.kind for m in posted] == ["ack", "result", "result", "closing"]
    assert re.fullmatch(r"Done in [\d.]+s: both tasks finished\.", posted[-1].text), posted[-1]
    assert (
        "then 🖌️ Designer → use it on the landing page (the new logo) (after Image, with its output)"
        in posted[0].text
    )
    assert [m.agent.id for m in posted[1:3] if m.agent] == ["image", "designer"]
    brief = seen[0].text
    assert "Task: use it on the landing page" in brief
    assert "image did: Design the new logo" in brief  # the upstream output is in the brief
    assert "Design the new logo, then use it on the landing page" in brief  # the user's words
    assert h.started_at["designer"][0] >= h.finished_at["image"][0]  # after, not beside it


async def test_vague_request_gets_one_question_and_the_answer_completes_it(
    harness: HarnessFactory,
) -> None:
    calls: list[AgentCall] = []

    async def dev(call: AgentCall) -> Outcome:
        calls.append(call)
        return Reply("fixed")

    h = await harness({"dev": dev})
    request = await h.say("Fix the button")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("clarify")))
    question = h.adapter.of_kind("clarify")
    assert [q.text for q in question] == ["Which project, and what's wrong with the button?"]
    assert not calls  # nobody was called on a vague request

    await h.say(
        "The Pay button on the checkout page does nothing on mobile", thread=thread_of(request)
    )
    await h.idle()
    assert len(calls) == 1
    assert "Fix the button" in calls[0].text
    assert "The Pay button on the checkout page does nothing on mobile" in calls[0].text
    assert [m.kind for m in h.adapter.in_thread(thread_of(request))] == [
        "clarify",
        "ack",
        "result",
        "closing",
    ]


async def test_named_agent_reuses_its_persistent_session_across_requests(
    harness: HarnessFactory,
) -> None:
    h = await harness({"dev": echo("dev")})
    await h.say("Dev — the /api/users endpoint needs input validation")
    await h.idle()
    await h.say("Dev: add rate limiting to the login endpoint", channel="C2")
    await h.idle()

    calls = h.servers["dev"].calls
    assert len(calls) == 2
    assert calls[0].context_id == calls[1].context_id
    assert calls[1].calls_in_context == 1
    sessions = await h.rows("SELECT * FROM sessions WHERE agent = 'dev'")
    assert len(sessions) == 1
    assert sessions[0]["kind"] == "persistent"
    assert sessions[0]["context_id"] == calls[0].context_id
    ack = h.adapter.of_kind("ack")[0].text
    assert ack.startswith(
        "On it: 💻 Dev → the /api/users endpoint needs input validation (main session)"
    )


async def test_no_fit_goes_to_a_fresh_disposable_sub_agent(harness: HarnessFactory) -> None:
    h = await harness({"subagent": echo("sub")})
    await h.say("What's the current price of Bitcoin?")
    await h.say("What's the weather in Lisbon tomorrow?")
    await h.idle()

    calls = h.servers["subagent"].calls
    assert len(calls) == 2
    assert calls[0].context_id != calls[1].context_id
    sessions = await h.rows("SELECT * FROM sessions WHERE agent = 'subagent'")
    assert len(sessions) == 2
    assert all(s["kind"] == "disposable" and s["discarded_at"] for s in sessions)
    assert h.adapter.of_kind("ack")[0].text == (
        "No specialist covers this, so a disposable 🧪 Sub-agent takes it:"
        " What's the current price of Bitcoin? I'll post the result here."
    )  # one mark of punctuation after the user's question, not "?."
    assert sorted(m.text for m in h.adapter.of_kind("result")) == [
        "sub did: What's the current price of Bitcoin?",
        "sub did: What's the weather in Lisbon tomorrow?",
    ]


async def test_a_burst_is_acknowledged_first_and_every_request_runs(
    harness: HarnessFactory,
) -> None:
    """Requests arriving together share commits and are acknowledged before their tasks
    start; a request recorded while the queue is being read must still start."""
    h = await harness({"subagent": echo("sub", 0.05)})
    for _ in range(3):  # several rounds: the race with a running pump is timing-dependent
        before = len(h.adapter.of_kind("closing"))
        arrivals = []
        for i in range(40):  # staggered, so some arrive while a pump is reading the queue
            arrivals.append(
                asyncio.create_task(
                    h.say(f"What's the price of asset {i} today?", channel=f"B{i}", user=f"U{i}")
                )
            )
            await asyncio.sleep(0.002 * (i % 3))
        await asyncio.gather(*arrivals)
        await h.idle(timeout=30)
        assert len(h.adapter.of_kind("closing")) == before + 40
    tasks = await h.rows("SELECT state FROM tasks")
    assert len(tasks) == 120 and {t["state"] for t in tasks} == {"completed"}
    assert gc.isenabled()  # the collector waited out each burst, and runs again after it
    assert len(h.servers["subagent"].calls) == 120
    results = h.adapter.of_kind("result")
    assert len(results) == 120 and len({m.task_id for m in results}) == 120
    for posted in h.adapter.posted:  # each thread: its acknowledgement before its result
        if posted.message.kind == "result":
            kinds = [m.message.kind for m in h.adapter.posted if m.target == posted.target]
            assert kinds.index("ack") < kinds.index("result")


async def test_follow_up_goes_back_to_the_same_agent_session_with_thread_context(
    harness: HarnessFactory,
) -> None:
    h = await harness({"image": echo("image"), "writer": echo("writer"), "social": echo("social")})
    request = await h.say("brand images, landing page copy, and announcement tweets")
    await h.idle()
    await h.say("make the tweets punchier", thread=thread_of(request))
    await h.idle()

    social = h.servers["social"].calls
    assert len(social) == 2
    assert social[0].context_id == social[1].context_id
    brief = social[1].text
    assert "Task: make the tweets punchier" in brief
    assert "follow-up" in brief
    assert "writer did: landing page copy" in brief  # earlier results in the thread
    assert len(h.servers["writer"].calls) == 1 and len(h.servers["image"].calls) == 1
    assert "Back to 🐦 Social (same session)" in h.adapter.of_kind("ack")[-1].text


async def test_status_lists_in_flight_work_from_the_database(harness: HarnessFactory) -> None:
    release = asyncio.Event()  # the image agent works until both statuses have been read
    h = await harness({"image": gated("image", release), "designer": echo("designer")})
    await h.say("Design the new logo, then use it on the landing page", user="alice")
    await h.say("brand images", user="bob")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("ack")) == 2)

    await h.say("what's in flight?", user="alice", is_dm=True, channel="D-alice")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("status")))
    status = h.adapter.of_kind("status")[0].text
    assert status.startswith("2 in flight for you:")
    assert "🎨 Image — Design the new logo · working" in status
    assert (
        "🖌️ Designer — use it on the landing page (the new logo) · waiting · waiting on 🎨 Image"
        in status
    )
    assert "brand images" not in status  # bob's work is not alice's to see

    await h.say("what is Image doing?", user="bob", is_dm=True, channel="D-bob")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("status")) == 2)
    bob = h.adapter.of_kind("status")[1].text
    assert bob.startswith("🎨 Image — 1 in flight for you:")
    assert "Design the new logo" not in bob

    # Asked about an agent with none of the asker's work: that, then the rest of theirs.
    await h.say("what is Writer doing?", user="bob", is_dm=True, channel="D-bob")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("status")) == 3)
    lead, rest = h.adapter.of_kind("status")[2].text.split("\n", 1)
    assert lead == "✍️ Writer has nothing in flight for you."
    assert rest.startswith("1 in flight for you:") and "brand images" in rest
    assert "Design the new logo" not in rest
    release.set()
    await h.idle()


async def test_status_for_one_platform_lists_only_that_platforms_work(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()  # the image agent works until the status has been read
    h = await harness({"image": gated("image", release)})
    await h.say("brand images", user="alice")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("ack")))
    assert h.dispatcher is not None
    here, _ = await h.dispatcher.status_for(h.adapter.platform, "alice")
    assert here.startswith("1 in flight for you:")
    # The same user id on another platform is someone else.
    elsewhere, items = await h.dispatcher.status_for("discord", "alice")
    assert (elsewhere, items) == ("Nothing in flight for you.", [])
    release.set()
    await h.idle()


async def test_one_task_at_a_time_in_a_main_session_while_others_run_in_parallel(
    harness: HarnessFactory,
) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()  # Dev's first task holds its session until the test lets go

    async def dev(call: AgentCall) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return Reply("ok")

    h = await harness({"dev": dev, "writer": echo("writer")})
    await h.say("Dev — fix the login bug")
    await h.say("Dev — add tests for the payment module")
    await h.say("Writer: draft the release notes")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("ack")) == 3)
    await h.say("status", user="U1", is_dm=True, channel="D1")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("status")))
    await h.adapter.wait_for(lambda: bool(h.servers["writer"].calls))
    release.set()
    await h.idle()
    assert peak == 1
    assert len(h.servers["dev"].calls) == 2
    starts = h.started_at
    assert starts["writer"][0] < starts["dev"][1]  # the writer did not wait for Dev's queue
    status = h.adapter.of_kind("status")[0].text
    assert "waiting for 💻 Dev's session" in status


async def test_cancel_reaches_the_agent_and_stops_dependents(harness: HarnessFactory) -> None:
    h = await harness({"image": slow(30, Reply("never")), "designer": echo("designer")})
    request = await h.say("Design the new logo, then use it on the landing page")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls))
    await h.say("cancel all", thread=thread_of(request))
    await h.idle()

    assert len(h.servers["image"].cancelled) == 1
    assert not h.servers["designer"].calls
    tasks = await h.rows("SELECT agent, state FROM tasks ORDER BY seq")
    assert tasks == [
        {"agent": "image", "state": "cancelled"},
        {"agent": "designer", "state": "blocked"},
    ]
    notices = [m.text for m in h.adapter.of_kind("notice")]
    assert "Cancelled: 🎨 Image → Design the new logo." in notices
    assert any(
        "Stopped what depended on it: 🖌️ Designer → use it on the landing page" in n for n in notices
    )
    assert h.adapter.of_kind("closing")[0].text.startswith("Finished in")


async def test_cancel_by_name_cancels_only_that_task(harness: HarnessFactory) -> None:
    h = await harness(
        {"image": echo("image", U), "writer": echo("writer", U), "social": slow(30, Reply("x"))}
    )
    request = await h.say("brand images, landing page copy, and announcement tweets")
    await h.adapter.wait_for(lambda: bool(h.servers["social"].calls))
    await h.say("cancel the tweets", thread=thread_of(request))
    await h.idle()
    states = {r["agent"]: r["state"] for r in await h.rows("SELECT agent, state FROM tasks")}
    assert states == {"image": "completed", "writer": "completed", "social": "cancelled"}
    assert "Cancelled: 🐦 Social → announcement tweets." in [
        m.text for m in h.adapter.of_kind("notice")
    ]


async def test_a_stop_cancels_the_tasks_that_share_most_of_its_words(
    harness: HarnessFactory,
) -> None:
    """ "scrap the sale banner": the banner for the sale, not also the one for the blog, which
    shares only "banner" (before, any shared word was enough)."""
    release = asyncio.Event()
    h = await harness({"image": gated("image", release), "designer": gated("designer", release)})
    request = await h.say("Image: a banner for the sale. Designer: a banner for the blog")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls and h.servers["designer"].calls))
    await h.say("scrap the sale banner, the sale's off", thread=thread_of(request))
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("notice")))
    release.set()
    await h.idle()
    states = {r["agent"]: r["state"] for r in await h.rows("SELECT agent, state FROM tasks")}
    assert states == {"image": "cancelled", "designer": "completed"}


async def test_a_stop_with_new_work_cancels_the_old_and_starts_the_new(
    harness: HarnessFactory,
) -> None:
    """ "forget the banner, write the release notes instead": both halves are done, and the
    cancel spares the work the same message asked for."""
    h = await harness({"image": slow(30, Reply("never")), "writer": echo("writer", U)})
    request = await h.say("make a banner for the launch page")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls))
    await h.say("forget the banner, write the release notes instead", thread=thread_of(request))
    await h.idle()

    assert len(h.servers["image"].cancelled) == 1
    assert "write the release notes" in h.servers["writer"].calls[0].text
    tasks = await h.rows("SELECT agent, summary, state FROM tasks ORDER BY seq")
    assert [(t["agent"], t["state"]) for t in tasks] == [
        ("image", "cancelled"),
        ("writer", "completed"),
    ]
    posted = h.adapter.in_thread(thread_of(request))
    kinds = [m.kind for m in posted]
    assert kinds.count("ack") == 2 and kinds.count("result") == 1
    assert "Cancelled: 🎨 Image → make a banner for the launch page." in [
        m.text for m in posted if m.kind == "notice"
    ]
    # The second request stayed open until its own work finished: its closing comes last.
    assert kinds.index("result") < len(kinds) - 1 and kinds[-1] == "closing"


async def test_a_stop_with_new_work_in_a_new_thread_finds_the_work_elsewhere(
    harness: HarnessFactory,
) -> None:
    """Said in a new thread, the cancel looks in the user's own work, not in the thread the
    new work has just opened."""
    h = await harness({"image": slow(30, Reply("never")), "writer": echo("writer", U)})
    banner = await h.say("make a banner for the launch page")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls))
    instead = await h.say("scrap the banner and get the writer to do release notes instead")
    await h.idle()

    assert len(h.servers["image"].cancelled) == 1
    states = {r["agent"]: r["state"] for r in await h.rows("SELECT agent, state FROM tasks")}
    assert states == {"image": "cancelled", "writer": "completed"}
    notices = [m.text for m in h.adapter.in_thread(thread_of(instead)) if m.kind == "notice"]
    assert "Cancelled: 🎨 Image → make a banner for the launch page." in notices
    assert h.adapter.in_thread(thread_of(instead), "result")
    assert not h.adapter.in_thread(thread_of(banner), "result")


async def test_a_status_question_with_new_work_answers_and_starts_it(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()
    h = await harness({"designer": gated("designer", release), "writer": echo("writer", U)})
    await h.say("design the landing page", user="alice")
    await h.adapter.wait_for(lambda: bool(h.servers["designer"].calls))
    asked = await h.say(
        "is the landing page done? can the writer also draft a blog post", user="alice"
    )
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("status")))
    status = h.adapter.of_kind("status")[0].text
    assert "🖌️ Designer — design the landing page · working" in status
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(thread_of(asked), "result")))
    assert "draft a blog post" in h.servers["writer"].calls[0].text
    # Asked outside any earlier thread: it lists the asker's work for the asker alone.
    assert [p.target.private for p in h.adapter.posted if p.message.kind == "status"] == [True]
    release.set()
    await h.idle()


async def test_failure_is_reported_and_stops_what_depends_on_it(harness: HarnessFactory) -> None:
    h = await harness({"image": slow(0, Fail("GPU quota exhausted")), "designer": echo("designer")})
    request = await h.say("Design the new logo, then use it on the landing page")
    await h.idle()

    posted = h.adapter.in_thread(thread_of(request))
    assert [m.kind for m in posted] == ["ack", "notice", "closing"]
    assert posted[1].text == (
        "🎨 Image failed on “Design the new logo”: GPU quota exhausted. Stopped what depended on it:"
        " 🖌️ Designer → use it on the landing page (the new logo)."
    )
    assert posted[2].text.endswith("0 of 2 done, 1 failed, 1 stopped.")
    assert not h.servers["designer"].calls


async def test_timeout_cancels_the_remote_task_and_says_so(harness: HarnessFactory) -> None:
    # Long enough for the agent to name its task first (a timeout before that has no task to
    # cancel); a loaded machine took more than 0.5 s.
    h = await harness({"writer": slow(30, Reply("late"))}, timeouts={"writer": 2.0})
    await h.say("Writer: draft the newsletter")
    await h.idle()

    notice = h.adapter.of_kind("notice")[0].text
    assert notice == "✍️ Writer timed out on “draft the newsletter”: no result within 2.0s."
    await h.adapter.wait_for(lambda: bool(h.servers["writer"].cancelled))
    assert len(h.servers["writer"].cancelled) == 1
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "timed_out"


async def test_agent_question_is_asked_in_the_thread_and_the_reply_goes_back(
    harness: HarnessFactory,
) -> None:
    async def writer(call: AgentCall) -> Outcome:
        if not call.history:
            return Ask("Formal or casual tone?")
        return Reply(f"newsletter in a {call.text} tone")

    h = await harness({"writer": writer})
    request = await h.say("Writer: draft the newsletter")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("question")))
    question = h.adapter.of_kind("question")[0]
    assert question.text == "Formal or casual tone?"
    assert question.agent is not None and question.agent.id == "writer"

    await h.say("casual", thread=thread_of(request))
    await h.idle()
    calls = h.servers["writer"].calls
    assert len(calls) == 2 and calls[0].task_id == calls[1].task_id
    assert [m.text for m in h.adapter.of_kind("result")] == [
        "newsletter in a Answer from U1: casual tone"
    ]


async def test_duplicate_delivery_is_handled_once(harness: HarnessFactory) -> None:
    h = await harness({"writer": echo("writer")})
    request = h.adapter.message("Writer: draft the newsletter", message_id="same-1")
    await asyncio.gather(
        h.adapter.deliver(request), h.adapter.deliver(request), h.adapter.deliver(request)
    )
    await h.idle()
    assert len(h.servers["writer"].calls) == 1
    assert len(h.adapter.of_kind("ack")) == 1
    assert len(await h.rows("SELECT * FROM requests")) == 1


async def test_oversized_message_is_refused_clearly(harness: HarnessFactory) -> None:
    h = await harness({"writer": echo("writer")})
    await h.say("Writer: " + "x" * 50_000)
    await h.idle()
    assert not h.servers["writer"].calls
    assert h.adapter.of_kind("notice")[0].text.startswith(
        "That message is 50,008 characters; the limit is 40,000."
    )


async def test_a_failed_delivery_is_retried_from_the_database_and_never_doubled(
    harness: HarnessFactory,
) -> None:
    from adapters.base import DeliveryError

    h = await harness({"writer": echo("writer")})
    h.adapter.fail_next = [
        DeliveryError("rate limited", retry_after=0.2),
        DeliveryError("boom", retry_after=0.1),
    ]
    await h.say("Writer: draft the newsletter")
    await h.idle()
    assert [m.kind for m in h.adapter.in_thread(h.adapter.posted[0].target.thread)] == [  # type: ignore[union-attr]
        "ack",
        "result",
        "closing",
    ]
    rows = await h.rows("SELECT kind, attempts, state FROM outbox ORDER BY id")
    assert rows[0] == {"kind": "ack", "attempts": 2, "state": "sent"}


async def test_roster_and_who_can(harness: HarnessFactory) -> None:
    h = await harness({})
    await h.say("agents")
    await h.say("who can do logos?")
    await h.idle()
    roster, who = (m.text for m in h.adapter.of_kind("roster"))
    assert roster.startswith("6 agents on call (0 available):")  # none of them is running here
    assert "• 💻 Dev — Coding agent." in roster
    assert who.splitlines()[1].startswith("• 🎨 Image")


async def test_live_status_board_is_updated_in_place(harness: HarnessFactory) -> None:
    release = asyncio.Event()  # the agents work until the board has shown them running
    h = await harness({"image": gated("image", release), "writer": gated("writer", release)})
    await h.say("brand images and landing page copy")

    def shown_running() -> bool:
        updates = h.adapter.posted[0].updates if h.adapter.posted else []
        return any(r.state == "running" for u in updates if u.board for r in u.board.rows)

    await h.adapter.wait_for(shown_running)
    release.set()
    await h.idle()
    await h.dispatcher.courier.refresh_boards()  # type: ignore[union-attr]
    ack = h.adapter.posted[0]
    assert ack.message.kind == "ack" and ack.message.board is not None
    final = ack.updates[-1].board
    assert final is not None and final.done
    assert [row.state for row in final.rows] == ["completed", "completed"]
    seen_states = {row.state for update in ack.updates if update.board for row in update.board.rows}
    assert "running" in seen_states


async def test_restart_mid_chain_loses_nothing_and_relays_nothing_twice(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()  # the image agent finishes only once Dispatch is down
    h = await harness({"image": gated("image", release), "designer": echo("designer", U)})
    request = await h.say("Design the new logo, then use it on the landing page")
    running = await image_task_with_remote_id(h)
    assert running[0]["state"] == "running" and running[0]["remote_task_id"]

    await h.crash()
    release.set()  # the image agent finishes while Dispatch is down
    await h.adapter.wait_for(lambda: bool(h.finished_at.get("image")))
    await h.start()
    await h.idle()

    posted = h.adapter.in_thread(thread_of(request))
    assert [m.kind for m in posted] == ["ack", "result", "result", "closing"]
    assert len(h.servers["image"].calls) == 1  # reconciled with GetTask, never resubmitted
    assert len(h.servers["designer"].calls) == 1
    assert "image did: Design the new logo" in h.servers["designer"].calls[0].text
    results = await h.rows("SELECT task_id FROM outbox WHERE kind = 'result'")
    assert len(results) == len({r["task_id"] for r in results}) == 2


async def test_restart_with_a_task_still_running_follows_it_to_the_end(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()  # the image agent finishes only after the restart
    h = await harness({"image": gated("image", release), "designer": echo("designer")})
    request = await h.say("Design the new logo, then use it on the landing page")
    await image_task_with_remote_id(h)
    await h.restart()  # the agent is still working: the new process watches it
    release.set()
    await h.idle()
    assert [m.kind for m in h.adapter.in_thread(thread_of(request))] == [
        "ack",
        "result",
        "result",
        "closing",
    ]
    assert len(h.servers["image"].calls) == 1


async def test_restart_delivers_a_reply_that_was_still_pending(harness: HarnessFactory) -> None:
    from adapters.base import DeliveryError

    h = await harness({"writer": echo("writer")})
    # Down for as long as this process lives, so nothing is posted however long it takes.
    h.adapter.fail_next = [DeliveryError("platform down", retry_after=1.5) for _ in range(1000)]
    await h.say("Writer: draft the newsletter")
    for _ in range(100):
        if (await h.rows("SELECT state FROM tasks"))[0]["state"] == "completed":
            break
        await asyncio.sleep(0.05)
    assert not h.adapter.posted  # nothing could be posted yet
    fresh = MemoryAdapter()
    await h.restart(adapter=fresh)  # a new process, a new connection to the platform
    await h.idle()
    assert [p.message.kind for p in fresh.posted] == ["ack", "result", "closing"]
    assert [p.message.text for p in fresh.posted][1] == "writer did: draft the newsletter"
    sent = await h.rows("SELECT kind, state FROM outbox ORDER BY id")
    assert sent == [{"kind": k, "state": "sent"} for k in ("ack", "result", "closing")]


async def test_board_buttons_are_for_the_requester_or_an_admin(harness: HarnessFactory) -> None:
    h = await harness({"image": slow(30, Reply("never"))})
    await h.say("Image: a hero image for the sale", user="alice")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls))
    task_id = (await h.rows("SELECT id FROM tasks"))[0]["id"]

    refusal = await h.adapter.press("cancel_task", task_id, user="mallory")
    assert refusal == "Only alice, who made this request, or an admin can do that."
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "running"

    done = await h.adapter.press("cancel_task", task_id, user="alice")
    assert done == "Cancelled: 🎨 Image → a hero image for the sale."
    await h.idle()
    assert len(h.servers["image"].cancelled) == 1
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "cancelled"


async def test_retry_runs_a_failed_task_and_what_it_had_stopped(harness: HarnessFactory) -> None:
    attempts = 0

    async def image(call: AgentCall) -> Outcome:
        nonlocal attempts
        attempts += 1
        return Fail("GPU quota exhausted") if attempts == 1 else Reply("logo v2")

    h = await harness({"image": image, "designer": echo("designer")})
    request = await h.say("Design the new logo, then use it on the landing page", user="alice")
    await h.idle()
    image_task = (await h.rows("SELECT id FROM tasks WHERE agent = 'image'"))[0]["id"]
    assert (await h.rows("SELECT state FROM tasks WHERE agent = 'designer'"))[0][
        "state"
    ] == "blocked"

    reply = await h.adapter.press("retry_task", image_task, user="alice")
    assert reply == "Retrying 🎨 Image → Design the new logo (asked by alice)."
    await h.idle()
    states = {r["agent"]: r["state"] for r in await h.rows("SELECT agent, state FROM tasks")}
    assert states == {"image": "completed", "designer": "completed"}
    kinds = [m.kind for m in h.adapter.in_thread(thread_of(request))]
    assert kinds == ["ack", "notice", "closing", "notice", "result", "result", "closing"]
    assert "logo v2" in h.servers["designer"].calls[0].text


async def test_a_routing_correction_moves_the_work_and_teaches_the_next_decision(
    harness: HarnessFactory,
) -> None:
    h = await harness({"subagent": slow(30, Reply("never")), "writer": echo("writer")})
    request = await h.say("compile the onboarding checklist", user="alice")
    await h.adapter.wait_for(lambda: bool(h.servers["subagent"].calls))
    await h.say("no, that's for Writer", thread=thread_of(request), user="alice")
    await h.idle()

    ack = h.adapter.of_kind("ack")[-1].text
    assert ack.startswith("Moving “compile the onboarding checklist” from 🧪 Sub-agent to ✍️ Writer")
    assert len(h.servers["subagent"].cancelled) == 1
    assert [m.text for m in h.adapter.of_kind("result")] == [
        "writer did: compile the onboarding checklist"
    ]
    assert (
        "> compile the onboarding checklist" in h.servers["writer"].calls[0].text
    )  # the user's words
    lessons = await h.rows("SELECT text, agent, wrong FROM lessons")
    assert lessons == [
        {"text": "compile the onboarding checklist", "agent": "writer", "wrong": "subagent"}
    ]

    await h.say("compile the onboarding checklist for contractors", user="alice")
    await h.idle()
    assert len(h.servers["writer"].calls) == 2  # the lesson changed the next decision
    assert len(h.servers["subagent"].calls) == 1


# -- other people's threads -------------------------------------------------------------------


async def test_only_the_requester_or_an_admin_answers_an_agents_question(
    harness: HarnessFactory,
) -> None:
    """Bob's reply in Alice's thread is his own follow-up, not an answer; the agent hears
    Alice's answer with her name on it, and an admin's answer with theirs."""

    async def writer(call: AgentCall) -> Outcome:
        if "newsletter" in call.text.splitlines()[0] and not call.history:
            return Ask("Formal or casual tone?")
        return Reply(f"wrote: {call.text.splitlines()[0]}")

    h = await harness({"writer": writer}, settings={"admins": "carol"})
    first = await h.say("Writer: draft the newsletter", user="alice")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("question")) == 1)
    await h.say("make it formal", thread=thread_of(first), user="bob")
    await h.say("casual", thread=thread_of(first), user="alice")
    await h.idle()

    calls = h.servers["writer"].calls
    alice_task = calls[0].task_id
    answers = [c.text for c in calls if c.task_id == alice_task][1:]
    assert answers == ["Answer from alice: casual"]
    bob = await h.rows("""SELECT id, "user", kind FROM requests WHERE "user" = 'bob'""")
    assert [r["kind"] for r in bob] == ["followup"]
    bob_tasks = await h.rows("SELECT state FROM tasks WHERE request_id = ?", (bob[0]["id"],))
    assert bob_tasks == [{"state": "completed"}]
    assert not any("make it formal" in a for a in answers)

    second = await h.say("Writer: draft the newsletter for May", user="alice")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("question")) == 2)
    await h.say("formal", thread=thread_of(second), user="carol")
    await h.idle()
    task = h.servers["writer"].calls[-1]
    assert task.text == "Answer from carol: formal"


async def test_a_clarifying_question_is_answered_only_by_its_requester_or_an_admin(
    harness: HarnessFactory,
) -> None:
    """Another member's message in a clarifying thread is their own request; an admin's
    answer completes the request, which stays the requester's to cancel."""
    h = await harness({"dev": echo("dev")}, settings={"admins": "carol"})
    request = await h.say("Fix the button", user="alice")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("clarify")))

    await h.say("Dev: the search box loses focus on tablets", thread=thread_of(request), user="bob")
    await h.idle()
    assert "(answer from" not in h.servers["dev"].calls[0].text
    states = await h.rows('SELECT "user", state, text FROM requests ORDER BY created_at')
    assert states[0] == {"user": "alice", "state": "clarifying", "text": "Fix the button"}
    assert states[1]["user"] == "bob" and "Fix the button" not in states[1]["text"]

    await h.say(
        "The Pay button on the checkout page does nothing on mobile",
        thread=thread_of(request),
        user="carol",
    )
    await h.idle()
    brief = h.servers["dev"].calls[1].text
    assert "Fix the button" in brief
    assert "answer from carol to" in brief
    completed = await h.rows(
        """SELECT id, "user" FROM requests WHERE text LIKE 'Fix the button%' AND kind = 'work'"""
    )
    assert [r["user"] for r in completed] == ["alice"]
    pressed = await h.adapter.press("cancel_request", completed[0]["id"], user="alice")
    assert pressed == "Nothing here was still running."


# -- whose session -----------------------------------------------------------------------------


async def test_session_scope_user_and_channel_give_each_their_own_session(
    harness: HarnessFactory,
) -> None:
    """Scoped sessions: one task at a time per session, so two users' work for a `user`
    scoped agent runs side by side, while a `channel` scoped agent shares per channel."""
    events: list[str] = []
    both = asyncio.Event()

    async def dev_agent(call: AgentCall) -> Outcome:
        """Finishes once two tasks have started (or after a generous wait, when the
        second could not start beside it)."""
        events.append("start")
        if events.count("start") == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 5)
        events.append("end")
        return Reply("done")

    h = await harness(
        {"dev": dev_agent, "writer": echo("writer")},
        agents={"dev": {"session_scope": "user"}, "writer": {"session_scope": "channel"}},
    )
    await asyncio.gather(
        h.say("Dev: fix the login bug", user="alice"),
        h.say("Dev: fix the signup bug", user="bob", channel="C2"),
    )
    await h.idle()
    await h.say("Dev: now add tests for it", user="alice", channel="C3")
    await h.idle()
    dev = h.servers["dev"].calls
    assert dev[0].context_id != dev[1].context_id  # alice and bob
    alice = next(c for c in dev[:2] if "login" in c.text)
    assert dev[2].context_id == alice.context_id  # alice again, from another channel
    # Both first tasks started before either finished: their sessions are separate.
    assert events[:2] == ["start", "start"]

    await h.say("Writer: a tagline for the login page", user="alice")
    await h.idle()
    await h.say("Writer: a tagline for the signup page", user="bob")
    await h.idle()
    await h.say("Writer: a tagline for the pricing page", user="alice", channel="C2")
    await h.idle()
    writer = h.servers["writer"].calls
    assert writer[0].context_id == writer[1].context_id != writer[2].context_id
    scopes = await h.rows(
        "SELECT agent, scope FROM sessions WHERE kind = 'persistent' ORDER BY agent, scope"
    )
    assert scopes == [
        {"agent": "dev", "scope": "user:memory:W1:alice"},
        {"agent": "dev", "scope": "user:memory:W1:bob"},
        {"agent": "writer", "scope": "channel:memory:W1:C1"},
        {"agent": "writer", "scope": "channel:memory:W1:C2"},
    ]


async def test_dm_work_stays_out_of_the_shared_main_session_unless_the_manifest_opts_in(
    harness: HarnessFactory,
) -> None:
    h = await harness(
        {"dev": echo("dev"), "writer": echo("writer")},
        agents={"writer": {"dm_in_main_session": True}},
    )
    for agent in ("Dev", "Writer"):
        await h.say(f"{agent}: tidy the changelog", user="alice")
        await h.idle()
        await h.say(f"{agent}: my private notes", user="alice", channel="D-alice", is_dm=True)
        await h.idle()
    dev, writer = h.servers["dev"].calls, h.servers["writer"].calls
    assert dev[0].context_id != dev[1].context_id  # the DM went to alice's own session
    assert writer[0].context_id == writer[1].context_id  # opted in: one main session
    scopes = await h.rows("SELECT agent, scope FROM sessions ORDER BY agent, scope")
    assert scopes == [
        {"agent": "dev", "scope": ""},
        {"agent": "dev", "scope": "user:memory:W1:alice"},
        {"agent": "writer", "scope": ""},
    ]


# -- limits one user cannot break ----------------------------------------------------------------


async def test_a_burst_over_the_per_minute_limit_is_refused_with_a_notice(
    harness: HarnessFactory,
) -> None:
    """Counted in the transaction that records each message, so five at once still let
    exactly three through; the rest are told, and recorded as refused. Others go on."""
    h = await harness({"writer": echo("writer")}, settings={"max_requests_per_minute": 3})
    await asyncio.gather(
        *(
            h.say(f"Writer: a tagline for product {i}", user="alice", channel=f"C{i}")
            for i in range(5)
        )
    )
    await h.idle()
    await h.say("Writer: a tagline for the spring sale", user="bob")
    await h.idle()

    assert len(h.servers["writer"].calls) == 4
    notices = [m.text for m in h.adapter.of_kind("notice")]
    assert notices == [render.too_many_requests(3)] * 2
    kinds = await h.rows('SELECT "user", kind, state FROM requests ORDER BY "user", kind')
    assert [(r["user"], r["kind"]) for r in kinds] == [
        ("alice", "refused"), ("alice", "refused"),
        ("alice", "work"), ("alice", "work"), ("alice", "work"), ("bob", "work"),
    ]  # fmt: skip
    assert {r["state"] for r in kinds} == {"done"}


async def test_work_past_the_in_flight_cap_is_refused_but_status_still_answers(
    harness: HarnessFactory,
) -> None:
    h = await harness({"image": slow(30, Reply("never"))}, settings={"max_in_flight_per_user": 2})
    for i in range(2):
        await h.say(f"Image: a hero image for banner {i}", user="alice", channel=f"C{i}")
        await h.adapter.wait_for(lambda n=i: len(h.adapter.of_kind("ack")) == n + 1)
    third = await h.say("Image: a hero image for banner 2", user="alice", channel="C2")
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(thread_of(third))))
    assert [m.text for m in h.adapter.in_thread(thread_of(third))] == [
        render.too_many_in_flight(2, 2)
    ]
    refused = await h.rows("SELECT kind, state FROM requests WHERE channel = 'C2'")
    assert refused == [{"kind": "refused", "state": "done"}]
    assert len(await h.rows("SELECT id FROM tasks")) == 2

    status = await h.say("what's in flight?", user="alice", channel="C9")
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(thread_of(status))))
    assert h.adapter.in_thread(thread_of(status))[0].kind == "status"
    other = await h.say("Image: a hero image for the blog", user="bob", channel="C5")
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(thread_of(other))))
    assert h.adapter.in_thread(thread_of(other))[0].kind == "ack"


async def test_an_unanswered_question_lapses_across_a_restart_and_frees_the_session(
    harness: HarnessFactory,
) -> None:
    async def writer(call: AgentCall) -> Outcome:
        if "newsletter" in call.text.splitlines()[0]:
            return Ask("Formal or casual tone?")
        return Reply("a tagline")

    h = await harness({"writer": writer}, settings={"question_timeout": 1.5})
    first = await h.say("Writer: draft the newsletter", user="alice")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("question")))
    await h.restart()
    second = await h.say("Writer: a tagline for the sale", user="alice", channel="C2")
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(thread_of(second), "result")))

    lapsed = h.adapter.in_thread(thread_of(first), "notice")
    assert [m.text for m in lapsed] == [
        "✍️ Writer timed out on “draft the newsletter”: its question went unanswered for 1.5s."
    ]
    states = await h.rows("SELECT state FROM tasks ORDER BY seq")
    assert states == [{"state": "timed_out"}, {"state": "completed"}]
    await h.idle()
    assert len(h.servers["writer"].cancelled) == 1  # the agent was told to stop waiting


async def test_finished_requests_are_purged_after_the_retention_period(
    harness: HarnessFactory,
) -> None:
    """Done work goes, with its messages and history; work in flight stays. A refused
    oversized message was never kept whole."""
    h = await harness({"writer": echo("writer"), "image": slow(30, Reply("never"))})
    await h.say("Writer: a tagline for the spring sale")
    await h.say("Writer: " + "x" * 50_000, channel="C3")
    await h.adapter.wait_for(lambda: len(h.adapter.of_kind("closing")) == 1)
    await h.idle()
    stored = await h.rows("SELECT length(text) AS n FROM requests WHERE kind = 'refused'")
    assert stored == [{"n": 200}]
    await h.say("Image: a hero image for the blog", channel="C2")
    await h.adapter.wait_for(lambda: bool(h.servers["image"].calls))

    h.settings_overrides["retention_days"] = 1e-9  # anything finished before now
    await h.restart()  # the purge runs first thing after start
    for _ in range(200):
        if len(await h.rows("SELECT id FROM requests")) == 1:
            break
        await asyncio.sleep(0.05)
    left = await h.rows("SELECT id, channel, state FROM requests")
    assert [(r["channel"], r["state"]) for r in left] == [("C2", "running")]
    assert {r["request_id"] for r in await h.rows("SELECT request_id FROM tasks")} == {
        left[0]["id"]
    }
    assert {r["request_id"] for r in await h.rows("SELECT request_id FROM outbox")} == {
        left[0]["id"]
    }
    history = await h.rows("SELECT channel FROM history")
    assert {r["channel"] for r in history} == {"C2"}  # the live thread keeps its history


async def test_a_routing_correction_is_its_authors_unless_an_admin_makes_it(
    harness: HarnessFactory,
) -> None:
    """Alice's "no, that's for Writer" changes her next decision, not Bob's; an admin's
    correction holds for the whole workspace. Each author keeps only their newest few."""
    h = await harness(
        {"subagent": slow(30, Reply("never")), "writer": echo("writer")},
        settings={"admins": "carol", "lessons_per_user": 1},
    )

    async def correct(text: str, user: str) -> None:
        request = await h.say(text, user=user)
        await h.adapter.wait_for(lambda: any(text in c.text for c in h.servers["subagent"].calls))
        await h.say("no, that's for Writer", thread=thread_of(request), user=user)
        await h.adapter.wait_for(lambda: any(text in c.text for c in h.servers["writer"].calls))

    await correct("compile the onboarding checklist", "alice")
    await h.say("compile the onboarding checklist for contractors", user="bob")
    await h.say("compile the onboarding checklist for interns", user="alice")
    await h.adapter.wait_for(lambda: len(h.servers["writer"].calls) == 2)
    await h.adapter.wait_for(lambda: len(h.servers["subagent"].calls) == 2)
    assert "for interns" in h.servers["writer"].calls[1].text  # alice's lesson, alice's request
    assert "for contractors" in h.servers["subagent"].calls[1].text  # not bob's

    await correct("tabulate the quarterly expense figures", "carol")
    await h.say("tabulate the quarterly expense figures for March", user="bob")
    await h.adapter.wait_for(lambda: any("March" in c.text for c in h.servers["writer"].calls))

    await correct("tally the vendor contracts by renewal month", "alice")
    acks = [m.text for m in h.adapter.of_kind("ack")]
    assert any("I'll route your requests like this to Writer from now on." in a for a in acks)
    assert any("I'll route requests like this to Writer from now on." in a for a in acks)
    lessons = await h.rows('SELECT "user", shared, text FROM lessons ORDER BY id')
    assert lessons == [
        {"user": "carol", "shared": 1, "text": "tabulate the quarterly expense figures"},
        {"user": "alice", "shared": 0, "text": "tally the vendor contracts by renewal month"},
    ]


async def test_the_collector_waits_out_a_burst_for_a_bounded_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A collection would stop every acknowledgement behind it: it waits while messages are
    taken in, and at most GC_HOLD, so a stream with no pause cannot grow memory unbounded. A
    collector someone else switched off stays off."""
    from bot import intake

    hold = intake._CollectorHold()
    hold.hold()
    assert not gc.isenabled()
    hold.hold()  # a second message of the same burst
    hold.release()
    assert gc.isenabled()
    hold.release()  # nothing held: nothing changes
    assert gc.isenabled()

    monkeypatch.setattr(intake, "GC_HOLD", 0.0)
    hold.hold()
    assert not gc.isenabled()
    for _ in range(3):  # the bound passes: the collector runs again though the burst goes on
        await asyncio.sleep(0)
    assert gc.isenabled()
    hold.release()
    assert gc.isenabled()

    gc.disable()
    try:
        hold.hold()
        hold.release()
        assert not gc.isenabled()
    finally:
        gc.enable()
