"""1. Acknowledgement latency, at the core and end to end through Slack's HTTP endpoint.

Sections, each in its own worker: `ack` (core) and `ack_slack`; `ack_rules`, `ack_in_place`
and `ack_telemetry` are the core again with the rules-only planner, with the semantic
planner in the dispatcher's own process (no planning process beside it), and with metrics
and traces on (scraped and received by the sidecar), to read their cost beside `ack`.

Core: from the moment a request is handed to `Dispatcher.receive` (in-memory adapter) to
the moment its acknowledgement is posted (`Posted.at`, recorded by the memory adapter).
Slack: from the moment the sidecar sends a signed `app_mention` to `/slack/events` (the
real `SlackAdapter` in HTTP mode) to the moment the fake Slack Web API receives the
`chat.postMessage` of the acknowledgement in that thread; both times taken by the sidecar.

Each measured request is a three-way fan-out to agents that answer after `work_delay`.
Concurrency N means N requests issued at once, in rounds; each round waits for its
requests' work to be done (every agent finished, every result recorded), so N requests are
in progress at once. At the core that includes every post; through Slack, posts paced by
Slack's limit (about one per second per channel) may still be going out while the next
round arrives, as in real use. Each Slack request comes from its own channel (otherwise
this would measure that pacing, not Dispatch). Measured with
nothing else in flight, then again after `fill_in_flight` put `ack_in_flight` tasks in
flight.

Through Slack, the highest concurrency is also run as an overload: rounds back to back,
each sent as soon as the previous one is acknowledged, while the earlier rounds' results
are still being relayed (paced per channel). Requests then pile up beyond N; that figure
is reported beside the others, without a target.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.config import Sizes
from bench.load import Tracker, fill_in_flight, hold_fleet
from bench.rig import (
    SLACK_SECRET,
    Rig,
    Sidecar,
    cpu_seconds,
    fan_out,
    fleet_for,
    rig,
    sidecar,
    until_settled,
    workdir,
)
from bench.sidecar import AgentDef
from bench.stats import relay_split, summary_ms

WORK_AGENTS = 10
USERS = 50
ACK_TIMEOUT = 120.0
"""Seconds the sidecar waits for a Slack acknowledgement before counting it missing."""
_seq = itertools.count(1)
_slack_sent = {"events": 0}
"""Slack events sent so far (a request each), to know when all were taken in."""


def _texts(work: list[AgentDef], n: int, offset: int) -> list[str]:
    return [fan_out([work[(3 * (offset + i) + k) % len(work)] for k in range(3)]) for i in range(n)]


async def core_level(
    r: Rig, tracker: Tracker, sc: Sidecar, work: list[AgentDef], concurrency: int, total: int
) -> dict[str, Any]:
    """`total` requests through Dispatcher.receive, `concurrency` at a time."""
    acks: list[float] = []
    relayed: list[tuple[float, float]] = []  # (agent's end stamp, posted)
    offset = next(_seq) * 1000

    async def one(text: str, i: int) -> tuple[str, float]:
        request = r.request(text, user=f"U{i % USERS}", channel=f"C{i % 20}")
        start = time.monotonic()
        await r.dispatcher.receive(request)
        return request.thread_key, start

    for round_ in range(max(1, total // concurrency)):
        texts = _texts(work, concurrency, offset + round_ * concurrency)
        started = await asyncio.gather(*(one(t, i) for i, t in enumerate(texts)))
        for thread, start in started:
            log = await tracker.wait(thread, lambda lg: lg.closing_at is not None, 120)
            assert log.ack_at is not None
            acks.append(log.ack_at - start)
            relayed += [(stamp[1], at) for at, stamp, _ in log.results if stamp]
            tracker.forget(thread)
    return {"ack": summary_ms(acks), **relay_split(relayed, sc.sent_times())}


def signed_event(text: str, *, user: str, channel: str) -> dict[str, Any]:
    """A signed Events API `app_mention` request, as Slack would send it."""
    ts = f"{1_700_000_000 + next(_seq)}.000200"
    body = json.dumps(
        {
            "token": "bench",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{next(_seq):010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": "app_mention",
                "user": user,
                "text": f"<@UBOT> {text}",
                "ts": ts,
                "event_ts": ts,
                "channel": channel,
                "team": "T1",
                "client_msg_id": f"cm-{ts}",
            },
        }
    )
    stamp = str(int(time.time()))
    digest = hmac.new(
        SLACK_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return {"body": body, "headers": headers, "thread": ts}


async def slack_level(
    r: Rig,
    slack_url: str,
    work: list[AgentDef],
    concurrency: int,
    total: int,
    *,
    back_to_back: bool = False,
) -> dict[str, Any]:
    """`total` signed HTTP events, `concurrency` at a time, each from its own channel; each
    round waits for the previous one's work to be done, unless `back_to_back`."""
    assert r.slack is not None and r.slack.bound_port
    events_url = f"http://127.0.0.1:{r.slack.bound_port}/slack/events"
    acks: list[float] = []
    answers: list[float] = []
    rounds: list[dict[str, Any]] = []
    missing = 0
    offset = next(_seq) * 1000
    async with httpx.AsyncClient(timeout=180) as client:
        posts_seen = (await client.get(f"{slack_url}/_bench/posts?since=0")).json()["next"]
        for round_ in range(max(1, total // concurrency)):
            texts = _texts(work, concurrency, offset + round_ * concurrency)
            requests = [
                signed_event(text, user=f"U{i % USERS}", channel=f"CS{next(_seq)}")
                for i, text in enumerate(texts)
            ]
            response = await client.post(
                f"{slack_url}/_bench/fire",
                json={"url": events_url, "requests": requests, "timeout": ACK_TIMEOUT},
            )
            _slack_sent["events"] += len(requests)
            results = response.json()["results"]
            for result in results:
                answers.append(result["answered"] - result["sent"])
                if "acked" in result and result["status"] == 200:
                    acks.append(result["acked"] - result["sent"])
                else:
                    missing += 1
            posts = await client.get(f"{slack_url}/_bench/posts?since={posts_seen}")
            rounds.append(_round_figures(results, posts.json()["posts"]))
            posts_seen = posts.json()["next"]
            if not back_to_back:
                await slack_received(r, slack_posts=False)
    return {
        "ack": summary_ms(acks),
        "http_response": summary_ms(answers),
        "missing": missing,
        "rounds": rounds,
    }


def _round_figures(results: list[dict[str, Any]], posts: list[dict[str, Any]]) -> dict[str, Any]:
    """One round's acknowledgements, and the Slack posts that arrived while it was acked:
    when a round's tail is slow, whether other posts (earlier rounds' paced results) were
    going out at the same time."""
    start = min(result["sent"] for result in results)
    acked = [result for result in results if "acked" in result]
    end = max((result["acked"] for result in acked), default=start)
    window = [post for post in posts if start <= post["at"] <= end]
    return {
        "ack": summary_ms([result["acked"] - result["sent"] for result in acked]),
        "http_answered_max_ms": round(max(r["answered"] - r["sent"] for r in results) * 1000, 1),
        "posts_while_acking": len(window),
        "other_posts_while_acking": len(window) - len(acked),
    }


async def drain(r: Rig, *, slack: bool = True, timeout: float = 300) -> None:
    """Wait until the measured requests' work is done and their messages are out.

    `slack=False` leaves Slack's paced posts (about one per second per channel) to finish
    in the background.
    """
    platform = "" if slack else " AND json_extract(payload, '$.target.platform') != 'slack'"
    await until_settled(
        r,
        outbox_where=platform,
        tasks_where=" AND agent LIKE 'wk%'",
        timeout=timeout,
        what="measured work did not drain",
    )


async def slack_received(r: Rig, timeout: float = 600, *, slack_posts: bool = True) -> None:
    """Wait until every Slack event sent has been taken in and its work is done, and (unless
    `slack_posts=False`) every post it made has gone out, paced as Slack asks."""
    sent = _slack_sent["events"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await r.store.one("SELECT COUNT(*) AS n FROM requests WHERE platform = 'slack'")
        if row is not None and row["n"] >= sent:
            break
        await asyncio.sleep(0.2)
    await drain(r, slack=slack_posts)
    # …and every `receive` has returned (it starts the request's tasks after the ack).
    while getattr(r.dispatcher, "_receiving", 0) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run(
    sizes: Sizes,
    note: Callable[[str], None],
    *,
    slack: bool,
    planner: str = "semantic",
    telemetry: bool = False,
    in_place: bool = False,
) -> dict[str, Any]:
    """One side per worker, so neither side's traffic (or backlog) disturbs the other.

    `telemetry`: metrics on (served on a port of their own, scraped by the sidecar every
    second) and traces on (every span exported over OTLP/HTTP to the sidecar)."""
    settings: dict[str, Any] = {"planner": planner, "plan_process": not in_place}
    scrape_url = None
    if telemetry:
        from bot.telemetry.tracing import AVAILABLE, INSTALL

        if not AVAILABLE:
            return {"skipped": f"(traces need the otel extra: {INSTALL})"}
        port = _free_port()
        settings.update(metrics_port=port, otel=True)
        scrape_url = f"http://127.0.0.1:{port}/metrics"
    hold = hold_fleet(sizes.ack_in_flight, sizes.running_share)
    work = [AgentDef(f"wk{i:02d}", sizes.work_delay, "disposable") for i in range(WORK_AGENTS)]
    sub = AgentDef("sub", 0.0, "disposable")
    agents = [*work, *hold.all, sub]
    users = min(USERS, max(sizes.ack_requests))
    side = "slack" if slack else "core"
    levels: list[dict[str, Any]] = []
    fill: dict[str, Any] = {}
    # The fake Slack runs in a process of its own: it takes the acknowledgement's time, so
    # the agents' process (10,000 tasks held, and its own collector's pauses) stays out of it.
    async with (
        sidecar(agents, scrape_url=scrape_url) as sc,
        sidecar([], slack=True) if slack else contextlib.nullcontext() as ss,
        workdir() as tmp,
    ):
        fleet = fleet_for(agents, sc.urls, sub)
        pacing = 0.05 if sizes.smoke else 1.0  # smoke: don't wait on Slack's pacing
        if sc.monitoring:  # read by the span exporter when the dispatcher starts
            os.environ.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sc.monitoring
        slack_api = ss.slack if ss is not None else None
        async with rig(
            tmp / "ack.db",
            fleet,
            slack_api=slack_api,
            slack_post_interval=pacing,
            settings=settings,
        ) as r:
            tracker = Tracker(r.adapter)
            # Warm up: every work agent's client and card (and every Slack user's name).
            await core_level(r, tracker, sc, work, 4, 8)
            if slack_api:
                await slack_level(r, slack_api, work, users, users)
            for in_flight in (0, sizes.ack_in_flight):
                if in_flight:
                    await drain(r)
                    note(f"filling {in_flight:,} tasks in flight")
                    fill = await fill_in_flight(
                        r, hold, in_flight, running_share=sizes.running_share, steady=True
                    )
                    note(f"filled in {fill['settle_s']}s: {fill['states']}")
                for concurrency, total in sizes.ack_requests.items():
                    await drain(r)
                    pids = [sc.pid, *([ss.pid] if ss is not None else [])]
                    cpu0, wall0 = [cpu_seconds(), *map(cpu_seconds, pids)], time.monotonic()
                    if slack_api:
                        figures = await slack_level(r, slack_api, work, concurrency, total)
                    else:
                        figures = await core_level(r, tracker, sc, work, concurrency, total)
                    cpu1, wall1 = [cpu_seconds(), *map(cpu_seconds, pids)], time.monotonic()
                    share = [
                        round((b - a) / (wall1 - wall0), 2) for a, b in zip(cpu0, cpu1, strict=True)
                    ]
                    levels.append(
                        {
                            "in_flight": in_flight,
                            "concurrency": concurrency,
                            "requests": max(1, total // concurrency) * concurrency,
                            side: figures,
                            "cpu_share": dict(
                                zip(["worker", "agents", "slack"], share, strict=False)
                            ),
                        }
                    )
                    note(
                        f"in flight {in_flight:,}, concurrency {concurrency}:"
                        f" {side} ack p99 {figures['ack']['p99_ms']} ms"
                    )
                    if slack_api and concurrency == max(sizes.ack_requests):
                        await drain(r)
                        figures["overload"] = overload = await slack_level(
                            r, slack_api, work, concurrency, total, back_to_back=True
                        )
                        note(
                            f"in flight {in_flight:,}, concurrency {concurrency}, back to back:"
                            f" slack ack p99 {overload['ack']['p99_ms']} ms"
                        )
            if slack_api:
                await slack_received(r)
        monitoring = None
        if sc.monitoring:  # after the dispatcher stopped: every span it made is exported
            async with httpx.AsyncClient(timeout=30) as client:
                monitoring = (await client.get(f"{sc.monitoring}/_bench/monitoring")).json()
    workload: dict[str, Any] = {
        "request": "a three-way fan-out to agents answering after"
        f" {sizes.work_delay * 1000:.0f} ms (disposable sessions)",
        "in_flight_levels": [0, sizes.ack_in_flight],
        "in_flight_mix": f"{sizes.running_share:.0%} running on agents that hold their task,"
        " the rest queued behind persistent sessions of busy agents",
        "concurrency": {str(k): v for k, v in sizes.ack_requests.items()},
        "planner": planner,
    }
    workload["rounds"] = (
        "each round waits for its requests' work to be done (through Slack, posts paced by"
        " Slack's limit may still be going out)"
    )
    if telemetry:
        workload["telemetry"] = (
            "metrics on, served on their own port and scraped over HTTP by the sidecar every"
            " second; traces on, every span exported over OTLP/HTTP to the sidecar (the SDK's"
            " batch processor, default settings)"
        )
    if slack:
        workload["slack"] = "each request from its own channel"
        workload["overload"] = (
            f"at {max(sizes.ack_requests)} concurrent, also rounds back to back (each sent once"
            " the previous one is acknowledged), so earlier requests' results are still being"
            " relayed (paced per channel) meanwhile; no target"
        )
    result: dict[str, Any] = {"workload": workload, "fill": fill, "levels": levels}
    if monitoring is not None:
        result["monitoring"] = monitoring
    return result


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """Acknowledgement latency at the core (in-memory adapter)."""
    return await _run(sizes, note, slack=False)


async def run_rules(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """The same at the core with the rules-only planner, side by side in the same run."""
    return await _run(sizes, note, slack=False, planner="rules")


async def run_in_place(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """The same at the core with messages planned in this process, not the planning
    process beside it (`DISPATCH_PLAN_PROCESS=false`), side by side in the same run."""
    return await _run(sizes, note, slack=False, in_place=True)


async def run_telemetry(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """The same at the core with metrics and traces on, side by side in the same run."""
    return await _run(sizes, note, slack=False, telemetry=True)


async def run_slack(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """Acknowledgement latency end to end through Slack's HTTP endpoint."""
    return await _run(sizes, note, slack=True)
