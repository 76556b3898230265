"""The benchmark's smoke mode runs end to end and writes every section.

Structure only: benchmarks are not timed tests, so nothing here looks at a figure's value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import render
from bench.run import ORDER, STORE_ORDER
from tests.pgserver import PostgresUnavailable, find_bindir

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
    for name, side in (
        ("ack", "core"),
        ("ack_in_place", "core"),
        ("ack_telemetry", "core"),
        ("ack_slack", "slack"),
    ):
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
    # A section skipped for a missing part (no Chromium outside CI) is marked so, not failed.
    assert all(t["status"] in ("n/a (smoke)", "SKIPPED") for t in run["targets"])
    skipped = any("skipped" in sections[name] for name in ("board", "ack_telemetry"))
    assert ("SKIPPED" in {t["status"] for t in run["targets"]}) == skipped
    assert "### Targets" in render(run)


def test_smoke_run_of_the_stores_writes_sqlite_beside_postgres(tmp_path: Path) -> None:
    try:
        find_bindir()
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set, so the store sections may not skip: {exc}", pytrace=False)
        pytest.skip(str(exc))
    out = tmp_path / "stores.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--store", "postgres", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    run = json.loads(out.read_text(encoding="utf-8"))
    assert run["meta"]["command"] == "python -m bench --smoke --store postgres"
    assert set(run["meta"]["load_average"]) == {"start", "end"}
    assert set(run["sections"]) == set(STORE_ORDER)
    for name, section in run["sections"].items():
        assert section["ok"], f"{name}: {section.get('error')}"
    sections = {name: section["result"] for name, section in run["sections"].items()}

    ack = sections["store_ack"]["stores"]
    assert set(ack) == {"sqlite", "postgres"}
    for store in ack.values():
        assert [level["concurrency"] for level in store["levels"]] == [1, 4]
        assert all(level["ack"]["n"] > 0 for level in store["levels"])
    hop = sections["store_hop"]["stores"]
    assert set(hop) == {"sqlite", "postgres"}
    assert all(store["hops"] > 0 and set(store["shapes"]) == {"chain_5", "diamond"}
               for store in hop.values())  # fmt: skip
    setups = sections["store_throughput"]["setups"]
    assert set(setups) == {"sqlite_1", "postgres_1", "postgres_3"}
    for setup in setups.values():
        # Every request offered was taken in; each step records its replicas' CPU share.
        assert setup["steps"] and all(s["requests"] > 0 for s in setup["steps"])
        assert all("replicas" in s["cpu_share"] for s in setup["steps"])
    assert setups["postgres_3"]["replicas"] == 3
    failover = sections["store_failover"]["dead_after"]
    assert set(failover) == {"2"}
    for trial in failover["2"]["trials"]:
        # The killed replica's tasks were adopted: a survivor relayed each result once.
        assert trial["tasks_of_killed"] > 0 and trial["closed"]
        assert all(count == 1 for count in trial["results_posted"].values())
    assert "Stores: SQLite beside PostgreSQL" in render(run)
