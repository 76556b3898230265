"""Shared workload pieces: following what gets posted, and filling the system with work.

`Tracker` follows the in-memory adapter's posts per thread (ack, results, closing, status).
`fill_in_flight` puts N tasks in flight through `Dispatcher.receive`, as users would: a share
of them running against agents that hold their task for the whole run, the rest queued behind
the persistent (one-task-at-a-time) sessions of other long-running agents.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.memory import Posted
from bench.rig import BenchAdapter, Rig, fan_out
from bench.sidecar import HOLD_FOREVER, AgentDef, parse_stamp

PER_FILL_REQUEST = 10
"""Tasks per fill request (a ten-way fan-out)."""
MAX_PER_AGENT = 80
"""Concurrent tasks per disposable hold agent. Chosen when each running task held a pooled
connection for its lifetime under httpx's default cap of 100; the A2A backend has no cap now,
and the value stays so the workload is the same as in earlier runs."""


@dataclass
class ThreadLog:
    """What was posted in one thread, with post times (time.monotonic())."""

    ack_at: float | None = None
    results: list[tuple[float, tuple[float, float] | None, str]] = field(default_factory=list)
    """(posted at, (agent start, agent end) stamped in the result, agent id)."""
    closing_at: float | None = None
    other: list[tuple[str, float]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Tracker:
    """Follows posts of the bench adapter, keyed by thread."""

    def __init__(self, adapter: BenchAdapter) -> None:
        self.threads: dict[str, ThreadLog] = {}
        adapter.listeners.append(self._on_post)

    def log(self, thread: str) -> ThreadLog:
        return self.threads.setdefault(thread, ThreadLog())

    def _on_post(self, posted: Posted) -> None:
        thread = posted.target.thread if posted.target is not None else None
        if thread is None:
            return
        log = self.log(thread)
        kind = posted.message.kind
        if kind == "ack":
            log.ack_at = posted.at
        elif kind == "result":
            text = posted.message.text
            log.results.append((posted.at, parse_stamp(text), text.split(" ", 1)[0]))
        elif kind == "closing":
            log.closing_at = posted.at
        else:
            log.other.append((kind, posted.at))
        log.changed.set()

    async def wait(
        self, thread: str, predicate: Callable[[ThreadLog], bool], timeout: float = 60.0
    ) -> ThreadLog:
        """Wait until `predicate(log)` holds for `thread`."""
        log = self.log(thread)
        deadline = time.monotonic() + timeout
        while not predicate(log):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"thread {thread}: condition not met within {timeout:.0f}s")
            log.changed.clear()
            try:
                await asyncio.wait_for(log.changed.wait(), remaining)
            except TimeoutError:
                pass
        return log

    def forget(self, thread: str) -> None:
        self.threads.pop(thread, None)


@dataclass(frozen=True)
class HoldFleet:
    """Agents that never finish: persistent ones (tasks queue behind them) and disposable ones."""

    persistent: list[AgentDef]
    disposable: list[AgentDef]

    @property
    def all(self) -> list[AgentDef]:
        return [*self.persistent, *self.disposable]


def hold_fleet(in_flight: int, running_share: float) -> HoldFleet:
    """Enough hold agents for `in_flight` tasks with `running_share` of them running."""
    running = round(in_flight * running_share)
    disposable = max(PER_FILL_REQUEST, math.ceil(running / MAX_PER_AGENT))
    return HoldFleet(
        persistent=[
            AgentDef(f"hp{i:02d}", HOLD_FOREVER, "persistent") for i in range(PER_FILL_REQUEST)
        ],
        disposable=[AgentDef(f"hd{i:02d}", HOLD_FOREVER, "disposable") for i in range(disposable)],
    )


async def count_tasks(rig: Rig) -> dict[str, int]:
    rows = await rig.store.all("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def fill_in_flight(
    rig: Rig,
    hold: HoldFleet,
    in_flight: int,
    *,
    running_share: float,
    concurrency: int = 16,
    users: int = 100,
    on_progress: Callable[[int], None] | None = None,
    steady: bool = False,
    texts: list[str] | None = None,
) -> dict[str, Any]:
    """Create `in_flight` tasks through `Dispatcher.receive` and wait until they settle:
    running tasks have heard from their agent, and every status board has been redrawn.
    `steady`: also until the running tasks have detached and their follow-up calls are done
    (`until_zero`), so what is measured next is work in flight, not the fill's own
    aftermath: 2,000 tasks started within seconds detach within seconds, 5 s later.

    Every fill request is a ten-way fan-out. One in 1/running_share of them goes to the
    disposable hold agents (each task starts running and stays running); the others go to
    the persistent hold agents, whose main sessions take one task at a time, so all but the
    first task per agent stay queued. `texts`, when given, are the requests instead (the
    board section's mix of smaller fan-outs and chains).
    """
    requests = in_flight // PER_FILL_REQUEST
    running_requests = round(requests * running_share)
    # Spread the running kind evenly among the queued kind.
    plan = [
        "run"
        if (i * running_requests) // requests != ((i + 1) * running_requests) // requests
        else "queue"
        for i in range(requests)
    ]
    d_index = 0
    made: list[str] = []
    for kind in plan:
        if kind == "run":
            agents = [
                hold.disposable[(d_index + k) % len(hold.disposable)]
                for k in range(PER_FILL_REQUEST)
            ]
            d_index += PER_FILL_REQUEST
        else:
            agents = hold.persistent[:PER_FILL_REQUEST]
        made.append(fan_out(agents))
    wanted = texts if texts is not None else made

    started = time.monotonic()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(wanted)):
        queue.put_nowait(i)
    done = 0

    async def worker() -> None:
        nonlocal done
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            request = rig.request(wanted[i], user=f"UF{i % users}", channel=f"CF{i % 20}")
            await rig.dispatcher.receive(request)
            done += 1
            if on_progress is not None and done % 100 == 0:
                on_progress(done)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sent = time.monotonic()
    # Settled: every running task has heard back from its agent (it has a remote task id),
    # and nothing that could start (a disposable session) is still queued.
    while True:
        row = await rig.store.one(
            "SELECT (SELECT COUNT(*) FROM tasks WHERE state = 'running'"
            "        AND remote_task_id IS NULL)"
            " + (SELECT COUNT(*) FROM tasks WHERE state = 'queued'"
            "        AND session_kind = 'disposable') AS n"
        )
        if row is not None and row["n"] == 0:
            break
        if time.monotonic() - sent > 600:
            raise TimeoutError(f"in-flight fill did not settle: {await count_tasks(rig)}")
        await asyncio.sleep(0.1)
    boards_from = time.monotonic()
    # …and every status board has been redrawn since (the courier's board loop).
    while True:
        # (Boards of the in-memory platform only: Slack's board edits are budgeted at under
        # one per second, so a backlog of them can take many minutes to clear.)
        row = await rig.store.one(
            "SELECT COUNT(*) AS n FROM boards b JOIN requests r ON r.id = b.request_id"
            " WHERE b.version > b.shown AND b.ref IS NOT NULL AND r.platform = ?",
            (rig.adapter.platform,),
        )
        if row is not None and row["n"] == 0:
            break
        if time.monotonic() - sent > 900:
            raise TimeoutError("status boards did not settle after the in-flight fill")
        await asyncio.sleep(0.1)
    settled = time.monotonic()
    if steady:
        await until_zero(rig, "open_streams")
        await until_zero(rig, "follow_calls")
    states = await count_tasks(rig)
    return {
        "requests": len(wanted),
        "tasks": in_flight,
        "running_requests": running_requests if texts is None else None,
        "states": states,
        "receive_s": round(sent - started, 2),
        "settle_s": round(settled - started, 2),
        "boards_settle_s": round(settled - boards_from, 2),
        "steady_s": round(time.monotonic() - settled, 2) if steady else None,
    }


async def until_zero(rig: Rig, counter: str, timeout: float = 300.0) -> float:
    """Seconds until every backend's `counter` is 0: `open_streams` (running tasks have
    detached) or `follow_calls` (their follow-up calls are done)."""
    started = time.monotonic()
    backends = [rig.dispatcher.backend(agent) for agent in rig.dispatcher.fleet.all_agents]
    while sum(getattr(backend, counter, 0) for backend in backends):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"A2A {counter} still not 0 after {timeout:.0f}s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started
