"""4. Status query latency with a large database.

The database holds `status_total_tasks` tasks: all but `status_in_flight` of them finished
history, bulk-inserted with sqlite3 (requests of three completed tasks each, with their
briefs, results, outbox deliveries, thread history and processed-message keys, as Dispatch
would have left them); the in-flight ones are created through `Dispatcher.receive` (the same
fill as the ack section: running on agents that hold their task, or queued behind persistent
sessions).

Each query goes through the dispatcher's real code path:
- "what's in flight?" as a new message from a user with in-flight work, from a user with
  only history, and as a reply in a thread with in-flight work (`Dispatcher.receive` →
  status message posted, timed to the post);
- the operator's view of everything (`Dispatcher.status_report(None, None)`, timed to return).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.config import Sizes
from bench.load import Tracker, fill_in_flight, hold_fleet
from bench.rig import Rig, fleet_for, rig, sidecar, workdir
from bench.sidecar import AgentDef
from bench.stats import summary_ms
from bot.brief import Brief, HistoryLine
from bot.store import Store

HISTORY_USERS = 200
TASKS_PER_REQUEST = 3


async def create_schema(db: Path) -> None:
    store = await Store(db).open()
    await store.close()


def bulk_history(db: Path, tasks: int, agents: list[str]) -> dict[str, Any]:
    """Insert `tasks` finished tasks (and what goes with them) straight into SQLite."""
    started = time.monotonic()
    text = "Launch prep: brand images, landing page copy, and announcement tweets"
    result = ("Here is the finished piece of work, as the agent wrote it. " * 8).strip()
    brief = Brief(
        task="landing page copy",
        request=text,
        requester="alice",
        platform="memory",
        channel="C1",
        thread="m1",
        history=[HistoryLine(author="alice", text=text), HistoryLine(author="Dispatch", text=text)],
    ).model_dump_json()
    target = {"platform": "memory", "workspace": "W1", "channel": "C1", "thread": "m1",
              "user": "U1", "is_dm": False}  # fmt: skip
    payload = json.dumps({"target": target, "message": {"kind": "result", "text": result[:200]}})
    requests = -(-tasks // TASKS_PER_REQUEST)  # the last request takes the remainder
    now = time.time() - 86_400
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    seq = 0
    outbox_id = 0
    with con:
        for r in range(requests):
            rid = f"req-h{r:07d}"
            user = f"U{r % HISTORY_USERS}"
            channel = f"C{r % 50}"
            thread = f"h{r}"
            at = now + r * 0.5
            con.execute(
                "INSERT INTO requests(id, platform, workspace, channel, thread, message_id, user,"
                " user_name, text, is_dm, kind, state, decision, created_at, finished_at)"
                " VALUES (?, 'memory', 'W1', ?, ?, ?, ?, ?, ?, 0, 'work', 'done', NULL, ?, ?)",
                (rid, channel, thread, thread, user, user, text, at, at + 30),
            )
            con.execute(
                "INSERT INTO processed_messages(key, at) VALUES (?, ?)",
                (f"memory:W1:{channel}:{thread}", at),
            )
            con.execute("INSERT INTO boards(request_id, version, shown) VALUES (?, 5, 5)", (rid,))
            rows = []
            for k in range(min(TASKS_PER_REQUEST, tasks - r * TASKS_PER_REQUEST)):
                seq += 1
                rows.append(
                    (f"{rid}/t{k + 1}", rid, f"t{k + 1}", seq, agents[(r + k) % len(agents)],
                     "persistent", "landing page copy", brief, "completed", result, at, at + 1,
                     at + 20)
                )  # fmt: skip
            con.executemany(
                "INSERT INTO tasks(id, request_id, spec_id, seq, agent, session_kind, summary,"
                " brief, state, result, created_at, started_at, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            kinds = ["ack", *(["result"] * len(rows)), "closing"]
            outbox = []
            for j, kind in enumerate(kinds):
                outbox_id += 1
                task = f"{rid}/t{j}" if kind == "result" else None
                outbox.append((rid, task, kind, f"{kind}:{rid}:{j}", payload, "sent", at, at + 1))
            con.executemany(
                "INSERT INTO outbox(request_id, task_id, kind, dedupe, payload, state,"
                " created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                outbox,
            )
            con.executemany(
                "INSERT INTO history(platform, workspace, channel, thread, author, role, text, at)"
                " VALUES ('memory', 'W1', ?, ?, ?, ?, ?, ?)",
                [(channel, thread, user, "user", text, at)]
                + [(channel, thread, "Dispatch", "dispatch", text, at)]
                + [(channel, thread, "agent", "agent", result, at + 20)] * len(rows),
            )
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return {
        "requests": requests,
        "tasks": tasks,
        "insert_s": round(time.monotonic() - started, 2),
        "db_mb": round(db.stat().st_size / 1024**2, 1),
    }


async def _ask(r: Rig, tracker: Tracker, **where: Any) -> tuple[float, str]:
    request = r.request("what's in flight?", **where)
    start = time.monotonic()
    await r.dispatcher.receive(request)
    log = await tracker.wait(request.thread_key, lambda lg: any(k == "status" for k, _ in lg.other))
    posted = next(at for kind, at in log.other if kind == "status")
    tracker.forget(request.thread_key)
    return posted - start, request.thread_key


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    hold = hold_fleet(sizes.status_in_flight, sizes.running_share)
    sub = AgentDef("sub", 0.0, "disposable")
    agents = [*hold.all, sub]
    out: dict[str, Any] = {}
    async with sidecar(agents) as sc, workdir() as tmp:
        db = tmp / "status.db"
        await create_schema(db)
        history = bulk_history(
            db, sizes.status_total_tasks - sizes.status_in_flight, [a.id for a in hold.persistent]
        )
        note(f"bulk-inserted {history['tasks']:,} finished tasks in {history['insert_s']}s")
        fleet = fleet_for(agents, sc.urls, sub)
        async with rig(db, fleet) as r:
            tracker = Tracker(r.adapter)
            fill = await fill_in_flight(
                r, hold, sizes.status_in_flight, running_share=sizes.running_share, steady=True
            )
            note(f"filled {sizes.status_in_flight:,} in flight in {fill['settle_s']}s")
            counts = await r.store.one(
                "SELECT COUNT(*) AS total, SUM(state IN ('waiting','queued','running',"
                "'input_required')) AS in_flight FROM tasks"
            )
            assert counts is not None
            # The user with the most work in flight, and one of their threads.
            mine = await r.store.one(
                "SELECT r.user, r.channel, COUNT(*) AS n FROM tasks t"
                " JOIN requests r ON r.id = t.request_id"
                " WHERE t.state IN ('waiting','queued','running') GROUP BY r.user"
                " ORDER BY n DESC LIMIT 1"
            )
            assert mine is not None
            busy = await r.store.one(
                "SELECT user, channel, thread FROM requests WHERE user = ? AND state = 'running'"
                " LIMIT 1",
                (mine["user"],),
            )
            assert busy is not None
            kinds: dict[str, dict[str, Any]] = {
                "user_with_work": {"user": mine["user"], "channel": mine["channel"]},
                "user_with_history_only": {"user": "U5", "channel": "C5"},
                "in_thread": {
                    "user": busy["user"],
                    "channel": busy["channel"],
                    "thread": busy["thread"],
                },
            }
            for name, where in kinds.items():
                await _ask(r, tracker, **where)  # warm
                samples = [
                    (await _ask(r, tracker, **where))[0] for _ in range(sizes.status_queries)
                ]
                out[name] = summary_ms(samples)
            samples = []
            for _ in range(sizes.status_queries):
                start = time.monotonic()
                await r.dispatcher.status_report(None, None)
                samples.append(time.monotonic() - start)
            out["operator_all"] = summary_ms(samples)
            note("status p99: " + ", ".join(f"{k} {v['p99_ms']} ms" for k, v in out.items()))
    return {
        "workload": {
            "tasks_in_db": counts["total"],
            "in_flight": counts["in_flight"],
            "history": history,
            "fill": fill,
            "user_with_work_in_flight": mine["n"] if mine else None,
            "queries_each": sizes.status_queries,
        },
        "status": out,
    }
