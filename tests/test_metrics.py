"""Prometheus metrics, scraped over real HTTP on 127.0.0.1 after real requests: the
dispatcher with real A2A agents and a real SQLite file, the courier with an adapter taught to
defer or fail, the model planner against a fake model endpoint."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.base import DeliveryError
from bot.courier import MAX_PERMANENT_ATTEMPTS, Courier
from bot.demo.agent_server import AgentCall, Fail, Outcome, Reply
from bot.dispatcher import Dispatcher
from bot.store import Store
from bot.telemetry import Telemetry
from bot.telemetry.metrics import NAMES, Metrics
from bot.telemetry.server import CONTENT_TYPE, MetricsServer, exposition
from tests.conftest import Harness, HarnessFactory, echo, slow
from tests.fakes.llm import FakeLLM
from tests.fakes.llm import Reply as ModelReply
from tests.test_courier import HoldingAdapter, queue
from tests.test_llm_routing import KEY, plan

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(page: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when it is not there (a labelled series that never happened)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(url: str) -> tuple[str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.text(), response.headers["Content-Type"]


async def until(predicate: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[Callable[[Dispatcher], Any]]:
    """`await served(dispatcher)` → the URL of its /metrics, on 127.0.0.1 at a free port."""
    servers: list[MetricsServer] = []

    async def serve(dispatcher: Dispatcher) -> str:
        server = MetricsServer(dispatcher, "127.0.0.1", 0)
        await server.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}/metrics"

    yield serve
    for server in servers:
        await server.stop()


async def test_a_scrape_counts_real_requests_by_kind_agent_outcome_and_state(
    harness: HarnessFactory, served: Callable[[Dispatcher], Any]
) -> None:
    gate = asyncio.Event()

    async def held(call: AgentCall) -> Outcome:
        await gate.wait()
        return Reply("validation added")

    h = await harness(
        {
            "image": echo("image"),
            "writer": echo("writer"),
            "social": echo("social"),
            "dev": held,
            "research": slow(0, Fail("the quote service is down")),
        },
        settings={"metrics": True},
    )
    assert h.dispatcher is not None
    url = await served(h.dispatcher)

    fan = await h.say("Launch prep: brand images, landing page copy, and announcement tweets")
    failing = await h.say("Research: find the current price of Bitcoin")
    await h.say("Dev — the /api/users endpoint needs input validation")
    await h.say("what's in flight?", channel="C2")

    def closed(request: Any) -> Callable[[], Any]:
        async def check() -> bool:
            return bool(h.adapter.in_thread(request.thread_key, "closing"))

        return check

    await until(closed(fan))
    await until(closed(failing))
    await h.adapter.wait_for(lambda: bool(h.servers["dev"].calls))

    # Dev holds its task: the gauges, counted from the database at the scrape, say so.
    page, content_type = await scrape(url)
    assert content_type == CONTENT_TYPE
    for name in NAMES:
        assert f"# TYPE {name} " in page, name
    during = parse(page)
    assert value(during, "dispatch_tasks", state="running") == 1
    for state in ("waiting", "queued", "input_required"):
        assert value(during, "dispatch_tasks", state=state) == 0

    gate.set()
    await h.idle()
    after = parse((await scrape(url))[0])

    assert value(after, "dispatch_tasks", state="running") == 0
    assert value(after, "dispatch_requests_total", kind="work", planner="semantic") == 3
    assert value(after, "dispatch_requests_total", kind="status", planner="semantic") == 1
    # Each message's first reply: the three acknowledgements and the status answer.
    assert value(after, "dispatch_ack_seconds_count", platform="memory", kind="ack") == 3
    assert value(after, "dispatch_ack_seconds_count", platform="memory", kind="status") == 1
    assert value(after, "dispatch_relay_seconds_count", platform="memory") == 4
    calls = "dispatch_agent_call_seconds_count"
    for agent in ("image", "writer", "social", "dev"):
        assert value(after, calls, agent=agent, outcome="completed") == 1
        assert value(after, "dispatch_tasks_finished_total", agent=agent, state="completed") == 1
    assert value(after, calls, agent="research", outcome="failed") == 1
    assert value(after, "dispatch_tasks_finished_total", agent="research", state="failed") == 1
    delivered = "dispatch_deliveries_total"
    sent = {
        kind: value(after, delivered, platform="memory", kind=kind, outcome="sent")
        for kind in ("ack", "result", "notice", "closing", "status")
    }
    assert sent == {"ack": 3, "result": 4, "notice": 1, "closing": 3, "status": 1}
    assert value(after, "dispatch_rate_limited_total", platform="memory") == 0

    # Labels are bounded: nothing anyone wrote is in one.
    labels = {v for (_, pairs) in after for _, v in pairs}
    for words in ("Bitcoin", "validation", "tweets", "quote service", "flight"):
        assert not any(words in label for label in labels), words


async def test_deliveries_deferred_retried_and_dead_and_429s_by_platform(tmp_path: Path) -> None:
    store = await Store(tmp_path / "courier.db").open()
    adapter = HoldingAdapter()
    metrics = Metrics()
    adapter.script["t1"] = [
        DeliveryError("Slack rate limit", retry_after=0.01, deferred=True, rate_limited=True),
        DeliveryError("paced", retry_after=0.01, deferred=True),
        DeliveryError("platform down", retry_after=0.01),
        *[
            DeliveryError("channel gone", retry_after=0.01, permanent=True)
            for _ in range(MAX_PERMANENT_ATTEMPTS - 1)
        ],
    ]
    courier = Courier(store, {"memory": adapter}, telemetry=Telemetry(metrics))
    [doomed] = await queue(store, "t1", "never delivered")
    await queue(store, "t2", "delivered", channel="C2")
    await courier.start()
    try:

        async def dead() -> bool:
            row = await store.one("SELECT state FROM outbox WHERE id = ?", (doomed,))
            return row is not None and row["state"] == "dead"

        await until(dead)
    finally:
        await courier.stop()
        await store.close()
    samples = parse(metrics.render().decode())
    outcomes = {
        outcome: value(
            samples, "dispatch_deliveries_total", platform="memory", kind="notice", outcome=outcome
        )
        for outcome in ("sent", "deferred", "retried", "dead")
    }
    assert outcomes == {
        "sent": 1,
        "deferred": 2,
        "retried": MAX_PERMANENT_ATTEMPTS - 1,
        "dead": 1,
    }
    # Only the platform's own 429 counts, not our pacing.
    assert value(samples, "dispatch_rate_limited_total", platform="memory") == 1


async def test_model_planner_fallbacks_by_reason(harness: HarnessFactory) -> None:
    async with FakeLLM() as model:
        model.script(
            ModelReply(status=500),
            "{not json",
            "still {not json",
            plan(("t1", "writer", "the newsletter", [])),
        )
        h = await harness(
            {"writer": echo("writer")},
            settings={
                "metrics": True,
                "llm_provider": "openai",
                "llm_model": "router-1",
                "llm_base_url": model.openai_url,
                "llm_api_key": KEY,
            },
        )
        for text in ("Writer: draft the newsletter", "Writer: the blog post", "the newsletter"):
            await h.say(text)
            await h.idle()
        assert h.dispatcher is not None
        page = await exposition(h.dispatcher)
    assert page is not None
    samples = parse(page.decode())
    assert value(samples, "dispatch_planner_fallbacks_total", reason="provider_error") == 1
    assert value(samples, "dispatch_planner_fallbacks_total", reason="invalid_plan") == 1
    assert value(samples, "dispatch_requests_total", kind="work", planner="semantic") == 2
    assert value(samples, "dispatch_requests_total", kind="work", planner="llm") == 1


async def test_the_port_setting_serves_metrics_and_a_taken_port_is_refused_in_one_line(
    harness: HarnessFactory,
) -> None:
    port = free_port()
    h: Harness = await harness({"writer": echo("writer")}, settings={"metrics_port": port})
    assert h.service is not None and h.service.metrics is not None
    await h.say("Writer: draft the newsletter")
    await h.idle()
    page, _ = await scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(parse(page), "dispatch_requests_total", kind="work", planner="semantic") == 1

    assert h.dispatcher is not None
    taken = MetricsServer(h.dispatcher, "127.0.0.1", port)
    refused = rf"^DISPATCH_METRICS_PORT: cannot listen on 127\.0\.0\.1:{port} \("
    with pytest.raises(ValueError, match=refused):
        await taken.start()


async def test_metrics_are_off_by_default_and_replicas_have_a_hook(
    harness: HarnessFactory,
) -> None:
    h = await harness({"writer": echo("writer")})
    assert h.dispatcher is not None and h.service is not None
    assert h.dispatcher.telemetry.metrics is None and h.service.metrics is None
    assert await exposition(h.dispatcher) is None

    telemetry = Telemetry(Metrics())
    telemetry.replicas(2)
    telemetry.replica_heartbeat("replica-a", 1_700_000_000.0)
    assert telemetry.metrics is not None
    samples = parse(telemetry.metrics.render().decode())
    assert value(samples, "dispatch_replicas") == 2
    assert (
        value(samples, "dispatch_replica_heartbeat_timestamp_seconds", replica="replica-a")
        == 1_700_000_000.0
    )


@pytest.mark.parametrize("store_kind", ["postgres"])
async def test_replicas_and_their_heartbeats_are_gauges(harness: HarnessFactory) -> None:
    """Two replicas share a PostgreSQL database; each beat counts the living ones."""
    fast = {"metrics": True, "replica_dead_after": 0.4}
    first = await harness({}, settings=fast)
    assert first.dispatcher is not None and first.settings is not None
    second = Harness(first.settings.db, {}, state_dir=first.state_dir, settings_overrides=fast)
    second.fleet = first.fleet
    try:
        await second.start()
        families: dict[str, Any] = {}
        for _ in range(200):  # a few beats (every 0.1 s here)
            page = await exposition(first.dispatcher)
            assert page is not None
            families = {f.name: f for f in text_string_to_metric_families(page.decode())}
            if families["dispatch_replicas"].samples[0].value == 2:
                break
            await asyncio.sleep(0.05)
        assert families["dispatch_replicas"].samples[0].value == 2
        beats = families["dispatch_replica_heartbeat_timestamp_seconds"].samples
        assert {s.labels["replica"] for s in beats} >= {
            first.dispatcher.membership.id,
            second.dispatcher.membership.id if second.dispatcher else "",
        }
    finally:
        await second.close()
