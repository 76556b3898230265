"""One section in its own process: `python -m bench.worker SECTION [--smoke] --out FILE`.

Writes `{"ok": true, "seconds": …, "result": {…}}` (or `{"ok": false, "error": …}`) to FILE
and reports progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench.config import FULL, SMOKE, Sizes

SECTIONS: dict[str, tuple[str, str]] = {
    "ack": ("bench.sections.ack", "run"),
    "ack_rules": ("bench.sections.ack", "run_rules"),
    "ack_in_place": ("bench.sections.ack", "run_in_place"),
    "ack_telemetry": ("bench.sections.ack", "run_telemetry"),
    "ack_slack": ("bench.sections.ack", "run_slack"),
    "planning": ("bench.sections.planning", "run"),
    "orchestration": ("bench.sections.orchestration", "run"),
    "peer": ("bench.sections.peer", "run"),
    "relay": ("bench.sections.relay", "run"),
    "status": ("bench.sections.status", "run"),
    "throughput": ("bench.sections.throughput", "run"),
    "memory_rss": ("bench.sections.memory", "run_rss"),
    "memory_tracemalloc": ("bench.sections.memory", "run_tracemalloc"),
    "board": ("bench.sections.board", "run"),
    "store_ack": ("bench.sections.stores", "run_ack"),
    "store_hop": ("bench.sections.stores", "run_hop"),
    "store_throughput": ("bench.sections.stores", "run_throughput"),
    "store_failover": ("bench.sections.stores", "run_failover"),
}
"""Section name → (module, coroutine function taking (Sizes, note))."""

Runner = Callable[[Sizes, Callable[[str], None]], Coroutine[Any, Any, dict[str, Any]]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("section", choices=sorted(SECTIONS))
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    sizes = SMOKE if args.smoke else FULL
    module, function = SECTIONS[args.section]
    runner: Runner = getattr(importlib.import_module(module), function)
    started = time.monotonic()

    def note(text: str) -> None:
        print(
            f"  [{args.section} {time.monotonic() - started:6.1f}s] {text}",
            file=sys.stderr,
            flush=True,
        )

    try:
        result = asyncio.run(runner(sizes, note))
        report: dict[str, Any] = {"ok": True, "result": result}
    except Exception:
        report = {"ok": False, "error": traceback.format_exc()}
        print(report["error"], file=sys.stderr, flush=True)
    report["seconds"] = round(time.monotonic() - started, 1)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
