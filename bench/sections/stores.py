"""11. The stores side by side: SQLite beside PostgreSQL, replicas, and failover.

`python -m bench --store postgres` runs these four sections, each in its own worker, each
measuring SQLite and then PostgreSQL in that worker, so one run gives one table:

- `store_ack`: the core acknowledgement at each concurrency of the ack section, with nothing
  else in flight, by its method (`bench.sections.ack.core_level`);
- `store_hop`: the dependency handoff of the orchestration section's chain and diamond
  (`bench.sections.orchestration.run_shape`), p50 over both, as its hop target reads it;
- `store_throughput`: the throughput section's open-loop steps, with the load issued inside
  replica processes (`bench.replica`): one on SQLite, one on PostgreSQL, and three sharing
  one PostgreSQL database, each taking an equal share of the arrivals through its own
  `Dispatcher.receive`, as a load balancer in front of Slack's HTTP events would spread
  them. A request is done when its closing line is posted, by whichever replica posts it;
- `store_failover`: two replicas on PostgreSQL; one takes in a three-way fan-out, and once
  its tasks run on their agents (each has its agent's task id recorded), the replica owning
  them is killed with SIGKILL. Failover is the time from the kill to the first of those
  tasks' results posted by a surviving replica, at each `DISPATCH_REPLICA_DEAD_AFTER`. The
  agents finish shortly after the kill, so the figure is the detection and adoption, not
  the agents' work (their finish, relative to the kill, is recorded beside it).

The PostgreSQL server is a real one the worker starts in a temporary directory
(`tests.pgserver.PostgresServer`), on 127.0.0.1, with durability set as the SQLite store
sets it (WAL with `synchronous=NORMAL`: a commit is not flushed at once but is never torn):
`synchronous_commit = off` with fsync and full-page writes on, and PostgreSQL's default
128 MB cache. Without the server binaries or psycopg, the sections are skipped with a note
(in CI, where `.ci/run` installs them, they fail instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config import Sizes
from bench.load import Tracker
from bench.rig import REPO, cpu_seconds, fan_out, fleet_for, rig, sidecar, workdir
from bench.sections.ack import core_level, drain
from bench.sections.orchestration import check_plan, run_shape, shapes, summarize_runs
from bench.sections.throughput import SUSTAINED
from bench.sidecar import AgentDef
from bench.stats import percentile, summary_ms

if TYPE_CHECKING:
    from tests.pgserver import PostgresServer

SERVER_SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "off",
    "shared_buffers": "128MB",
    "autovacuum": "on",
}
"""The bench server's changes to the test server's settings (see the module's docstring)."""

_seq = itertools.count(1)


def _unavailable() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    try:
        import psycopg  # noqa: F401

        from tests.pgserver import PostgresUnavailable, find_bindir
    except ImportError:
        return "(PostgreSQL needs psycopg: pip install -e '.[bench]')"
    try:
        find_bindir()
    except PostgresUnavailable as exc:
        return f"({exc})"
    return None


@contextlib.contextmanager
def _server() -> Any:
    from tests.pgserver import PostgresServer

    server = PostgresServer(settings=SERVER_SETTINGS).start()
    try:
        yield server
    finally:
        server.stop()


def _skip() -> dict[str, Any] | None:
    reason = _unavailable()
    if reason is None:
        return None
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        raise RuntimeError(f"CI is set, so the store sections may not skip: {reason}")
    return {"skipped": reason}


def _databases(tmp: Path, server: PostgresServer, name: str) -> list[tuple[str, str, Path]]:
    """(store, database, state folder) for SQLite and for a fresh PostgreSQL database."""
    for kind in ("sqlite", "postgres"):
        (tmp / kind).mkdir(exist_ok=True)
    return [
        ("sqlite", str(tmp / "sqlite" / f"{name}.db"), tmp / "sqlite"),
        ("postgres", server.create_database(), tmp / "postgres"),
    ]


_ERROR = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Detected|Violation|Expired)):")


