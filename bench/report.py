"""Targets (PASS/MISS) and the printed tables, from the sections' figures.

`python -m bench.report [FILE]` prints the tables of a saved run (default
bench/results/latest.json) as Markdown, e.g. to paste into bench/README.md.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Target:
    """One figure judged against a bound: `value op bound`."""

    key: str
    label: str
    value: float | None
    bound: float
    unit: str
    op: str = "<"
    where: str = ""
    skipped: bool = False
    """Its section was skipped (a part it needs is not installed here), rather than failed."""

    def status(self, smoke: bool) -> str:
        if self.value is None:
            return "SKIPPED" if self.skipped else "ERROR"
        if smoke:
            return "n/a (smoke)"
        ok = self.value < self.bound if self.op == "<" else self.value >= self.bound
        return "PASS" if ok else "MISS"

    def as_dict(self, smoke: bool) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "target": f"{self.op} {self.bound:g} {self.unit}",
            "unit": self.unit,
            "where": self.where,
            "status": self.status(smoke),
        }


def _get(sections: dict[str, Any], name: str) -> dict[str, Any] | None:
    entry = sections.get(name)
    if not entry or not entry.get("ok"):
        return None
    result = entry["result"]
    return None if "skipped" in result else result


def _skipped(sections: dict[str, Any], name: str) -> bool:
    entry = sections.get(name)
    return bool(entry and entry.get("ok") and "skipped" in entry["result"])


def targets(sections: dict[str, Any]) -> list[Target]:
    """Every target of the issue, evaluated on whatever sections ran."""
    out: list[Target] = []
    for side, bound in (("core", 100.0), ("slack", 250.0)):
        ack = _get(sections, "ack" if side == "core" else "ack_slack")
        label = "core (Dispatcher.receive)" if side == "core" else "Slack HTTP, end to end"
        levels = ack["levels"] if ack else []
        for in_flight in sorted({lv["in_flight"] for lv in levels}) or [0]:
            rows = [lv for lv in levels if lv["in_flight"] == in_flight]
            worst = max(rows, key=lambda lv: lv[side]["ack"]["p99_ms"] or 0, default=None)
            out.append(
                Target(
                    f"ack_{side}_{in_flight}",
                    f"ack p99, {label}, {in_flight:,} in flight",
                    worst[side]["ack"]["p99_ms"] if worst else None,
                    bound,
                    "ms",
                    where=f"worst at {worst['concurrency']} concurrent" if worst else "",
                )
            )
    on = _get(sections, "ack_telemetry")
    levels = on["levels"] if on else []
    for in_flight in sorted({lv["in_flight"] for lv in levels}) or [0]:
        rows = [lv for lv in levels if lv["in_flight"] == in_flight]
        worst = max(rows, key=lambda lv: lv["core"]["ack"]["p99_ms"] or 0, default=None)
        out.append(
            Target(
                f"ack_telemetry_{in_flight}",
                f"ack p99, core, metrics and traces on, {in_flight:,} in flight",
                worst["core"]["ack"]["p99_ms"] if worst else None,
                100.0,
                "ms",
                where=f"worst at {worst['concurrency']} concurrent" if worst else "",
                skipped=_skipped(sections, "ack_telemetry"),
            )
        )
    orch = _get(sections, "orchestration")
    shapes = orch["shapes"] if orch else {}
    handoffs = [
        s * 1000 for name, shape in shapes.items() for s in shape.get("handoff_samples_s", [])
    ]
    from bench.stats import percentile

    out.append(
        Target(
            "hop_p50",
            "orchestration overhead per dependency hop (p50)",
            round(percentile(handoffs, 50), 2) if handoffs else None,
            20.0,
            "ms",
            where="dependency finished → dependent started, chain and diamond",
        )
    )
    for name, shape in shapes.items():
        out.append(
            Target(
                f"makespan_{name}",
                f"makespan / critical path, {name.replace('_', ' ')} (p50)",
                shape["ratio_p50"],
                1.02,
                "×",
                op="<",
                where=f"critical path {shape['critical_path_s']:g} s"
                + (
                    f"; the fleet's own floor {shape['fleet_floor']['ratio_p50']}×"
                    if "fleet_floor" in shape
                    else ""
                ),
            )
        )
    relay = _get(sections, "relay")
    for name, figures in (relay["relay"] if relay else {"sequential": None}).items():
        out.append(
            Target(
                f"relay_{name}",
                f"relay p99, {name.replace('_', ' ')}",
                figures["p99_ms"] if figures else None,
                50.0,
                "ms",
            )
        )
    out.extend(_planning_targets(_get(sections, "planning")))
    ack = _get(sections, "ack")
    if ack:
        loaded = [lv for lv in ack["levels"] if lv["in_flight"] > 0]
        worst = max(loaded, key=lambda lv: lv["core"]["relay"]["p99_ms"] or 0, default=None)
        if worst:
            out.append(
                Target(
                    "relay_loaded",
                    f"relay p99, {worst['in_flight']:,} in flight",
                    worst["core"]["relay"]["p99_ms"],
                    50.0,
                    "ms",
                    where=f"worst at {worst['concurrency']} concurrent requests",
                )
            )
    status = _get(sections, "status")
    for name, figures in (status["status"] if status else {"user_with_work": None}).items():
        out.append(
            Target(
                f"status_{name}",
                f"status p99, {name.replace('_', ' ')}",
                figures["p99_ms"] if figures else None,
                50.0,
                "ms",
                where=f"{status['workload']['tasks_in_db']:,} tasks, "
                f"{status['workload']['in_flight']:,} in flight"
                if status
                else "",
            )
        )
    throughput = _get(sections, "throughput")
    out.append(
        Target(
            "throughput",
            "sustained throughput, instant agents",
            throughput["max_sustained_rps"] if throughput else None,
            200.0,
            "req/s",
            op=">=",
            where=f"peak achieved {throughput['peak_achieved_rps']} req/s" if throughput else "",
        )
    )
    board = _get(sections, "board")
    paint = board["first_paint"]["desktop"] if board else None
    out.append(
        Target(
            "board_first_paint",
            f"web board first paint, {board['workload']['requests_in_flight']:,} requests in"
            " flight (slowest load)"
            if board
            else "web board first paint (slowest load)",
            paint["max_ms"] if paint else None,
            1000.0,
            "ms",
            where=f"p50 {paint['p50_ms']} ms over {paint['n']} loads in headless Chromium;"
            f" phone size max {board['first_paint']['phone']['max_ms']} ms"
            if board and paint
            else "",
            skipped=_skipped(sections, "board"),
        )
    )
    for method in ("rss", "tracemalloc"):
        memory = _get(sections, f"memory_{method}")
        out.append(
            Target(
                f"memory_{method}",
                f"memory per in-flight task ({method})",
                round(memory["bytes_per_task"] / 1024, 2) if memory else None,
                10.0,
                "KiB",
                where=_memory_where(memory),
            )
        )
    return out


def _memory_where(memory: dict[str, Any] | None) -> str:
    if not memory:
        return ""
    where = f"{memory['workload']['in_flight']:,} in flight, steady state"
    at_detach = memory.get("bytes_per_task_at_detach")
    if at_detach is not None:
        where += f" ({at_detach / 1024:.2f} KiB while detach follow-ups ran)"
    return where


# -- tables ------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown pipe table (also readable in a terminal)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join([line, rule, *body])


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:.3f}"
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(run: dict[str, Any]) -> str:
    """Every table of a run, as Markdown."""
    sections = run["sections"]
    parts: list[str] = []
    parts.append("### Targets\n")
    parts.append(
        table(
            ["figure", "measured", "target", "result", "conditions"],
            [
                [t["label"], t["value"], t["target"].replace(" ×", "×"), t["status"], t["where"]]
                for t in run["targets"]
            ],
        )
    )
    for title, builder in _DETAILS:
        try:
            text = builder(sections)
        except (KeyError, TypeError, ValueError):
            text = None
        if text:
            parts.append(f"\n### {title}\n\n{text}")
    errors = [f"- {name}: failed (see the JSON)" for name, s in sections.items() if not s.get("ok")]
    if errors:
        parts.append("\n### Errors\n\n" + "\n".join(errors))
    return "\n".join(parts)


def _planning_targets(planning: dict[str, Any] | None) -> list[Target]:
    """Semantic planning p99 by fleet size, the model's memory and `dispatch plan`'s start."""
    latency = planning["latency"]["semantic"] if planning else {}
    out = []
    for label, bound, pick in (
        ("planning p99, 15-agent fleet (semantic)", 15.0, lambda n: 6 <= n <= 15),
        ("planning p99, 60-agent fleet (semantic)", 40.0, lambda n: n >= 50),
    ):
        rows = [f for f in latency.values() if pick(f["agents"])]
        worst = max((f["p99_ms"] for f in rows), default=None)
        out.append(Target(f"plan_{bound:g}", label, worst, bound, "ms"))
    out.append(
        Target(
            "plan_rss",
            "RSS the embedding model adds",
            planning["rss_added_mib"] if planning else None,
            150.0,
            "MiB",
        )
    )
    out.append(
        Target(
            "plan_startup",
            "`dispatch plan` start to finish, model load included (p50)",
            planning["startup"]["p50_ms"] / 1000 if planning else None,
            1.5,
            "s",
            where=f"max {planning['startup']['max_ms'] / 1000:.2f} s" if planning else "",
        )
    )
    commands = planning.get("startup_commands", {}) if planning else {}
    for command, bound in (("help", 0.3), ("status", 0.6)):
        figures = commands.get(command)
        out.append(
            Target(
                f"startup_{command}",
                f"`dispatch {'--help' if command == 'help' else command}` start to finish (p50)",
                figures["p50_ms"] / 1000 if figures else None,
                bound,
                "s",
                where=f"max {figures['max_ms'] / 1000:.2f} s" if figures else "",
            )
        )
    return out


def _planning_table(sections: dict[str, Any]) -> str | None:
    planning = _get(sections, "planning")
    if not planning:
        return None
    rows = []
    for name, semantic in sorted(planning["latency"]["semantic"].items()):
        rules = planning["latency"]["rules"][name]
        rows.append(
            [name, semantic["agents"], semantic["n"], semantic["p50_ms"], semantic["p99_ms"],
             rules["p50_ms"], rules["p99_ms"]]
        )  # fmt: skip
    return table(
        ["fleet", "agents", "plans", "semantic p50 ms", "semantic p99 ms", "rules p50 ms",
         "rules p99 ms"],
        rows,
    )  # fmt: skip


def _ack_table(sections: dict[str, Any]) -> str | None:
    core, slack = _get(sections, "ack"), _get(sections, "ack_slack")
    rules = _get(sections, "ack_rules")
    in_place = _get(sections, "ack_in_place")
    on = _get(sections, "ack_telemetry")
    if not core and not slack:
        return None
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    for result in (core, slack):
        for lv in result["levels"] if result else []:
            merged.setdefault((lv["in_flight"], lv["concurrency"]), {}).update(lv)
    for lv in rules["levels"] if rules else []:
        merged.setdefault((lv["in_flight"], lv["concurrency"]), {})["rules"] = lv["core"]
    for lv in in_place["levels"] if in_place else []:
        merged.setdefault((lv["in_flight"], lv["concurrency"]), {})["in_place"] = lv["core"]
    for lv in on["levels"] if on else []:
        merged.setdefault((lv["in_flight"], lv["concurrency"]), {})["on"] = lv["core"]
    rows = []
    for (in_flight, concurrency), lv in sorted(merged.items()):
        c, s, r, t = lv.get("core"), lv.get("slack"), lv.get("rules"), lv.get("on")
        here = lv.get("in_place")
        rows.append(
            [
                in_flight, concurrency, lv.get("requests"),
                c["ack"]["p50_ms"] if c else None, c["ack"]["p99_ms"] if c else None,
                r["ack"]["p99_ms"] if r else None, here["ack"]["p99_ms"] if here else None,
                t["ack"]["p50_ms"] if t else None, t["ack"]["p99_ms"] if t else None,
                s["ack"]["p50_ms"] if s else None, s["ack"]["p99_ms"] if s else None,
                c["relay"]["p99_ms"] if c else None,
                _p99(c, "agent_send_lag"), _p99(c, "relay_after_send"),
                s["overload"]["ack"]["p50_ms"] if s and "overload" in s else None,
                s["overload"]["ack"]["p99_ms"] if s and "overload" in s else None,
            ]
        )  # fmt: skip
    return table(
        ["in flight", "concurrent", "requests", "core p50 ms", "core p99 ms",
         "core p99 ms, rules-only planner", "core p99 ms, planned in place",
         "core p50 ms, metrics and traces on",
         "core p99 ms, metrics and traces on", "Slack p50 ms",
         "Slack p99 ms", "relay p99 ms", "of which agents' send lag p99 ms",
         "relay after agent's send p99 ms", "Slack overload p50 ms", "Slack overload p99 ms"],
        rows,
    )  # fmt: skip


def _p99(figures: dict[str, Any] | None, key: str) -> float | None:
    """p99 of `figures[key]`, if that was measured (older runs lack the relay split)."""
    return (figures or {}).get(key, {}).get("p99_ms")


def _orchestration_table(sections: dict[str, Any]) -> str | None:
    orch = _get(sections, "orchestration")
    if not orch:
        return None
    peer_entry = sections.get("peer", {})
    peer = _get(sections, "peer")
    rows = []
    for name, d in orch["shapes"].items():
        p = peer["shapes"].get(name) if peer else None
        rows.append(
            [
                name.replace("_", " "), d["critical_path_s"], d["runs"],
                d["overhead"]["p50_ms"], d["ratio_p50"], d["handoff_hop"]["p50_ms"],
                d["entry_hop"]["p50_ms"], d["exit_hop"]["p99_ms"],
                _p99(d, "exit_agent_send_lag"), _p99(d, "exit_after_send"),
                p["overhead"]["p50_ms"] if p else None, p["ratio_p50"] if p else None,
                p["handoff_hop"]["p50_ms"] if p else None,
                d.get("fleet_floor", {}).get("ratio_p50"),
            ]
        )  # fmt: skip
    text = table(
        ["plan", "critical path s", "runs", "Dispatch overhead p50 ms", "Dispatch ratio",
         "Dispatch handoff p50 ms", "Dispatch entry p50 ms", "Dispatch relay p99 ms",
         "of which agents' send lag p99 ms", "relay after agent's send p99 ms",
         "LangGraph overhead p50 ms", "LangGraph ratio", "LangGraph handoff p50 ms",
         "fleet floor ratio (no orchestrator)"],
        rows,
    )  # fmt: skip
    skipped = peer_entry.get("result", {}).get("skipped") if peer_entry.get("ok") else None
    if skipped:
        text += f"\n\nLangGraph peer {skipped}"
    return text


def _status_table(sections: dict[str, Any]) -> str | None:
    status = _get(sections, "status")
    if not status:
        return None
    rows = [
        [k.replace("_", " "), v["n"], v["p50_ms"], v["p99_ms"]] for k, v in status["status"].items()
    ]
    return table(["query", "n", "p50 ms", "p99 ms"], rows)


def _throughput_table(sections: dict[str, Any]) -> str | None:
    tp = _get(sections, "throughput")
    if not tp:
        return None
    rows = [
        [
            s["offered_rps"], s["achieved_rps"], "yes" if s["sustained"] else "no",
            s["end_to_end"]["p50_ms"], s["end_to_end"]["p99_ms"], s["ack"]["p99_ms"],
            s["cpu_share"]["worker"], s["cpu_share"]["sidecar"],
        ]
        for s in tp["steps"]
    ]  # fmt: skip
    return table(
        ["offered req/s", "achieved req/s", "sustained", "e2e p50 ms", "e2e p99 ms",
         "ack p99 ms", "Dispatch CPU", "agents CPU"],
        rows,
    )  # fmt: skip


def _memory_table(sections: dict[str, Any]) -> str | None:
    rows = []
    for method in ("rss", "tracemalloc"):
        m = _get(sections, f"memory_{method}")
        if m:
            rows.append(
                [
                    method, m["workload"]["in_flight"], m["bytes_per_task"],
                    m["bytes_per_queued_task"], m["bytes_per_running_task"],
                    m.get("bytes_per_task_at_detach"), m.get("peak_rss_mib"),
                ]
            )  # fmt: skip
    if not rows:
        return None
    return table(
        ["method", "in flight", "bytes/task", "bytes/queued task", "bytes/running task",
         "bytes/task, follow-ups still going", "peak RSS MiB"],
        rows,
    )  # fmt: skip


def _board_table(sections: dict[str, Any]) -> str | None:
    board = _get(sections, "board")
    if not board:
        return None
    rows: list[list[Any]] = [
        [f"first paint, {name} {'1280×900' if name == 'desktop' else '390×844'}", f["n"],
         f["p50_ms"], f["max_ms"], f"{f['cards']:,} cards, {f['graphs_drawn']} graphs drawn"]
        for name, f in board["first_paint"].items()
    ]  # fmt: skip
    api = board["api_board"]
    rows.append(
        ["GET /api/board", api["n"], api["p50_ms"], api["max_ms"], f"{api['bytes']:,} bytes"]
    )
    for name in ("unwatched", "watched"):
        f = board["ack"][name]
        rows.append(
            [f"ack, {'a browser on the live feed' if name == 'watched' else 'nobody watching'}",
             f["n"], f["p50_ms"], f["max_ms"], f"p99 {f['p99_ms']} ms"]
        )  # fmt: skip
    return table(["figure", "n", "p50 ms", "max ms", "notes"], rows)


def _stores_table(sections: dict[str, Any]) -> str | None:
    """`--store postgres`: each figure for SQLite, PostgreSQL, and three PostgreSQL replicas."""
    ack, hop = _get(sections, "store_ack"), _get(sections, "store_hop")
    through, fail = _get(sections, "store_throughput"), _get(sections, "store_failover")
    if not any(x and "skipped" not in x for x in (ack, hop, through, fail)):
        return None
    rows: list[list[Any]] = []
    for i, level in enumerate(ack["stores"]["sqlite"]["levels"] if ack else []):
        pg = ack["stores"]["postgres"]["levels"][i] if ack else {}  # type: ignore[index]
        rows.append(
            [f"core ack p99 ms, {level['concurrency']} concurrent ({level['requests']} requests)",
             level["ack"]["p99_ms"], pg["ack"]["p99_ms"], ""]
        )  # fmt: skip
    if hop:
        rows.append(
            ["dependency handoff p50 ms (chain, diamond)",
             hop["stores"]["sqlite"]["hop_p50_ms"], hop["stores"]["postgres"]["hop_p50_ms"], ""]
        )  # fmt: skip
    if through:
        setups = through["setups"]

        def rate(name: str) -> str:
            s = setups.get(name)
            return f"{s['max_sustained_rps']} ({s['peak_achieved_rps']})" if s else ""

        rows.append(
            ["sustained throughput req/s (peak achieved)",
             rate("sqlite_1"), rate("postgres_1"), rate("postgres_3")]
        )  # fmt: skip
    for key, f in (fail["dead_after"] if fail else {}).items():
        t = f["failover_s"]
        rows.append(
            [f"failover s after kill -9, dead after {key} s (min / p50 / max of"
             f" {len(f['trials'])})", "", f"{t['min']} / {t['p50']} / {t['max']}", ""]
        )  # fmt: skip
    loads = [
        f"{name}: {s['load_average'][0][0]}–{s['load_average'][1][0]}"
        for name, result in (("ack", ack), ("hop", hop))
        for s in (result["stores"].values() if result else [])
    ]
    text = table(["figure", "SQLite", "PostgreSQL, 1 replica", "PostgreSQL, 3 replicas"], rows)
    if loads:
        text += "\n\nLoad average (1 min) at the start and end of each part: " + ", ".join(loads)
    return text


_DETAILS: list[tuple[str, Callable[[dict[str, Any]], str | None]]] = [
    ("Acknowledgement latency", _ack_table),
    ("Orchestration overhead, Dispatch and LangGraph", _orchestration_table),
    ("Status queries", _status_table),
    ("Throughput steps", _throughput_table),
    ("Memory", _memory_table),
    ("Planning: semantic beside rules", _planning_table),
    ("Web board", _board_table),
    ("Stores: SQLite beside PostgreSQL", _stores_table),
]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else LATEST
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
