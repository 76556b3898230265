"""10. Planning: the semantic planner's speed, memory and start-up, beside the rules.

Every eval case (`evals/cases/*.yaml`) is planned by the semantic planner and by the rule
planner on its own fleet, `repeat` times, in this worker process: per-decision latency p50 /
p99 by fleet size (the 15-agent and the 60-agent fleets are the targets). Memory: RSS before
the embedding model is loaded and after both planners have planned everything. Start-up:
`dispatch plan "…"` as a whole new process, model load included, timed `startup_runs` times;
`dispatch --help` and `dispatch status` (on a database made by `dispatch check`) the same way,
which must not load the model, the model SDKs or the platform libraries at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.config import Sizes
from bench.stats import summary_ms

REPO = Path(__file__).resolve().parents[2]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _startup(runs: int, *args: str, cwd: Path = REPO) -> dict[str, Any]:
    """`python -m bot ARGS` as a new process, start to finish, `runs` times."""
    times = []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd, env=env, capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        times.append(time.monotonic() - started)
    return summary_ms(times)


def _startup_commands(runs: int) -> dict[str, Any]:
    """`dispatch --help` and `dispatch status` (on a fresh database of the demo fleet)."""
    with tempfile.TemporaryDirectory() as scratch:
        _startup(1, "check", cwd=Path(scratch))  # creates ./dispatch.db
        return {
            "help": _startup(runs, "--help", cwd=Path(scratch)),
            "status": _startup(runs, "status", cwd=Path(scratch)),
        }


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    from bot.manifest import load_fleet
    from bot.planner import RulePlanner
    from evals.run import HERE, context_of, load_cases

    cases = load_cases(HERE, ["dev", "dev2"])
    if sizes.smoke:
        cases = cases[::10]
    before = rss_mib()
    from bot.semantic import SemanticPlanner
    from bot.semantic.embed import load_embedder

    started = time.monotonic()
    embedder = load_embedder()
    load_s = time.monotonic() - started
    fleets = {
        name: load_fleet(HERE / "fleets" / f"{name}.yaml") for name in {c.fleet for c in cases}
    }
    planners = {
        kind: {
            name: SemanticPlanner(fleet, embedder=embedder)
            if kind == "semantic"
            else RulePlanner(fleet)
            for name, fleet in fleets.items()
        }
        for kind in ("semantic", "rules")
    }
    for case in cases:  # each fleet's profiles are embedded once, on its first plan
        for by_fleet in planners.values():
            by_fleet[case.fleet].plan(case.text, context_of(case), [])
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _ in range(1 if sizes.smoke else 5):
        for case in cases:
            context = context_of(case)
            for kind, by_fleet in planners.items():
                planner = by_fleet[case.fleet]
                t0 = time.perf_counter()
                planner.plan(case.text, context, [])
                samples[kind][case.fleet].append(time.perf_counter() - t0)
    after = rss_mib()
    note(
        f"planned {len(cases)} cases; model loaded in {load_s:.2f}s; RSS +{after - before:.0f} MiB"
    )
    by_size = {
        kind: {
            name: {"agents": len(fleets[name].agents), **summary_ms(values)}
            for name, values in per_fleet.items()
        }
        for kind, per_fleet in samples.items()
    }
    return {
        "workload": {"cases": len(cases), "fleets": sorted(fleets), "embeddings": embedder.name},
        "latency": by_size,
        "model_load_s": round(load_s, 3),
        "rss_added_mib": round(after - before, 1),
        "startup": _startup(
            2 if sizes.smoke else 7, "plan", "the app crashes on launch on tablets"
        ),
        "startup_commands": _startup_commands(2 if sizes.smoke else 7),
    }
