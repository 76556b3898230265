"""The model planner inside the dispatcher: acknowledgements in time, fallbacks, lessons."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import render
from bot.demo.agent_server import Reply as AgentReply
from tests.conftest import Harness, HarnessFactory, echo, slow
from tests.fakes.llm import FakeLLM, Reply

KEY = "sk-routing-test-NEVER-IN-A-PROMPT"


@pytest.fixture
async def model() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


def plan(
    *tasks: tuple[str, str, str, list[str]], kind: str = "work", **fields: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "tasks": [
            {
                "id": tid,
                "agent": agent,
                "session": "persistent",
                "summary": summary,
                "depends_on": deps,
            }
            for tid, agent, summary, deps in tasks
        ],
        "question": None,
        "target": None,
        "reason": "from the model",
        **fields,
    }


async def start(
    harness: HarnessFactory,
    model: FakeLLM,
    handlers: dict[str, Any],
    timeout: float = 10.0,
    **settings: Any,
) -> Harness:
    return await harness(
        handlers,
        settings={
            "llm_provider": "openai",
            "llm_model": "router-1",
            "llm_base_url": model.openai_url,
            "llm_api_key": KEY,
            "llm_timeout": timeout,
            **settings,
        },
    )


async def test_the_model_plans_the_work(harness: HarnessFactory, model: FakeLLM) -> None:
    model.script(plan(("t1", "designer", "a logo in the brand colours", [])))
    h = await start(harness, model, {"designer": echo("designer"), "image": echo("image")})
    await h.say("Design the new logo")
    await h.idle()
    assert [m.text for m in h.adapter.of_kind("result")] == [
        "designer did: a logo in the brand colours"
    ]
    assert not h.servers["image"].calls  # the rules would have picked Image; the model decided
    plans = await h.rows(
        "SELECT planner, model, fallback_reason, input_tokens, output_tokens FROM plans"
    )
    assert plans == [
        {
            "planner": "llm",
            "model": "router-1",
            "fallback_reason": None,
            "input_tokens": 120,
            "output_tokens": 30,
        }
    ]
    sent = json.dumps([r.body for r in model.requests])
    assert KEY not in sent and "Design the new logo" in sent


async def test_a_slow_model_shows_routing_at_once_then_the_plan(
    harness: HarnessFactory, model: FakeLLM
) -> None:
    model.script(Reply(plan(("t1", "writer", "the newsletter", [])), delay=2.0))
    h = await start(harness, model, {"writer": echo("writer")})
    request = await h.say("draft the newsletter")
    await h.idle()
    posted = h.adapter.in_thread(request.thread_key)
    assert [m.kind for m in posted][:2] == ["notice", "ack"]
    assert posted[0].text == "Routing…"
    routing = next(p for p in h.adapter.posted if p.message.text == "Routing…")
    ack = next(p for p in h.adapter.posted if p.message.kind == "ack")
    # "Routing…" while the model was still thinking; the acknowledgement once it answered.
    [answered] = model.answered
    assert routing.at < answered <= ack.at


async def test_a_model_past_its_budget_falls_back_to_the_rules_in_time(
    harness: HarnessFactory, model: FakeLLM
) -> None:
    model.script(Reply(plan(("t1", "writer", "x", [])), delay=8.0))
    h = await start(harness, model, {"writer": echo("writer")}, timeout=1.5)
    await h.say("Writer: draft the newsletter")
    await h.idle()
    # Acknowledged, and the work done, while the model had still not answered.
    assert h.adapter.of_kind("ack") and model.answered == []
    assert [m.text for m in h.adapter.of_kind("result")] == ["writer did: draft the newsletter"]
    row = (await h.rows("SELECT planner, fallback_reason FROM plans"))[0]
    assert row == {"planner": "semantic", "fallback_reason": "timeout after 1.5s"}


@pytest.mark.parametrize(
    ("replies", "reason"),
    [
        ([Reply(status=500)], "HTTP 500"),
        (["{not json", "still {not json"], "invalid plan after one repair"),
        ([plan(("t1", "zed", "x", [])), plan(("t1", "zed", "x", []))], "unknown agent 'zed'"),
        (
            [
                plan(("t1", "writer", "a", ["t2"]), ("t2", "writer", "b", ["t1"])),
                plan(("t1", "writer", "a", ["t2"]), ("t2", "writer", "b", ["t1"])),
            ],
            "cycle",
        ),
    ],
)
async def test_every_model_failure_still_ends_in_a_plan_and_an_ack(
    harness: HarnessFactory, model: FakeLLM, replies: list[Any], reason: str
) -> None:
    model.script(*replies)
    h = await start(harness, model, {"writer": echo("writer")})
    await h.say("Writer: draft the newsletter")
    await h.idle()
    assert len(h.adapter.of_kind("ack")) == 1
    assert [m.text for m in h.adapter.of_kind("result")] == ["writer did: draft the newsletter"]
    row = (await h.rows("SELECT planner, fallback_reason FROM plans"))[0]
    assert row["planner"] == "semantic" and reason in row["fallback_reason"]


async def test_a_repaired_plan_is_used(harness: HarnessFactory, model: FakeLLM) -> None:
    model.script(plan(("t1", "zed", "x", [])), plan(("t1", "writer", "the newsletter", [])))
    h = await start(harness, model, {"writer": echo("writer")})
    await h.say("draft the newsletter")
    await h.idle()
    assert (await h.rows("SELECT planner, repaired FROM plans"))[0] == {
        "planner": "llm",
        "repaired": 1,
    }
    assert len(model.requests) == 2


async def test_status_and_cancel_never_wait_for_the_model(
    harness: HarnessFactory, model: FakeLLM
) -> None:
    model.script(Reply(plan(("t1", "writer", "x", [])), delay=8.0))
    h = await start(harness, model, {"writer": echo("writer")})
    await h.say("what's in flight?")
    await h.say("agents")
    await h.say("cancel all")
    await h.idle()
    assert model.requests == []
    assert {
        p.planner
        for p in [type("P", (), row)() for row in await h.rows("SELECT planner FROM plans")]
    } == {"semantic"}


async def test_a_routing_lesson_reaches_the_model_next_time(
    harness: HarnessFactory, model: FakeLLM
) -> None:
    model.script(plan(("t1", "designer", "draft the onboarding checklist", [])))
    h = await start(
        harness, model, {"designer": slow(30, AgentReply("never")), "writer": echo("writer")}
    )
    request = await h.say("draft the onboarding checklist", user="alice")
    await h.adapter.wait_for(lambda: bool(h.servers["designer"].calls))
    await h.say("no, that's for Writer", thread=request.thread_key, user="alice")
    await h.idle()
    model.script(plan(("t1", "writer", "draft the onboarding checklist for contractors", [])))
    await h.say("draft the onboarding checklist for contractors", user="alice")
    await h.idle()
    last_prompt = json.dumps(model.requests[-1].body)
    assert "draft the onboarding checklist" in last_prompt and "writer" in last_prompt
    lesson_in_prompt = any(
        "lesson" in m.get("content", "").lower() for m in model.requests[-1].body["messages"]
    )
    assert lesson_in_prompt
    assert len(h.servers["writer"].calls) == 2


async def test_plan_and_status_planner_on_the_command_line(tmp_path: Any, model: FakeLLM) -> None:
    import asyncio
    import os
    import sys

    model.script(plan(("t1", "designer", "a logo in the brand colours", [])))
    env = {
        **os.environ,
        "DISPATCH_LLM_PROVIDER": "openai",
        "DISPATCH_LLM_MODEL": "router-1",
        "DISPATCH_LLM_BASE_URL": model.openai_url,
        "DISPATCH_LLM_API_KEY": KEY,
        "DISPATCH_DB": str(tmp_path / "d.db"),
    }

    async def run(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, _ = await run("plan", "Design the new logo")
    shown = json.loads(out)
    assert code == 0 and shown["planner"] == "llm" and shown["fallback_reason"] is None
    assert shown["tasks"][0]["agent"] == "designer" and shown["input_tokens"] == 120
    model.script(Reply(status=500))
    code, out, _ = await run("plan", "Design the new logo")
    shown = json.loads(out)
    assert shown["planner"] == "semantic" and "HTTP 500" in shown["fallback_reason"]
    assert KEY not in out

    from bot.store import Store

    store = await Store(tmp_path / "d.db").open()
    await store.write(
        "INSERT INTO plans(request_id, planner, model, fallback_reason, input_tokens, output_tokens,"
        " latency_ms, created_at) VALUES ('r1', 'llm', 'router-1', NULL, 100, 20, 850, 0),"
        " ('r2', 'rules', 'router-1', 'timeout after 10s', 0, 0, 10001, 0)"
    )
    await store.close()
    code, out, _ = await run("status", "--planner")
    assert code == 0
    assert "2 plans; the model was asked for 2 (100%)" in out
    assert "llm: 1 plans" in out and "rules: 1 plans" in out
    assert "fell back to the rules 1×: timeout after 10s" in out


async def test_the_rate_limit_holds_for_messages_the_model_plans(
    harness: HarnessFactory, model: FakeLLM
) -> None:
    """Two messages at once, both for the model: the limit is counted where each is
    recorded, so one gets through and the other is refused with a notice."""
    model.script(
        plan(("t1", "writer", "a tagline for the sale", [])),
        plan(("t1", "writer", "a tagline for the sale", [])),
    )
    h = await start(harness, model, {"writer": echo("writer")}, max_requests_per_minute=1)
    await asyncio.gather(
        h.say("Writer: a tagline for the sale", user="alice"),
        h.say("Writer: a tagline for the sale, again", user="alice", channel="C2"),
    )
    await h.idle()
    assert len(h.servers["writer"].calls) == 1
    kinds = sorted(r["kind"] for r in await h.rows("SELECT kind FROM requests"))
    assert kinds == ["refused", "work"]
    assert [m.text for m in h.adapter.of_kind("notice")] == [render.too_many_requests(1)]
