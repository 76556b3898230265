"""The bench runner: `python -m bench [--smoke] [--only a,b] [--out FILE]`.

Runs each section in its own worker process (`bench.worker`), prints the tables with
PASS/MISS per target, and writes every figure as JSON (default bench/results/latest.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.config import FULL, SMOKE
from bench.report import LATEST, render, targets
from bench.worker import SECTIONS

REPO = Path(__file__).resolve().parent.parent
ORDER = [
    "ack", "ack_rules", "ack_in_place", "ack_telemetry", "ack_slack", "orchestration", "peer", "relay", "status",
    "throughput", "memory_rss", "memory_tracemalloc", "planning", "board",
]  # fmt: skip
STORE_ORDER = ["store_ack", "store_hop", "store_throughput", "store_failover"]
"""`--store postgres`: SQLite beside PostgreSQL (one replica and three), and failover."""
TIMEOUT = {"smoke": 240, "full": 1800}
"""Seconds a section's worker may take (a smoke run of three replicas starts three
processes, each loading the semantic planner's model, on a busy machine)."""


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in (
            Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines()
        ):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _versions() -> dict[str, str]:
    out = {}
    for name in ("a2a-sdk", "slack-bolt", "slack-sdk", "httpx", "httpx-aiohttp",
                 "aiohttp", "langgraph", "langgraph-checkpoint-sqlite", "prometheus-client",
                 "opentelemetry-sdk", "playwright", "psycopg"):  # fmt: skip
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_section(name: str, smoke: bool) -> dict[str, Any]:
    """Run one section in a fresh worker process; its progress goes to our stderr."""
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as tmp:
        out = Path(tmp) / f"{name}.json"
        command = [sys.executable, "-m", "bench.worker", name, "--out", str(out)]
        if smoke:
            command.append("--smoke")
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        started = time.monotonic()
        try:
            subprocess.run(
                command, cwd=REPO, env=env, timeout=TIMEOUT["smoke" if smoke else "full"],
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "timed out", "seconds": round(time.monotonic() - started)}
        if not out.exists():
            return {"ok": False, "error": "the worker wrote no result", "seconds": 0}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no thresholds (< 60 s)")
    parser.add_argument("--only", default="", help=f"comma-separated sections: {', '.join(ORDER)}")
    parser.add_argument("--out", type=Path, default=LATEST, help="where to write the JSON")
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="postgres: the store sections, SQLite beside PostgreSQL (and replicas, failover)",
    )
    args = parser.parse_args(argv)
    default = STORE_ORDER if args.store == "postgres" else ORDER
    names = [n.strip() for n in args.only.split(",") if n.strip()] or default
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    sizes = SMOKE if args.smoke else FULL
    started = time.monotonic()
    load_start = [round(x, 2) for x in os.getloadavg()]
    dirty = bool(_git("status", "--porcelain", "--", "bot", "adapters"))
    commit = _git("rev-parse", "--short", "HEAD") + (" (modified)" if dirty else "")
    sections: dict[str, Any] = {}
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        sections[name] = run_section(name, args.smoke)
        print(f"   {name}: {sections[name]['seconds']}s", file=sys.stderr, flush=True)
    evaluated = targets(sections)
    commit_end = _git("rev-parse", "--short", "HEAD")
    if not commit.startswith(commit_end):
        commit += f" → {commit_end} during the run"
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "command": "python -m bench"
        + (" --smoke" if args.smoke else "")
        + (" --store postgres" if args.store == "postgres" else ""),
        "git_commit": commit,
        "python": platform.python_version(),
        "machine": f"{os.cpu_count()} cores, {_cpu_model()}",
        "memory": _memory(),
        "load_average": {"start": load_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "versions": _versions(),
        "sizes": sizes.as_dict(),
        "seconds": round(time.monotonic() - started, 1),
        "section_seconds": {n: s.get("seconds") for n, s in sections.items()},
    }
    run = {
        "meta": meta,
        "sections": sections,
        "targets": [t.as_dict(args.smoke) for t in evaluated],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(run, indent=1), encoding="utf-8")
    print(render(run))
    print(f"\n{meta['mode']} run in {meta['seconds']}s; figures in {args.out}")
    return 0 if all(s.get("ok") for s in sections.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
