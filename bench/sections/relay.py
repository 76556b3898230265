"""3. Relay latency: from an agent finishing to its result being posted.

The agent stamps `time.monotonic()` as it returns its reply (the sidecar's clock is the same
system-wide monotonic clock); the memory adapter records the post time. Three workloads,
nothing else in flight:

- sequential: one single-task request at a time;
- parallel threads: `relay_width` requests at once, each to its own agent, so that many
  results finish together in different threads;
- one thread: a `relay_width`-way fan-out, so that many results finish together in the same
  thread (which Dispatch posts in order).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.config import Sizes
from bench.load import Tracker
from bench.rig import Rig, fan_out, fleet_for, rig, sidecar, workdir
from bench.sidecar import AgentDef
from bench.stats import summary_ms


async def _request(r: Rig, tracker: Tracker, text: str, user: str) -> list[float]:
    request = r.request(text, user=user)
    await r.dispatcher.receive(request)
    log = await tracker.wait(request.thread_key, lambda lg: lg.closing_at is not None, 120)
    tracker.forget(request.thread_key)
    return [posted - stamp[1] for posted, stamp, _ in log.results if stamp]


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    width = sizes.relay_width
    agents = [AgentDef(f"rl{i:02d}", sizes.relay_delay) for i in range(width)]
    sub = AgentDef("sub", 0.0, "disposable")
    out: dict[str, Any] = {}
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        fleet = fleet_for([*agents, sub], sc.urls, sub)
        async with rig(tmp / "relay.db", fleet) as r:
            tracker = Tracker(r.adapter)
            await _request(r, tracker, fan_out(agents), "U0")  # warm up every client
            samples: list[float] = []
            for i in range(sizes.relay_sequential):
                samples += await _request(r, tracker, fan_out([agents[i % width]]), "U1")
            out["sequential"] = summary_ms(samples)
            samples = []
            for _ in range(sizes.relay_rounds):
                batches = await asyncio.gather(
                    *(_request(r, tracker, fan_out([a]), f"U{i}") for i, a in enumerate(agents))
                )
                samples += [s for batch in batches for s in batch]
            out["parallel_threads"] = summary_ms(samples)
            samples = []
            for _ in range(sizes.relay_rounds):
                samples += await _request(r, tracker, fan_out(agents), "U1")
            out["one_thread"] = summary_ms(samples)
            note("relay p99: " + ", ".join(f"{k} {v['p99_ms']} ms" for k, v in out.items()))
    return {
        "workload": {
            "agent_delay_s": sizes.relay_delay,
            "sequential_requests": sizes.relay_sequential,
            "width": width,
            "rounds": sizes.relay_rounds,
            "sessions": "persistent, nothing else in flight",
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "relay": out,
    }
