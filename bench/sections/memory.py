"""6. Memory per in-flight task, and peak resident memory at `memory_in_flight` in flight.

Two fresh worker processes, one per method, so neither disturbs the other:

- rss: VmRSS / VmHWM from /proc/self/status (everything: Python objects, SQLite's page
  cache, sockets' buffers, allocator slack);
- tracemalloc: Python allocations traced since the baseline (no SQLite or C-library memory),
  with the allocation sites that grew most.

After a warm-up that touches every agent once (clients, cards, connections), the baseline is
taken; then the in-flight tasks are created through `Dispatcher.receive` in two phases —
first the queued ones (behind persistent sessions), then the running ones (agents holding
their task) — so the cost of each kind is reported as well as the mix.

A running A2A task keeps its stream only for the backend's grace period (`detach_after`, 5 s
by default) and is then followed by push notifications, so the running phase is measured in
the steady state of long-running tasks, not the first seconds of the last ones started: once
no stream is open and every task's follow-up calls after detaching (push registration, then a
GetTask; `FOLLOW_CALLS` at a time per agent) are done. The figures one second after the last
stream closed, with those calls still going, are reported as well (`*_at_detach`).
"""

from __future__ import annotations

import asyncio
import gc
import re
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.config import Sizes
from bench.load import PER_FILL_REQUEST, HoldFleet, fill_in_flight, hold_fleet, until_zero
from bench.rig import REPO, Rig, fan_out, fleet_for, rig, rss_kib, sidecar, workdir
from bench.sidecar import AgentDef


async def _settle() -> None:
    await asyncio.sleep(1.0)
    gc.collect()


def _traced() -> int:
    return tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0


async def _warm_up(r: Rig, hold: HoldFleet) -> int:
    """One request per ten agents, so every backend exists before the baseline."""
    tasks = 0
    for i in range(0, len(hold.disposable), PER_FILL_REQUEST):
        chunk = hold.disposable[i : i + PER_FILL_REQUEST]
        await r.dispatcher.receive(r.request(fan_out(chunk), user="UW"))
        tasks += len(chunk)
    await r.dispatcher.receive(r.request(fan_out(hold.persistent), user="UW"))
    return tasks + len(hold.persistent)


async def measure(sizes: Sizes, note: Callable[[str], None], *, trace: bool) -> dict[str, Any]:
    n = sizes.memory_in_flight
    running = round(n * sizes.running_share)
    queued = n - running
    hold = hold_fleet(n, sizes.running_share)
    sub = AgentDef("sub", 0.0, "disposable")
    agents = [*hold.all, sub]
    async with sidecar(agents) as sc, workdir() as tmp:
        fleet = fleet_for(agents, sc.urls, sub)
        async with rig(tmp / "memory.db", fleet) as r:
            warm = await _warm_up(r, hold)
            await fill_in_flight(r, hold, 0, running_share=0.0)  # wait for the warm-up to settle
            if trace:
                tracemalloc.start(1)
            await _settle()
            base_rss, base_py = rss_kib()["VmRSS"], _traced()
            before = tracemalloc.take_snapshot() if trace else None
            await fill_in_flight(r, hold, queued, running_share=0.0)
            await _settle()
            mid_rss, mid_py = rss_kib()["VmRSS"], _traced()
            await fill_in_flight(r, hold, running, running_share=1.0)
            detach_wait = await until_zero(r, "open_streams")
            await _settle()
            at_detach, at_detach_py = rss_kib()["VmRSS"], _traced()
            follow_wait = await until_zero(r, "follow_calls")
            await _settle()
            end = rss_kib()
            end_py = _traced()
            top: list[dict[str, Any]] = []
            if trace and before is not None:
                after = tracemalloc.take_snapshot()
                for stat in after.compare_to(before, "lineno")[:15]:
                    frame = stat.traceback[0]
                    top.append(
                        {
                            "site": f"{_short(frame.filename)}:{frame.lineno}",
                            "kib": round(stat.size_diff / 1024, 1),
                            "blocks": stat.count_diff,
                        }
                    )
                tracemalloc.stop()
            states = await r.store.all("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state")
    if trace:
        per = {
            "bytes_per_task": round((end_py - base_py) / n),
            "bytes_per_queued_task": round((mid_py - base_py) / queued) if queued else None,
            "bytes_per_running_task": round((end_py - mid_py) / running) if running else None,
            "bytes_per_task_at_detach": round((at_detach_py - base_py) / n),
            "traced_growth_mib": round((end_py - base_py) / 1024**2, 1),
            "top_sites": top,
        }
    else:
        per = {
            "bytes_per_task": round((end["VmRSS"] - base_rss) * 1024 / n),
            "bytes_per_queued_task": round((mid_rss - base_rss) * 1024 / queued)
            if queued
            else None,
            "bytes_per_running_task": round((end["VmRSS"] - mid_rss) * 1024 / running)
            if running
            else None,
            "bytes_per_task_at_detach": round((at_detach - base_rss) * 1024 / n),
            "baseline_rss_mib": round(base_rss / 1024, 1),
            "rss_mib": round(end["VmRSS"] / 1024, 1),
            "peak_rss_mib": round(end["VmHWM"] / 1024, 1),
        }
    note(f"{'tracemalloc' if trace else 'rss'}: {per['bytes_per_task']} bytes per in-flight task")
    return {
        "workload": {
            "in_flight": n,
            "running": running,
            "queued": queued,
            "warm_up_tasks": warm,
            "streams_given_up_s": round(detach_wait, 1),
            "follow_ups_done_s": round(detach_wait + 1.0 + follow_wait, 1),
            "states": {row["state"]: row["n"] for row in states},
        },
        "method": "tracemalloc" if trace else "rss",
        **per,
    }


def _short(path: str) -> str:
    """A path relative to the repository, site-packages or the standard library."""
    path = path.removeprefix(f"{REPO}/")
    return re.sub(r"^.*/(?:site-packages|lib/python3\.\d+)/", "", path)


async def run_rss(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    return await measure(sizes, note, trace=False)


async def run_tracemalloc(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    return await measure(sizes, note, trace=True)
