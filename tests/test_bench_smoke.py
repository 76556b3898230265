"""The benchmark's smoke mode runs end to end and writes every section.

Structure only: benchmarks are not timed tests, so nothing here looks at a figure's value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.report import render
from bench.run import ORDER

REPO = Path(__file__).resolve().parent.parent


def test_smoke_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    run = json.loads(out.read_text(encoding="utf-8"))

    assert run["meta"]["mode"] == "smoke"
    assert set(run["sections"]) == set(ORDER)
    for name, section in run["sections"].items():
        assert section["ok"], f"{name}: {section.get('error')}"

    sections = {name: section["result"] for name, section in run["sections"].items()}
    for name, side in (("ack", "core"), ("ack_telemetry", "core"), ("ack_slack", "slack")):
        levels = sections[name]["levels"]
        assert {(lv["in_flight"] > 0, lv["concurrency"]) for lv in levels} == {
            (loaded, c) for loaded in (False, True) for c in (1, 4)
        }
        for level in levels:
            assert level[side]["ack"]["n"] > 0 and level[side]["ack"]["p99_ms"] is not None
    # With metrics and traces on, the sidecar scraped the page and received the spans.
    monitoring = sections["ack_telemetry"]["monitoring"]
    assert monitoring["scrapes"] > 0 and monitoring["spans"] > 0
    shapes = {"fan_out_3", "fan_out_10", "chain_5", "diamond"}
    assert set(sections["orchestration"]["shapes"]) == shapes
    for name, shape in sections["orchestration"]["shapes"].items():
        assert {"overhead", "ratio_p50", "handoff_hop", "entry_hop", "exit_hop"} <= set(shape)
        # The fleet's floor, for fan-outs: no orchestrator, so never slower than the agents.
        if name.startswith("fan_out"):
            assert shape["fleet_floor"]["ratio_p50"] >= 1.0
    peer = sections["peer"]
    assert "skipped" in peer or set(peer["shapes"]) == shapes
    assert set(sections["relay"]["relay"]) == {"sequential", "parallel_threads", "one_thread"}
    status = sections["status"]
    assert set(status["status"]) == {
        "user_with_work", "user_with_history_only", "in_thread", "operator_all",
    }  # fmt: skip
    assert status["workload"]["tasks_in_db"] >= 1000
    assert status["workload"]["in_flight"] >= 50
    assert sections["throughput"]["steps"]
    for method in ("rss", "tracemalloc"):
        memory = sections[f"memory_{method}"]
        assert memory["method"] == method and "bytes_per_task" in memory
    assert "peak_rss_mib" in sections["memory_rss"]

    board = sections["board"]
    assert "skipped" in board or (
        set(board["first_paint"]) == {"desktop", "phone"}
        and all(f["n"] > 0 and f["cards"] >= 20 for f in board["first_paint"].values())
        and board["ack"]["watched"]["n"] > 0
    )

    keys = {t["key"] for t in run["targets"]}
    assert {"ack_core_0", "ack_slack_0", "hop_p50", "throughput", "memory_rss"} <= keys
    assert {"ack_telemetry_0"} <= keys
    assert {"startup_help", "startup_status", "board_first_paint"} <= keys
    assert all(t["status"] == "n/a (smoke)" for t in run["targets"])
    assert "### Targets" in render(run)
