"""Score a planner on the eval cases: accuracy per intent and fleet, confusions, misses, latency.

python -m evals                      # the semantic planner on every split
python -m evals --split heldout      # one split
python -m evals --planner rules      # the rule planner, for comparison
python -m evals --misses             # list every miss with what was expected
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.manifest import Fleet, load_fleet
from bot.models import Decision, TaskSpec
from bot.planner import RulePlanner, ThreadContext, ThreadTask
from bot.settings import Settings

HERE = Path(__file__).resolve().parent
KINDS = ("work", "followup", "answer", "reroute", "clarify", "status", "roster", "cancel")


SPLITS = (
    "dev",
    "dev2",
    "dev3",
    "dev4",
    "dev5",
    "dev6",
    "dev7",
    "dev8",
    "dev9",
    "dev10",
    "dev11",
    "dev12",
    "dev13",
    "dev14",
    "dev15",
    "dev16",
    "dev17",
    "dev18",
    "dev19",
    "dev20",
    "dev21",
    "dev22",
    "dev23",
    "dev24",
    "dev25",
    "dev26",
    "dev27",
    "dev28",
    "dev29",
    "dev30",
    "dev31",
    "dev32",
    "dev33",
    "dev34",
    "dev35",
    "dev36",
    "dev37",
    "dev38",
    "dev39",
    "dev40",
    "dev41",
    "dev42",
    "dev43",
    "dev44",
    "dev45",
    "dev46",
    "dev47",
    "dev48",
    "dev49",
    "heldout",
)
"""The case files under cases/, tuning splits first; `heldout` is only ever read as a whole."""


@dataclass
class Case:
    fleet: str
    text: str
    kind: str
    split: str
    route: str | None = None
    target: str | None = None
    thread: dict[str, Any] | None = None
    summaries: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    case: Case
    decision: Decision
    ok: bool
    why: str
    ms: float


def load_cases(root: Path, splits: Sequence[str]) -> list[Case]:
    cases: list[Case] = []
    for split in splits:
        for raw in yaml.safe_load((root / "cases" / f"{split}.yaml").read_text()) or []:
            known = {k: raw.get(k) for k in ("fleet", "text", "kind", "route", "target", "thread")}
            cases.append(Case(split=split, summaries=raw.get("summaries") or {}, **known))
    return cases


def context_of(case: Case) -> ThreadContext:
    thread = case.thread or {}
    tasks = [
        ThreadTask(
            f"c{i + 1}",
            t["agent"],
            t.get("summary") or "earlier work",
            t.get("state") or "completed",
        )
        for i, t in enumerate(thread.get("tasks") or [])
    ]
    return ThreadContext(
        tasks=tasks,
        pending_question=thread.get("pending_question"),
        pending_text=thread.get("pending_text"),
    )


def steps_of(tasks: Sequence[TaskSpec]) -> list[list[str]]:
    """Tasks grouped by depth: a task's step is one more than its deepest dependency's."""
    depth: dict[str, int] = {}
    by_id = {t.id: t for t in tasks}

    def level(task_id: str) -> int:
        if task_id not in depth:
            deps = by_id[task_id].depends_on
            depth[task_id] = 1 + max((level(d) for d in deps), default=-1)
        return depth[task_id]

    grouped: dict[int, list[str]] = defaultdict(list)
    for task in tasks:
        grouped[level(task.id)].append(task.agent)
    return [grouped[i] for i in sorted(grouped)]


def route_matches(expected: str, tasks: Sequence[TaskSpec]) -> bool:
    want = [[set(alt.split("|")) for alt in step.split("+")] for step in expected.split("->")]
    want = [[{a.strip() for a in alts} for alts in step] for step in want]
    got = steps_of(tasks)
    if len(want) != len(got):
        return False
    for wanted, have in zip(want, got, strict=True):
        if len(wanted) != len(have):
            return False
        left = list(have)
        for alts in sorted(wanted, key=len):
            hit = next((a for a in left if a in alts), None)
            if hit is None:
                return False
            left.remove(hit)
    return True


def judge(case: Case, decision: Decision) -> tuple[bool, str]:
    if decision.kind != case.kind:
        return False, f"kind {decision.kind}, expected {case.kind}"
    if case.kind in ("work", "followup") and case.route:
        if not route_matches(case.route, decision.tasks):
            got = " -> ".join(" + ".join(s) for s in steps_of(decision.tasks))
            return False, f"route {got}, expected {case.route}"
        for agent, words in case.summaries.items():
            mine = [t.summary.lower() for t in decision.tasks if t.agent == agent]
            if not any(words.lower() in s for s in mine):
                return False, f"{agent}'s summary {mine} lacks {words!r}"
    if case.kind in ("reroute", "status") and case.target and decision.target != case.target:
        return False, f"target {decision.target}, expected {case.target}"
    return True, ""


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


SPARSE_SKILLS = 3
"""`--sparse`: how many of each agent's skills are kept."""


