"""5. Throughput: sustained requests per second with instant agents, up to saturation.

Open-loop load through `Dispatcher.receive` (in-memory adapter): requests arrive at a fixed
rate for `throughput_step_s` seconds, each a single task for one of ten instant A2A agents
(disposable sessions, so no agent serializes work). A request is done when its closing line
is posted (acknowledged, run, result relayed, closed). A step is sustained when requests
complete at ≥ 95% of the offered rate; steps go up until one is not. CPU shares of the
worker (Dispatch) and the sidecar (agents) show which side saturated.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.config import Sizes
from bench.load import Tracker
from bench.rig import Rig, cpu_seconds, fan_out, fleet_for, rig, sidecar, until_settled, workdir
from bench.sidecar import AgentDef
from bench.stats import summary_ms

SUSTAINED = 0.95


async def quiet(r: Rig, timeout: float = 120) -> None:
    await until_settled(r, timeout=timeout, what="the system did not go quiet")


async def step(
    r: Rig, tracker: Tracker, agents: list[AgentDef], rate: float, duration: float, pid: int
) -> dict[str, Any]:
    """Offer `rate` requests/s for `duration` s; wait for all of them; summarize."""
    count = max(1, int(rate * duration))
    issued: dict[str, float] = {}
    receivers: list[asyncio.Task[str | None]] = []
    cpu0, side0 = cpu_seconds(), cpu_seconds(pid)
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        request = r.request(
            fan_out([agents[i % len(agents)]]), user=f"U{i % 100}", channel=f"C{i % 20}"
        )
        issued[request.thread_key] = time.monotonic()
        receivers.append(asyncio.create_task(r.dispatcher.receive(request)))
    last_issue = time.monotonic()
    e2e: list[float] = []
    acks: list[float] = []
    done_at = last_issue
    timed_out = 0
    for thread, at in issued.items():
        try:
            log = await tracker.wait(
                thread,
                lambda lg: lg.closing_at is not None,
                max(1.0, 60 - (time.monotonic() - start)),
            )
        except TimeoutError:
            timed_out += 1
            continue
        assert log.closing_at is not None and log.ack_at is not None
        e2e.append(log.closing_at - at)
        acks.append(log.ack_at - at)
        done_at = max(done_at, log.closing_at)
        tracker.forget(thread)
    await asyncio.gather(*receivers, return_exceptions=True)
    elapsed = done_at - start
    cpu1, side1 = cpu_seconds(), cpu_seconds(pid)
    completed = len(e2e)
    achieved = completed / elapsed if elapsed > 0 else 0.0
    return {
        "offered_rps": rate,
        "requests": count,
        "issued_rps": round(count / max(last_issue - start, 1e-9), 1) if count > 1 else rate,
        "completed": completed,
        "timed_out": timed_out,
        "achieved_rps": round(achieved, 1),
        "sustained": timed_out == 0 and achieved >= SUSTAINED * rate,
        "end_to_end": summary_ms(e2e),
        "ack": summary_ms(acks),
        "cpu_share": {
            "worker": round((cpu1 - cpu0) / elapsed, 2),
            "sidecar": round((side1 - side0) / elapsed, 2),
        },
    }


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    agents = [AgentDef(f"in{i:02d}", 0.0, "disposable") for i in range(10)]
    sub = AgentDef("sub", 0.0, "disposable")
    steps: list[dict[str, Any]] = []
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        fleet = fleet_for([*agents, sub], sc.urls, sub)
        async with rig(tmp / "throughput.db", fleet) as r:
            tracker = Tracker(r.adapter)
            await step(r, tracker, agents, 10, 1.0, sc.pid)  # warm up
            await quiet(r)
            for rate in sizes.throughput_rates:
                result = await step(r, tracker, agents, rate, sizes.throughput_step_s, sc.pid)
                steps.append(result)
                note(
                    f"{rate} req/s offered: {result['achieved_rps']} achieved,"
                    f" e2e p99 {result['end_to_end']['p99_ms']} ms, cpu {result['cpu_share']}"
                )
                await quiet(r)
                if not result["sustained"] and not sizes.smoke:
                    break
    sustained = [s["offered_rps"] for s in steps if s["sustained"]]
    return {
        "workload": {
            "request": "one task for an instant agent (disposable session), round-robin over 10",
            "step_s": sizes.throughput_step_s,
            "rates": list(sizes.throughput_rates),
            "sustained_when": f"completions ≥ {SUSTAINED:.0%} of the offered rate",
        },
        "steps": steps,
        "max_sustained_rps": max(sustained) if sustained else 0,
        "peak_achieved_rps": max((s["achieved_rps"] for s in steps), default=0),
    }
