"""The product under test, wired as `dispatch serve` wires it, plus the bench's instruments.

A `Rig` is a real `Store` (SQLite file, WAL), a real `Dispatcher` with default settings and
its callback endpoint (A2A push notifications), wired by `bot.runtime.running_dispatcher`, the
in-memory adapter (and optionally the real Slack adapter in HTTP mode), and a fleet manifest
pointing at the sidecar's A2A agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.base import Adapter, DeliveryError
from adapters.memory import MemoryAdapter, Posted
from bench.sidecar import HOLD_FOREVER, AgentDef, read_sent_log, spec_for
from bot.dispatcher import Dispatcher
from bot.manifest import Fleet, fleet_from_data
from bot.models import Request
from bot.outbound import MessageRef, Outbound, Target
from bot.runtime import running_dispatcher
from bot.settings import Settings
from bot.store import Store

REPO = Path(__file__).resolve().parent.parent
SLACK_SECRET = "bench-signing-secret"

Listener = Callable[[Posted], None]


class BenchAdapter(MemoryAdapter):
    """`MemoryAdapter` that hands each post to listeners instead of keeping a growing list.

    Posts still get `Posted.at` (time.monotonic() at post time) from the memory adapter. Two
    bench-only changes keep the instrument out of the figures: posts are not retained (a list
    of tens of thousands of messages would slow the product's garbage collector), and board
    edits find their message in O(1) instead of scanning every post.
    """

    def __init__(self) -> None:
        super().__init__("memory")
        self.listeners: list[Listener] = []
        self._acks: set[str] = set()
        self.counts: dict[str, int] = {}

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        ref = await super().post(target, message)
        posted = self.posted.pop()
        if message.kind == "ack":
            self._acks.add(ref.id)
        self.counts[message.kind] = self.counts.get(message.kind, 0) + 1
        for listener in self.listeners:
            listener(posted)
        return ref

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        if ref.id not in self._acks:
            raise DeliveryError(f"no message {ref.id}", permanent=True)
        self.counts["board_update"] = self.counts.get("board_update", 0) + 1


@dataclass
class Sidecar:
    """The sidecar process (agents + fake Slack) and the URLs it serves."""

    process: asyncio.subprocess.Process
    urls: dict[str, str]
    slack: str | None
    sent_log: Path
    monitoring: str | None = None
    """The OTLP receiver and `/metrics` scraper (`bench.sidecar.Monitoring`), if asked for."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def sent_times(self) -> dict[float, float]:
        """Agent reply end stamp → when the reply first left the agent's server."""
        return read_sent_log(self.sent_log)


@contextlib.asynccontextmanager
async def sidecar(
    agents: Sequence[AgentDef], *, slack: bool = False, scrape_url: str | None = None
) -> AsyncIterator[Sidecar]:
    """Start `python -m bench.sidecar` and stop it afterwards (closing its stdin).

    `scrape_url`: also play monitoring (an OTLP receiver, and a scraper of that URL)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    fd, sent_name = tempfile.mkstemp(prefix="bench-sent-", suffix=".log")
    os.close(fd)
    sent_log = Path(sent_name)
    spec = spec_for(
        list(agents),
        slack=slack,
        sent_log=sent_log,
        monitoring=scrape_url is not None,
        scrape_url=scrape_url,
    )
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.sidecar", spec,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO, env=env,
            limit=16 * 1024**2,
        )  # fmt: skip
        assert process.stdout is not None and process.stdin is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            if not line:
                raise RuntimeError("the bench sidecar exited before it was ready")
            ready = json.loads(line)
            yield Sidecar(process, ready["agents"], ready["slack"], sent_log, ready["monitoring"])
        finally:
            with contextlib.suppress(Exception):
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    finally:
        sent_log.unlink(missing_ok=True)  # once the sidecar, which writes it, has exited


def fleet_for(agents: Sequence[AgentDef], urls: dict[str, str], catch_all: AgentDef) -> Fleet:
    """A manifest naming each bench agent with one skill word of its own."""
    data = {
        "version": 1,
        "agents": [
            {
                "id": agent.id,
                "name": f"Bench {agent.id}",
                "emoji": "🤖",
                "description": "Bench agent.",
                "skills": [agent.skill],
                "session": agent.session,
                "backend": {"kind": "a2a", "url": urls[agent.id]},
                "timeout": "48h" if agent.delay >= HOLD_FOREVER else "1h",
            }
            for agent in agents
            if agent.id != catch_all.id
        ],
        "catch_all": {"backend": {"kind": "a2a", "url": urls[catch_all.id]}, "timeout": "1h"},
    }
    return fleet_from_data(data, source="bench fleet")


def fan_out(agents: Sequence[AgentDef]) -> str:
    """Text the rule planner turns into one task per agent, all in parallel."""
    return ", ".join(f"{a.skill} task" for a in agents)


def chain(agents: Sequence[AgentDef]) -> str:
    """Text the rule planner turns into a chain, one step per agent."""
    return ", then ".join(f"{a.skill} task" for a in agents)


@dataclass
class Rig:
    """A started dispatcher with the bench adapter (and Slack, if asked for)."""

    dispatcher: Dispatcher
    store: Store
    adapter: BenchAdapter
    slack: Any = None
    """adapters.slack.SlackAdapter in HTTP mode, when the rig was built with Slack."""
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def request(
        self, text: str, *, user: str = "U1", channel: str = "C1", thread: str | None = None
    ) -> Request:
        """A new message as the in-memory platform would hand it to the core."""
        return self.adapter.message(
            text, user=user, channel=channel, thread=thread, message_id=f"m{next(self._ids)}"
        )


@contextlib.asynccontextmanager
async def rig(
    db: Path | str,
    fleet: Fleet,
    *,
    slack_api: str | None = None,
    slack_post_interval: float = 1.0,
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[Rig]:
    """Open the store, start the callback endpoint, adapters and the dispatcher with
    `bot.runtime.running_dispatcher`, as `dispatch serve` does; stop after.

    Slack's per-channel pacing stays at the product's default (1 s) unless told otherwise.
    """
    # The bench measures throughput and 100-task fan-outs: the per-user limits and the
    # per-message task cap would refuse its load.
    options: dict[str, Any] = {
        "db": db, "max_in_flight_per_user": 0, "max_requests_per_minute": 0, "max_tasks": 100,
        **(settings or {}),
    }  # fmt: skip
    if slack_api:
        options.update(
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SLACK_SECRET,
            slack_api_url=slack_api + "/api/",
        )
    config = Settings(**options)
    adapter = BenchAdapter()
    adapters: dict[str, Adapter] = {adapter.platform: adapter}
    slack = None
    if slack_api:
        from adapters.slack import SlackAdapter

        slack = SlackAdapter(
            config, http=True, host="127.0.0.1", port=0, post_interval=slack_post_interval
        )
        adapters[slack.platform] = slack
    async with running_dispatcher(config, fleet, adapters.values()) as dispatcher:
        yield Rig(dispatcher, dispatcher.store, adapter, slack)


async def until_settled(
    r: Rig, *, outbox_where: str = "", tasks_where: str = "", timeout: float, what: str
) -> None:
    """Poll until no message is pending and no task is active (each narrowed by a fixed SQL
    condition from the bench's own code); raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await r.store.one(
            f"SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending'{outbox_where})"  # noqa: S608
            " + (SELECT COUNT(*) FROM tasks WHERE state IN ('waiting','queued','running')"
            f"{tasks_where}) AS n"
        )
        if row is not None and row["n"] == 0:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(what)


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 5 ms; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.005)


def rss_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in KiB, from /proc/self/status."""
    out: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (default: this one), from /proc."""
    path = f"/proc/{pid}/stat" if pid else "/proc/self/stat"
    with open(path, encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@contextlib.asynccontextmanager
async def workdir() -> AsyncIterator[Path]:
    """A temporary directory for one section's database, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as path:
        yield Path(path)