def make_planner(kind: str, fleet: Fleet) -> RulePlanner:
    """The planner Dispatch itself would build, so `DISPATCH_EMBEDDINGS` and the other
    routing settings are evaluated as configured."""
    from bot.semantic import make_planner as build

    return build(Settings.model_validate({"planner": kind}), fleet)


def sparse(fleet: Fleet, skills: int = SPARSE_SKILLS) -> Fleet:
    """The fleet as a terse manifest would give it: no examples, the first few skills."""
    agents = [
        a.model_copy(update={"examples": [], "skills": a.skills[:skills]}) for a in fleet.agents
    ]
    return fleet.model_copy(update={"agents": agents})


def evaluate(
    cases: Sequence[Case], planner_kind: str, root: Path = HERE, *, terse: bool = False
) -> list[Result]:
    fleets: dict[str, RulePlanner] = {}
    results: list[Result] = []
    for case in cases:
        if case.fleet not in fleets:
            fleet = load_fleet(root / "fleets" / f"{case.fleet}.yaml")
            fleets[case.fleet] = make_planner(planner_kind, sparse(fleet) if terse else fleet)
            # A fleet's profiles are embedded once, on its first plan: time the steady state.
            fleets[case.fleet].plan("prepare the quarterly report and a summary of it")
        planner = fleets[case.fleet]
        context = context_of(case)
        started = time.perf_counter()
        decision = planner.plan(case.text, context, [])
        ms = (time.perf_counter() - started) * 1000
        ok, why = judge(case, decision)
        results.append(Result(case, decision, ok, why, ms))
    return results


def report(results: Sequence[Result], *, misses: bool, out: Any = sys.stdout) -> dict[str, Any]:
    def acc(rows: Sequence[Result]) -> str:
        return f"{sum(r.ok for r in rows) / len(rows):6.1%} ({sum(r.ok for r in rows)}/{len(rows)})"

    summary: dict[str, Any] = {
        "cases": len(results),
        "accuracy": sum(r.ok for r in results) / max(len(results), 1),
    }
    print(f"accuracy {acc(results)}", file=out)
    for label, key in (
        ("split", lambda r: r.case.split),
        ("intent", lambda r: r.case.kind),
        ("fleet", lambda r: r.case.fleet),
    ):
        groups: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            groups[key(r)].append(r)
        print(f"\nper {label}:", file=out)
        for name in sorted(groups):
            print(f"  {name:<12} {acc(groups[name])}", file=out)
        summary[label] = {n: sum(r.ok for r in g) / len(g) for n, g in groups.items()}
    confusion: Counter[tuple[str, str]] = Counter((r.case.kind, r.decision.kind) for r in results)
    print("\nconfusion (rows: expected, columns: decided):", file=out)
    print("  " + " " * 9 + "".join(f"{k[:8]:>9}" for k in KINDS), file=out)
    for want in KINDS:
        print(
            f"  {want:<9}" + "".join(f"{confusion.get((want, got), 0) or '.':>9}" for got in KINDS),
            file=out,
        )
    by_size: dict[str, list[float]] = defaultdict(list)
    for r in results:
        by_size[r.case.fleet].append(r.ms)
    print("\nplanning latency (ms):", file=out)
    for name in sorted(by_size):
        values = by_size[name]
        print(
            f"  {name:<12} p50 {statistics.median(values):6.2f}  p99 {percentile(values, 99):6.2f}",
            file=out,
        )
    all_ms = [r.ms for r in results]
    summary["latency_ms"] = {
        "p50": statistics.median(all_ms) if all_ms else 0,
        "p99": percentile(all_ms, 99),
    }
    wrong = [r for r in results if not r.ok]
    print(f"\nmisses: {len(wrong)}", file=out)
    if misses:
        for r in wrong:
            print(f"  [{r.case.split}/{r.case.fleet}] {r.case.text!r}: {r.why}", file=out)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split",
        action="append",
        choices=SPLITS,
        help="default: all",
    )
    parser.add_argument("--planner", choices=["semantic", "rules"], default="semantic")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--sparse",
        action="store_true",
        help=f"fleets without examples and with {SPARSE_SKILLS} skills per agent, as terse "
        "manifests give them",
    )
    args = parser.parse_args(argv)
    results = evaluate(
        load_cases(HERE, args.split or list(SPLITS)),
        args.planner,
        terse=args.sparse,
    )
    summary = report(results, misses=args.misses)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0
