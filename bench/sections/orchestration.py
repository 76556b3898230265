"""2. Orchestration overhead: makespan minus the critical path of agent time.

Plans are made by the real rule planner from the words a user would type ("qa task, qb task
and qc task", "…, then …"), run by the real dispatcher against A2A agents that each take
exactly `agent_delay` seconds (1 s in the full run), with nothing else in flight.

- makespan: `Dispatcher.receive` called → the last result posted (memory adapter);
- critical path: `agent_delay` × the number of agents on the longest dependency path;
- overhead = makespan − critical path; ratio = makespan / critical path;
- fleet floor (fan-outs only): the same agents called at once by a minimal client with no
  orchestrator (`bench.floor`), so a reader can tell the rig's cost from Dispatch's;
- hops, from the agents' own start/end stamps: entry (request received → first agent
  started), dependency handoff (last dependency finished → dependent started) and exit
  (agent finished → its result posted).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.config import Sizes
from bench.floor import fan_out_makespans as floor_makespans
from bench.load import Tracker
from bench.rig import Rig, chain, fan_out, fleet_for, rig, sidecar, workdir
from bench.sidecar import AgentDef
from bench.stats import percentile, relay_split, summary_ms


@dataclass(frozen=True)
class Shape:
    """One plan shape: its name, the agents on it, its edges, and the words that ask for it."""

    name: str
    agents: list[AgentDef]
    deps: dict[str, list[str]]
    """agent id → agent ids it waits for."""
    text: str

    @property
    def depth(self) -> int:
        memo: dict[str, int] = {}

        def level(agent: str) -> int:
            if agent not in memo:
                memo[agent] = 1 + max((level(d) for d in self.deps.get(agent, [])), default=0)
            return memo[agent]

        return max(level(a.id) for a in self.agents)


def shapes(agents: Sequence[AgentDef], sizes: Sizes) -> list[Shape]:
    """Fan-outs, a chain and a diamond (A → B, C → D) over the first agents."""
    out = [Shape(f"fan_out_{n}", list(agents[:n]), {}, fan_out(agents[:n])) for n in sizes.fan_outs]
    steps = list(agents[: sizes.chain_length])
    out.append(
        Shape(
            f"chain_{len(steps)}",
            steps,
            {b.id: [a.id] for a, b in itertools.pairwise(steps)},
            chain(steps),
        )
    )
    a, b, c, d = agents[:4]
    out.append(
        Shape(
            "diamond",
            [a, b, c, d],
            {b.id: [a.id], c.id: [a.id], d.id: [b.id, c.id]},
            f"{a.skill} task, then {b.skill} task and {c.skill} task, then {d.skill} task",
        )
    )
    return out


def orchestration_agents(sizes: Sizes) -> list[AgentDef]:
    count = max(max(sizes.fan_outs), sizes.chain_length, 4)
    return [AgentDef(f"zo{i:03d}", sizes.agent_delay) for i in range(count)]


def check_plan(r: Rig, shape: Shape) -> dict[str, Any]:
    """The planner's decision for the shape's words, checked against the intended graph."""
    decision = r.dispatcher.planner.plan(shape.text)
    by_id = {t.id: t.agent for t in decision.tasks}
    got = {t.agent: sorted(by_id[d] for d in t.depends_on) for t in decision.tasks}
    want = {a.id: sorted(shape.deps.get(a.id, [])) for a in shape.agents}
    if got != want:
        raise AssertionError(f"{shape.name}: the planner made {got}, expected {want}")
    return {"tasks": len(decision.tasks), "depth": shape.depth}


def hops(
    shape: Shape, received: float, stamps: dict[str, tuple[float, float, float]]
) -> dict[str, list[float]]:
    """Entry, dependency-handoff and exit gaps (seconds) from agent stamps.

    `stamps`: agent id → (started, finished, result posted).
    """
    entry, handoff, exit_ = [], [], []
    for agent in shape.agents:
        start, end, posted = stamps[agent.id]
        deps = shape.deps.get(agent.id, [])
        if deps:
            handoff.append(start - max(stamps[d][1] for d in deps))
        else:
            entry.append(start - received)
        exit_.append(posted - end)
    return {"entry": entry, "handoff": handoff, "exit": exit_}


def summarize_runs(
    shape: Shape, delay: float, makespans: list[float], gaps: dict[str, list[float]]
) -> dict[str, Any]:
    critical = shape.depth * delay
    overheads = [m - critical for m in makespans]
    hop_count = shape.depth + 1  # entry, one handoff per level after the first, exit
    return {
        "agents": len(shape.agents),
        "depth": shape.depth,
        "runs": len(makespans),
        "critical_path_s": critical,
        "makespan": summary_ms(makespans),
        "overhead": summary_ms(overheads),
        "ratio_p50": round(percentile(makespans, 50) / critical, 4),
        "ratio_max": round(max(makespans) / critical, 4),
        "overhead_per_hop_p50_ms": round(percentile(overheads, 50) * 1000 / hop_count, 2),
        "entry_hop": summary_ms(gaps["entry"]),
        "handoff_hop": summary_ms(gaps["handoff"]),
        "exit_hop": summary_ms(gaps["exit"]),
        "handoff_samples_s": [round(g, 6) for g in gaps["handoff"]],
    }


async def run_shape(
    r: Rig,
    tracker: Tracker,
    shape: Shape,
    runs: int,
    relayed: list[tuple[float, float]] | None = None,
) -> tuple[list[float], dict[str, list[float]]]:
    """`runs` requests of `shape`, one after another; each result's (end stamp, posted) is
    added to `relayed` if given."""
    makespans: list[float] = []
    gaps: dict[str, list[float]] = {"entry": [], "handoff": [], "exit": []}
    for _ in range(runs):
        request = r.request(shape.text)
        received = time.monotonic()
        await r.dispatcher.receive(request)
        log = await tracker.wait(request.thread_key, lambda lg: lg.closing_at is not None, 600)
        stamps: dict[str, tuple[float, float, float]] = {}
        for posted, stamp, agent in log.results:
            assert stamp is not None, "a result without the agent's time stamps"
            stamps[agent] = (stamp[0], stamp[1], posted)
            if relayed is not None:
                relayed.append((stamp[1], posted))
        makespans.append(max(p for p, _, _ in log.results) - received)
        for key, values in hops(shape, received, stamps).items():
            gaps[key] += values
        tracker.forget(request.thread_key)
    return makespans, gaps


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    agents = orchestration_agents(sizes)
    sub = AgentDef("sub", 0.0, "disposable")
    out: dict[str, Any] = {}
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        fleet = fleet_for([*agents, sub], sc.urls, sub)
        async with rig(tmp / "orchestration.db", fleet) as r:
            tracker = Tracker(r.adapter)
            all_shapes = shapes(agents, sizes)
            plans = {s.name: check_plan(r, s) for s in all_shapes}
            # Warm up every agent's client (card fetch, connection) once.
            widest = next(s for s in all_shapes if s.name == f"fan_out_{max(sizes.fan_outs)}")
            await run_shape(r, tracker, widest, 1)
            for shape in all_shapes:
                relayed: list[tuple[float, float]] = []
                makespans, gaps = await run_shape(
                    r, tracker, shape, sizes.repeats[shape.name], relayed
                )
                out[shape.name] = summarize_runs(shape, sizes.agent_delay, makespans, gaps)
                split = relay_split(relayed, sc.sent_times())
                out[shape.name]["exit_agent_send_lag"] = split["agent_send_lag"]
                out[shape.name]["exit_after_send"] = split["relay_after_send"]
                note(
                    f"{shape.name}: overhead p50 {out[shape.name]['overhead']['p50_ms']} ms,"
                    f" ratio {out[shape.name]['ratio_p50']}"
                )
                if not shape.deps:
                    floor = await floor_makespans(
                        [sc.urls[a.id] for a in shape.agents], sizes.repeats[shape.name]
                    )
                    out[shape.name]["fleet_floor"] = {
                        "makespan": summary_ms(floor),
                        "ratio_p50": round(percentile(floor, 50) / sizes.agent_delay, 4),
                    }
                    note(
                        f"{shape.name}: fleet floor ratio {out[shape.name]['fleet_floor']['ratio_p50']}"
                    )
    return {
        "workload": {
            "agent_delay_s": sizes.agent_delay,
            "repeats": sizes.repeats,
            "plans": plans,
            "sessions": "persistent (each agent's main session), nothing else in flight",
        },
        "shapes": out,
    }