def _errors(log: Path) -> dict[str, Any]:
    """Tracebacks the replicas logged, how many were PostgreSQL deadlocks, and the first
    few distinct errors (each traceback's last line)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    kinds = Counter(match[1] for line in lines if (match := _ERROR.match(line)))
    return {
        "tracebacks": sum(line.startswith("Traceback") for line in lines),
        "deadlocks": sum(line.startswith("psycopg.errors.DeadlockDetected") for line in lines),
        "errors": dict(kinds.most_common(5)),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def run_ack(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """Core acknowledgement p50/p99 at each concurrency, nothing else in flight, per store."""
    if (skipped := _skip()) is not None:
        return skipped
    work = [AgentDef(f"wk{i:02d}", sizes.work_delay, "disposable") for i in range(10)]
    sub = AgentDef("sub", 0.0, "disposable")
    stores: dict[str, Any] = {}
    async with sidecar([*work, sub]) as sc, workdir() as tmp:
        fleet = fleet_for([*work, sub], sc.urls, sub)
        with _server() as server:
            for store, db, state in _databases(tmp, server, "ack"):
                levels = []
                load = _load()
                async with rig(db, fleet, settings={"state_dir": state}) as r:
                    tracker = Tracker(r.adapter)
                    await core_level(r, tracker, sc, work, 4, 8)  # warm up
                    for concurrency, total in sizes.ack_requests.items():
                        await drain(r)
                        figures = await core_level(r, tracker, sc, work, concurrency, total)
                        levels.append(
                            {
                                "concurrency": concurrency,
                                "requests": max(1, total // concurrency) * concurrency,
                                **figures,
                            }
                        )
                        note(
                            f"{store}, {concurrency} concurrent: ack p99 {figures['ack']['p99_ms']} ms"
                        )
                stores[store] = {"levels": levels, "load_average": [load, _load()]}
    return {
        "workload": {
            "request": "a three-way fan-out to agents answering after"
            f" {sizes.work_delay * 1000:.0f} ms (disposable sessions), nothing else in flight",
            "concurrency": {str(k): v for k, v in sizes.ack_requests.items()},
        },
        "stores": stores,
    }


async def run_hop(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """The dependency handoff of the chain and the diamond, per store."""
    if (skipped := _skip()) is not None:
        return skipped
    agents = [AgentDef(f"zo{i:03d}", sizes.agent_delay) for i in range(max(sizes.chain_length, 4))]
    sub = AgentDef("sub", 0.0, "disposable")
    picked = [s for s in shapes(agents, sizes) if s.deps]
    stores: dict[str, Any] = {}
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        fleet = fleet_for([*agents, sub], sc.urls, sub)
        with _server() as server:
            for store, db, state in _databases(tmp, server, "hop"):
                load = _load()
                out: dict[str, Any] = {}
                async with rig(db, fleet, settings={"state_dir": state}) as r:
                    tracker = Tracker(r.adapter)
                    for shape in picked:
                        check_plan(r, shape)
                    await run_shape(r, tracker, picked[0], 1)  # warm up
                    for shape in picked:
                        runs = sizes.repeats[shape.name]
                        makespans, gaps = await run_shape(r, tracker, shape, runs)
                        out[shape.name] = summarize_runs(shape, sizes.agent_delay, makespans, gaps)
                handoffs = [s * 1000 for shape in out.values() for s in shape["handoff_samples_s"]]
                hop = round(percentile(handoffs, 50), 2)
                note(f"{store}: handoff p50 {hop} ms over {len(handoffs)} hops")
                stores[store] = {
                    "hop_p50_ms": hop,
                    "hops": len(handoffs),
                    "shapes": out,
                    "load_average": [load, _load()],
                }
    return {
        "workload": {
            "agent_delay_s": sizes.agent_delay,
            "plans": [s.name for s in picked],
            "repeats": {s.name: sizes.repeats[s.name] for s in picked},
            "hop": "dependency finished → dependent started (agents' stamps), p50 over both",
        },
        "stores": stores,
    }


@dataclass
class ReplicaProcess:
    """A `python -m bench.replica` child: its id in the replicas table and its pipes."""

    process: asyncio.subprocess.Process
    id: str
    pid: int

    async def ask(self, command: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"replica {self.id} exited")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"replica {self.id}: {answer.get('error')}")
        return answer

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        assert self.process.stdin is not None
        with contextlib.suppress(Exception):
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def start_replica(
    db: str, agents: Sequence[AgentDef], urls: dict[str, str], settings: dict[str, Any], log: Path
) -> ReplicaProcess:
    """A replica process; what it logs (errors only) is appended to `log`."""
    spec = {
        "db": db,
        "agents": [asdict(a) for a in agents],
        "catch_all": agents[-1].id,
        "urls": urls,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()},
    }
    with open(log, "ab") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.replica", json.dumps(spec),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=errors,
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, limit=64 * 1024**2,
        )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 180)
    if not line:
        raise RuntimeError("a bench replica exited before it was ready")
    ready = json.loads(line)
    return ReplicaProcess(process, ready["replica"], ready["pid"])


@contextlib.asynccontextmanager
async def replicas(
    count: int,
    db: str,
    agents: Sequence[AgentDef],
    urls: dict[str, str],
    settings: dict[str, Any],
    log: Path,
) -> AsyncIterator[list[ReplicaProcess]]:
    """`count` replicas on one database, started together; stopped cleanly afterwards."""
    started = await asyncio.gather(
        *(start_replica(db, agents, urls, settings, log) for _ in range(count)),
        return_exceptions=True,
    )
    made = [p for p in started if isinstance(p, ReplicaProcess)]
    try:
        for failure in started:
            if isinstance(failure, BaseException):
                raise failure
        yield made
    finally:
        await asyncio.gather(*(p.stop() for p in made))


def _postgres_pids(server: PostgresServer) -> list[int]:
    """The postmaster and its children (the replicas' backends among them)."""
    try:
        master = int((server.datadir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    pids = [master]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(entry.name))
    return pids


def _cpu(pids: Sequence[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            out[pid] = cpu_seconds(pid)
    return out


def _share(before: dict[int, float], after: dict[int, float], elapsed: float) -> float:
    used = sum(after[p] - before[p] for p in after if p in before)
    return round(used / elapsed, 2)


async def replicated_step(
    reps: list[ReplicaProcess],
    agents: list[AgentDef],
    rate: float,
    duration: float,
    others: dict[str, list[int]],
) -> dict[str, Any]:
    """Offer `rate` requests/s for `duration` s, spread over the replicas in turn; wait for
    every closing line (posted by any replica); summarize as the throughput section does.

    `others`: processes whose CPU share is reported beside the replicas' (agents, server)."""
    count = max(1, int(rate * duration))
    prefix = f"s{next(_seq)}"
    cpu0 = {
        name: _cpu(pids) for name, pids in {"replicas": [p.pid for p in reps], **others}.items()
    }
    start = asyncio.get_running_loop().time() + 0.3  # the loop's clock is time.monotonic()
    answers = await asyncio.gather(
        *(
            p.ask(
                {
                    "cmd": "step", "start": start, "rate": rate, "count": count,
                    "every": len(reps), "phase": k, "agents": [a.id for a in agents],
                    "prefix": prefix,
                }
            )
            for k, p in enumerate(reps)
        )
    )  # fmt: skip
    issued: dict[str, float] = {}
    for answer in answers:
        issued.update(answer["issued"])
    last_issue = max(issued.values())
    acks: dict[str, float] = {}
    closings: dict[str, float] = {}
    deadline = start + max(60.0, 2 * duration)
    while len(closings) < len(issued) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        for p in reps:
            for thread, kind, _agent, at, _end in (await p.ask({"cmd": "posts"}))["posts"]:
                if thread not in issued:
                    continue
                if kind == "ack":
                    acks.setdefault(thread, at)
                elif kind == "closing":
                    closings[thread] = at
    done_at = max([last_issue, *closings.values()])
    elapsed = done_at - start
    cpu1 = {
        name: _cpu(pids) for name, pids in {"replicas": [p.pid for p in reps], **others}.items()
    }
    achieved = len(closings) / elapsed if elapsed > 0 else 0.0
    timed_out = len(issued) - len(closings)
    return {
        "offered_rps": rate,
        "requests": count,
        "issued_rps": round(count / max(last_issue - start, 1e-9), 1) if count > 1 else rate,
        "completed": len(closings),
        "timed_out": timed_out,
        "achieved_rps": round(achieved, 1),
        "sustained": timed_out == 0 and achieved >= SUSTAINED * rate,
        "end_to_end": summary_ms([at - issued[t] for t, at in closings.items()]),
        "ack": summary_ms([at - issued[t] for t, at in acks.items()]),
        "cpu_share": {name: _share(cpu0[name], cpu1[name], elapsed) for name in cpu0},
    }


async def _quiet(reps: list[ReplicaProcess]) -> dict[str, int] | None:
    """Wait until the database is quiet; what is left, if it would not go quiet in 2 min."""
    answer = await reps[0].ask({"cmd": "quiet", "timeout": 120}, timeout=150)
    for p in reps:  # the posts of what just finished, not the next step's
        await p.ask({"cmd": "posts"})
    return None if answer["quiet"] else dict(answer["left"])


async def run_throughput(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """Sustained requests/s: SQLite (one replica), PostgreSQL with one and with three."""
    if (skipped := _skip()) is not None:
        return skipped
    agents = [AgentDef(f"in{i:02d}", 0.0, "disposable") for i in range(10)]
    sub = AgentDef("sub", 0.0, "disposable")
    setups: dict[str, Any] = {}
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        with _server() as server:
            configurations = [("sqlite", 1)] + [("postgres", n) for n in sizes.store_replicas]
            for store, count in configurations:
                name = f"{store}_{count}"
                folder = tmp / name
                folder.mkdir()
                db = (
                    str(folder / "throughput.db") if store == "sqlite" else server.create_database()
                )
                load = _load()
                steps: list[dict[str, Any]] = []
                others = {"agents": [sc.pid]}
                log = folder / "replicas.log"
                async with replicas(
                    count, db, [*agents, sub], sc.urls, {"state_dir": folder}, log
                ) as reps:
                    if store == "postgres":
                        others["postgres"] = _postgres_pids(server)
                    await replicated_step(reps, agents, 10, 1.0, others)  # warm up
                    await _quiet(reps)
                    for rate in sizes.throughput_rates:
                        result = await replicated_step(
                            reps, agents, rate, sizes.throughput_step_s, others
                        )
                        steps.append(result)
                        note(
                            f"{name}: {rate} req/s offered, {result['achieved_rps']} achieved,"
                            f" e2e p99 {result['end_to_end']['p99_ms']} ms,"
                            f" cpu {result['cpu_share']}"
                        )
                        left = await _quiet(reps)
                        if left is not None:  # work stuck: later steps would measure that
                            result["left_after_2_min"] = left
                            note(f"{name}: still not quiet 2 minutes later: {left}")
                            break
                        if not result["sustained"] and not sizes.smoke:
                            break
                sustained = [s["offered_rps"] for s in steps if s["sustained"]]
                setups[name] = {
                    "store": store,
                    "replicas": count,
                    "steps": steps,
                    "max_sustained_rps": max(sustained) if sustained else 0,
                    "peak_achieved_rps": max((s["achieved_rps"] for s in steps), default=0),
                    "load_average": [load, _load()],
                    "errors_logged": _errors(log),
                }
    return {
        "workload": {
            "request": "one task for an instant agent (disposable session), round-robin over 10",
            "replicas": "separate processes (bench.replica), the arrivals spread over them in"
            " turn, each through its own Dispatcher.receive and in-memory adapter",
            "step_s": sizes.throughput_step_s,
            "rates": list(sizes.throughput_rates),
            "sustained_when": f"completions ≥ {SUSTAINED:.0%} of the offered rate",
        },
        "setups": setups,
    }


async def _wait_running(server_db: str, agent_ids: list[str], timeout: float) -> list[Any]:
    """The trial's tasks, once each runs on its agent with the agent's task id recorded."""
    from bot.store import store_for

    store = await store_for(server_db).open()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        marks = ", ".join("?" for _ in agent_ids)
        while True:
            rows = await store.all(
                f"SELECT agent, owner, state, remote_task_id FROM tasks WHERE agent IN ({marks})",  # noqa: S608
                agent_ids,
            )
            if len(rows) == len(agent_ids) and all(
                r["state"] == "running" and r["remote_task_id"] for r in rows
            ):
                return rows
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the failover trial's tasks never all ran: {rows}")
            await asyncio.sleep(0.01)
    finally:
        await store.close()


async def failover_trial(
    reps: list[ReplicaProcess], db: str, agents: list[AgentDef], dead_after: float, trial: str
) -> tuple[dict[str, Any], ReplicaProcess]:
    """Kill the replica owning the trial's running tasks; time the first result posted by
    a survivor. Returns the figures and the killed replica."""
    receiver = reps[0]
    thread = (await receiver.ask({"cmd": "request", "text": fan_out(agents), "id": trial}))[
        "thread"
    ]
    rows = await _wait_running(db, [a.id for a in agents], 60)
    owner, _ = Counter(r["owner"] for r in rows).most_common(1)[0]
    victim = next(p for p in reps if p.id == owner)
    theirs = {r["agent"] for r in rows if r["owner"] == owner}
    killed_at = asyncio.get_running_loop().time()
    victim.kill()
    await victim.process.wait()
    survivors = [p for p in reps if p is not victim]
    first: float | None = None
    by: str | None = None
    ends: list[float] = []
    results: Counter[str] = Counter()
    closed = False
    deadline = killed_at + 3 * dead_after + 60
    while not closed and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        for p in survivors:
            for t, kind, agent, at, end in (await p.ask({"cmd": "posts"}))["posts"]:
                if t != thread:
                    continue
                if kind == "closing":
                    closed = True
                if kind != "result":
                    continue
                results[agent] += 1
                if agent in theirs:
                    if end is not None:
                        ends.append(end)
                    if first is None or at < first:
                        first, by = at, p.id
    if first is None:
        raise TimeoutError(f"no survivor relayed a result of the killed replica ({trial})")
    return {
        "failover_s": round(first - killed_at, 3),
        "tasks_of_killed": len(theirs),
        "receiver_killed": victim is receiver,
        "relayed_by": by,
        "agents_done_after_kill_s": round(max(ends) - killed_at, 3) if ends else None,
        "results_posted": dict(results),
        "closed": closed,
    }, victim


async def run_failover(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    """Kill -9 of the replica owning running tasks → first result relayed by the adopter."""
    if (skipped := _skip()) is not None:
        return skipped
    trials = sizes.failover_trials
    agents = [
        AgentDef(f"fo{n:02d}", sizes.failover_agent_delay, "disposable")
        for n in range(3 * trials * len(sizes.failover_dead_after))
    ]
    sub = AgentDef("sub", 0.0, "disposable")
    settings_out: dict[str, Any] = {}
    groups = iter([agents[i : i + 3] for i in range(0, len(agents), 3)])
    async with sidecar([*agents, sub]) as sc, workdir() as tmp:
        with _server() as server:
            for dead_after in sizes.failover_dead_after:
                db = server.create_database()
                settings = {"state_dir": tmp, "replica_dead_after": dead_after}
                load = _load()
                runs: list[dict[str, Any]] = []
                log = tmp / f"replicas-{dead_after:g}.log"
                async with replicas(2, db, [*agents, sub], sc.urls, settings, log) as reps:
                    for t in range(trials):
                        figures, victim = await failover_trial(
                            reps, db, next(groups), dead_after, f"fo-{dead_after}-{t}"
                        )
                        runs.append(figures)
                        note(
                            f"dead after {dead_after:g} s, trial {t + 1}: {figures['failover_s']} s"
                        )
                        reps.remove(victim)
                        if t + 1 < trials:  # a new replica in its place, for the next trial
                            new = await start_replica(db, [*agents, sub], sc.urls, settings, log)
                            reps.append(new)
                times = [r["failover_s"] for r in runs]
                settings_out[f"{dead_after:g}"] = {
                    "dead_after_s": dead_after,
                    "heartbeat_every_s": max(min(dead_after / 4, 2.5), 0.1),
                    "trials": runs,
                    "failover_s": {
                        "min": min(times),
                        "p50": round(percentile(times, 50), 3),
                        "max": max(times),
                    },
                    "load_average": [load, _load()],
                    "errors_logged": _errors(log),
                }
    return {
        "workload": {
            "replicas": 2,
            "request": "a three-way fan-out taken in by one replica, agents taking"
            f" {sizes.failover_agent_delay:g} s (disposable sessions)",
            "kill": "SIGKILL of the replica owning the running tasks, once each has its"
            " agent's task id recorded",
            "figure": "kill → the first of its tasks' results posted by a surviving replica",
        },
        "dead_after": settings_out,
    }
