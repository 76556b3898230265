"""Replicas end to end: several `dispatch serve --slack --http` processes sharing one real
PostgreSQL database, driven through signed Slack Events API requests, posting into a fake
Slack Web API, with real A2A agents on 127.0.0.1.

Each replica is a separate process, so a replica can die as a process dies (kill -9), and
every figure asserted is read from the shared database and from what the fake Slack got.
`SIGSTOP` holds a replica still for a moment, so that work deterministically lands on the
other one (the bound for taking a replica for dead is far longer than the pause).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from psycopg.rows import dict_row

from adapters.slack import SlackAdapter
from bot.demo.agent_server import AgentCall, AgentServer, Handler, Outcome, Reply, brief_task_line
from bot.settings import Settings
from tests.conftest import Harness, echo
from tests.fakes.slack import FakeSlack, app_mention, event_callback, signed_request
from tests.test_cli import cli_env, dispatch_argv, write_fleet

SECRET = "test-signing-secret"
FANOUT = "Launch prep: landing page copy, announcement tweets, and competitor research"
FANOUT_AGENTS = ("writer", "social", "research")
CHAIN = "Design the new logo, then use it on the landing page"
HANG = 90.0
"""A generous bound for anything that should happen: reached only when something hangs."""


# -- the agents ----------------------------------------------------------------------------------


@dataclass
class Agents:
    """Agents that answer '<id> did: <task line>', optionally held until released, and
    record every call and how many calls each was serving at once."""

    servers: dict[str, AgentServer] = field(default_factory=dict)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: Counter[str] = field(default_factory=Counter)
    most_at_once: Counter[str] = field(default_factory=Counter)
    calls: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0

    def handler(self, agent_id: str) -> Handler:
        async def handle(call: AgentCall) -> Outcome:
            self.calls.append((agent_id, call.text))
            self.in_flight[agent_id] += 1
            self.most_at_once[agent_id] = max(self.most_at_once[agent_id], self.in_flight[agent_id])
            try:
                await self.gate.wait()
                await asyncio.sleep(self.delay)
                return Reply(f"{agent_id} did: {brief_task_line(call.text)}")
            finally:
                self.in_flight[agent_id] -= 1

        return handle

    def called(self, agent_id: str) -> list[str]:
        return [text for who, text in self.calls if who == agent_id]


@pytest.fixture
async def agents() -> AsyncIterator[Agents]:
    made = Agents()
    made.gate.set()
    for agent_id in ("image", "designer", "writer", "social", "research"):
        server = AgentServer(agent_id, made.handler(agent_id))
        await server.start()
        made.servers[agent_id] = server
    yield made
    made.gate.set()
    for server in made.servers.values():
        await server.stop()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U1", name="alice", display_name="alice")
        yield fake


# -- the replicas --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop_briefly(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def go_on(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    async def kill(self) -> None:
        """Die as a process dies: no clean stop, nothing written."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()


class Cluster:
    """Replicas of one fleet on one database, started and restarted as processes."""

    def __init__(self, tmp: Path, db: str, fleet: Path, slack: FakeSlack, dead_after: float):
        self.tmp, self.db, self.fleet, self.slack = tmp, db, fleet, slack
        self.dead_after = dead_after
        self.replicas: list[Replica] = []

    def env(self) -> dict[str, str]:
        return {
            **cli_env(),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "DISPATCH_SLACK_API_URL": self.slack.api_url,
            "DISPATCH_STATE_DIR": str(self.tmp),
            "DISPATCH_REPLICA_DEAD_AFTER": str(self.dead_after),
            "DISPATCH_PLANNER": "rules",
            "DISPATCH_BOARD_INTERVAL": "0.2",
            "DISPATCH_LOG_LEVEL": "INFO",
            # one test user sends every request: the per-person limits are not what is tested
            "DISPATCH_MAX_IN_FLIGHT_PER_USER": "0",
            "DISPATCH_MAX_REQUESTS_PER_MINUTE": "0",
        }

    async def add(self) -> Replica:
        name = f"r{len(self.replicas)}"
        replica = Replica(name, free_port(), self.tmp / f"{name}.log")
        self.replicas.append(replica)
        await self.start(replica)
        return replica

    async def start(self, replica: Replica) -> None:
        args = ["serve", "--slack", "--http", "--host", "127.0.0.1", "--port", str(replica.port)]
        args += ["--fleet", str(self.fleet), "--db", self.db]
        with replica.log.open("a", encoding="utf-8") as log:
            replica.proc = await asyncio.create_subprocess_exec(
                *dispatch_argv(*args),
                cwd=self.tmp,
                env=self.env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + HANG
        while "dispatch: serving" not in replica.log.read_text("utf-8"):
            assert replica.proc.returncode is None, replica.log.read_text("utf-8")
            assert time.monotonic() < deadline, f"{replica.name} never started"
            await asyncio.sleep(0.05)

    async def post(self, replica: Replica, envelope: dict[str, Any]) -> int:
        body, headers = signed_request(SECRET, envelope)
        async with aiohttp.ClientSession() as session:
            async with session.post(replica.url, data=body, headers=headers) as response:
                await response.read()
                return response.status

    async def mention(self, replica: Replica, text: str, channel: str) -> str:
        """Ask in a new thread of `channel`; the thread's id."""
        event = app_mention(f"<@UBOT> {text}", channel=channel)
        assert await self.post(replica, event_callback(event)) == 200
        return str(event["ts"])

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(
            self.db, autocommit=True, row_factory=dict_row
        ) as conn:
            cursor = await conn.execute(sql, params)
            return list(await cursor.fetchall())

    async def replica_ids(self) -> dict[int, str]:
        """Each live process's replica id, by pid."""
        rows = await self.rows("SELECT id, pid FROM replicas ORDER BY started_at")
        return {row["pid"]: row["id"] for row in rows}

    async def until(
        self, check: Callable[[], Awaitable[Any]], what: str, timeout: float = HANG
    ) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := await check()):
            if time.monotonic() > deadline:
                state = await self.snapshot()
                pytest.fail(f"{what}: not within {timeout:g}s\n{state}\n{self.describe()}")
            await asyncio.sleep(0.05)
        return value

    async def quiet(self, requests: int) -> None:
        """Every request taken in, done, and every message of theirs sent."""

        async def done() -> bool:
            states = await self.rows("SELECT state FROM requests")
            pending = await self.rows("SELECT id FROM outbox WHERE state = 'pending'")
            return (
                len(states) >= requests
                and all(s["state"] == "done" for s in states)
                and (not pending)
            )

        await self.until(done, f"{requests} request(s) done and delivered")

    async def snapshot(self) -> str:
        """The shared state, for a failure's message."""
        parts = []
        for sql in (
            "SELECT id, pid, heartbeat_at, stopped_at FROM replicas",
            "SELECT id, channel, thread, state FROM requests",
            "SELECT id, request_id, agent, state, owner, remote_task_id FROM tasks ORDER BY seq",
            "SELECT id, request_id, kind, thread, state, attempts, last_error FROM outbox"
            " WHERE state != 'sent'",
            "SELECT * FROM thread_leases",
        ):
            parts += [sql, *map(str, await self.rows(sql))]
        return "\n".join(parts)

    def describe(self) -> str:
        logs = [f"--- {r.name} ---\n{_last_lines(r.log)}" for r in self.replicas]
        return "\n".join(logs)

    async def close(self) -> None:
        for replica in self.replicas:
            proc = replica.proc
            if proc is not None and proc.returncode is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


def _last_lines(log: Path) -> str:
    lines = [line for line in log.read_text("utf-8").splitlines() if "httpx" not in line]
    return "\n".join(lines[-40:])


ClusterFactory = Callable[..., Awaitable[Cluster]]


@pytest.fixture
async def cluster(
    tmp_path: Path, pg_url: str, agents: Agents, slack: FakeSlack
) -> AsyncIterator[ClusterFactory]:
    made: list[Cluster] = []

    async def make(replicas: int = 2, dead_after: float = 2.0) -> Cluster:
        fleet = write_fleet(tmp_path / "fleet.yaml", agents.servers)
        c = Cluster(tmp_path, pg_url, fleet, slack, dead_after)
        made.append(c)
        for _ in range(replicas):
            await c.add()
        return c

    yield make
    for c in made:
        await c.close()


# -- reading what Slack got ----------------------------------------------------------------------


def is_result(post: dict[str, Any]) -> bool:
    return bool(post.get("blocks")) and post["blocks"][0].get("type") == "markdown"


def result_text(post: dict[str, Any]) -> str:
    return str(post["blocks"][0]["text"])


def thread_posts(slack: FakeSlack, thread: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages if m.get("thread_ts") == thread]


def assert_thread_in_order(slack: FakeSlack, thread: str, results: int) -> list[str]:
    """The acknowledgement first, then `results` results, then the closing line; returns the
    results' texts."""
    posts = thread_posts(slack, thread)
    assert posts, f"nothing was posted in {thread}"
    kinds = [
        "result" if is_result(p) else "closing" if str(p["text"]).startswith("Done in") else "other"
        for p in posts
    ]
    assert kinds[0] == "other", posts  # the acknowledgement (the status board)
    assert kinds[1:] == ["result"] * results + ["closing"], [
        (p["text"][:60], (p.get("metadata") or {}).get("event_payload")) for p in posts
    ]
    return [result_text(p) for p in posts if is_result(p)]


def all_results(slack: FakeSlack) -> Counter[tuple[str, str]]:
    """How many times each result was posted into each thread."""
    return Counter((str(p["thread_ts"]), result_text(p)) for p in slack.messages if is_result(p))


# -- 1. work spread over replicas ----------------------------------------------------------------


async def test_a_fan_out_and_a_chain_run_on_different_replicas(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    c = await cluster(2, dead_after=5.0)
    a, b = c.replicas
    ids = await c.replica_ids()

    # The fan-out lands on A while B is held still; its agents hold their work meanwhile.
    agents.gate.clear()
    b.stop_briefly()
    fanout = await c.mention(a, FANOUT, "C1")
    await c.until(lambda: _owned(c, 3), "the fan-out's tasks started")
    b.go_on()
    # The chain lands on B while A is held still (A is idle: its agents are held).
    a.stop_briefly()
    chain = await c.mention(b, CHAIN, "C2")
    await c.until(lambda: _owned(c, 4), "the chain's first task started")
    a.go_on()
    agents.gate.set()
    await c.quiet(2)

    owners = await c.rows("SELECT agent, owner, state FROM tasks ORDER BY seq")
    assert [o["state"] for o in owners] == ["completed"] * 5
    by_agent = {o["agent"]: o["owner"] for o in owners}
    assert {by_agent[x] for x in FANOUT_AGENTS} == {ids[a.pid]}
    assert by_agent["image"] == ids[b.pid]
    assert set(by_agent.values()) == {ids[a.pid], ids[b.pid]}

    assert sorted(assert_thread_in_order(slack, fanout, 3)) == [
        "research did: competitor research",
        "social did: announcement tweets",
        "writer did: landing page copy",
    ]
    assert assert_thread_in_order(slack, chain, 2) == [
        "image did: Design the new logo",
        "designer did: use it on the landing page",
    ]
    assert all(n == 1 for n in all_results(slack).values()), all_results(slack)
    [designer_brief] = agents.called("designer")
    assert "image did: Design the new logo" in designer_brief
    assert len(agents.calls) == 5


async def _owned(c: Cluster, running: int) -> bool:
    rows = await c.rows(
        "SELECT id FROM tasks WHERE owner IS NOT NULL AND remote_task_id IS NOT NULL"
    )
    return len(rows) >= running


# -- 2. one event, two replicas ------------------------------------------------------------------


async def test_the_same_event_sent_to_two_replicas_is_handled_once(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    c = await cluster(2)
    a, b = c.replicas
    event = app_mention("<@UBOT> Writer: draft the FAQ", channel="C1")
    envelope = event_callback(event)
    statuses = await asyncio.gather(c.post(a, envelope), c.post(b, envelope))
    assert statuses == [200, 200]
    await c.quiet(1)
    await asyncio.sleep(0.5)  # room for a second handling to show itself, were there one

    assert len(await c.rows("SELECT id FROM requests")) == 1
    assert len(await c.rows("SELECT id FROM tasks")) == 1
    assert len(agents.calls) == 1
    assert assert_thread_in_order(slack, str(event["ts"]), 1) == ["writer did: draft the FAQ"]


# -- 3. order within each thread -----------------------------------------------------------------


async def test_each_thread_reads_ack_results_closing_across_replicas(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    c = await cluster(2)
    agents.delay = 0.05
    threads = await asyncio.gather(
        *(c.mention(c.replicas[i % 2], FANOUT if i % 2 else CHAIN, f"C{i}") for i in range(6))
    )
    await c.quiet(6)
    for i, thread in enumerate(threads):
        assert_thread_in_order(slack, thread, 3 if i % 2 else 2)
    assert all(n == 1 for n in all_results(slack).values()), all_results(slack)
    owners = {r["owner"] for r in await c.rows("SELECT owner FROM tasks")}
    assert len(owners) >= 1 and None not in owners


# -- 4. one task at a time per main session ------------------------------------------------------


async def test_a_main_session_runs_one_task_at_a_time_across_replicas(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    c = await cluster(2)
    agents.delay = 0.3
    asks = ["draft the FAQ", "draft the welcome email", "draft the pricing page"]
    threads = await asyncio.gather(
        *(c.mention(c.replicas[i % 2], f"Writer: {ask}", f"C{i}") for i, ask in enumerate(asks))
    )
    await c.quiet(len(asks))
    assert agents.most_at_once["writer"] == 1
    assert sorted(brief_task_line(t) for t in agents.called("writer")) == sorted(asks)
    for thread in threads:
        assert_thread_in_order(slack, thread, 1)
    assert all(n == 1 for n in all_results(slack).values()), all_results(slack)


# -- 5. a replica dies mid-work ------------------------------------------------------------------


async def test_a_killed_replicas_running_tasks_are_adopted_and_relayed_once(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    c = await cluster(2, dead_after=2.0)
    victim, survivor = c.replicas
    ids = await c.replica_ids()
    agents.gate.clear()
    survivor.stop_briefly()
    thread = await c.mention(victim, FANOUT, "C1")
    await c.until(lambda: _owned(c, 3), "the fan-out's tasks started")
    survivor.go_on()
    owned = await c.rows("SELECT id, owner FROM tasks")
    assert {o["owner"] for o in owned} == {ids[victim.pid]}

    await victim.kill()
    killed_at = time.monotonic()

    async def adopted() -> bool:
        rows = await c.rows("SELECT owner FROM tasks")
        return all(r["owner"] == ids[survivor.pid] for r in rows)

    await c.until(adopted, "the survivor adopted the tasks", timeout=c.dead_after + 5 + 10)
    adoption = time.monotonic() - killed_at
    agents.gate.set()
    await c.quiet(1)

    assert sorted(assert_thread_in_order(slack, thread, 3)) == [
        "research did: competitor research",
        "social did: announcement tweets",
        "writer did: landing page copy",
    ]
    assert all(n == 1 for n in all_results(slack).values()), all_results(slack)
    assert len(agents.calls) == 3, agents.calls  # followed, not sent again
    print(f"adopted {adoption:.2f}s after the kill (dead bound {c.dead_after:g}s)")


# -- 6. chaos --------------------------------------------------------------------------------------


async def test_chaos_kills_lose_and_repeat_no_result(
    cluster: ClusterFactory, agents: Agents, slack: FakeSlack
) -> None:
    rng = random.Random(16)
    # A bound a loaded CI machine does not mistake a stalled replica for a dead one within.
    c = await cluster(3, dead_after=4.0)
    agents.delay = 0.4
    asks: list[tuple[str, bool]] = []
    killed_at: list[float] = []

    async def send(n: int) -> None:
        for _ in range(n):
            chain = rng.random() < 0.5
            event = app_mention(f"<@UBOT> {CHAIN if chain else FANOUT}", channel=f"C{len(asks)}")
            envelope = event_callback(event)
            target = rng.choice(c.replicas)
            while True:  # as Slack does: the same event again until a replica takes it
                try:
                    if await c.post(target, envelope) == 200:
                        break
                except aiohttp.ClientConnectionError:
                    pass
                target = c.replicas[(c.replicas.index(target) + 1) % len(c.replicas)]
                await asyncio.sleep(0.1)
            asks.append((str(event["ts"]), chain))
            await asyncio.sleep(rng.uniform(0.05, 0.25))

    async def chaos(kills: int) -> None:
        for _ in range(kills):
            await asyncio.sleep(2.0)
            victim = rng.choice(c.replicas)
            await victim.kill()
            killed_at.append(time.monotonic())
            await asyncio.sleep(0.5)
            await c.start(victim)

    started = time.monotonic()
    # CI's size; the (200 requests, a kill every few seconds for a minute) with
    # DISPATCH_CHAOS_REQUESTS=200 DISPATCH_CHAOS_KILLS=24.
    requests = int(os.environ.get("DISPATCH_CHAOS_REQUESTS", "30"))
    kills = int(os.environ.get("DISPATCH_CHAOS_KILLS", "4"))
    await asyncio.gather(send(requests), chaos(kills))
    await c.quiet(len(asks))
    took = time.monotonic() - started

    results = all_results(slack)
    twice = [k for k, n in results.items() if n > 1]
    posted = [
        (round(call.at - started, 2), call.peer)
        for call in slack.calls_to("chat.postMessage")
        if (call.params.get("thread_ts"), str((call.params.get("blocks") or [{}])[0].get("text")))
        in twice
    ]
    assert not twice, (twice, posted, [round(k - started, 2) for k in killed_at])
    for thread, chain in asks:
        try:
            assert_thread_in_order(slack, thread, 2 if chain else 3)
        except AssertionError as exc:
            records = await c.rows(
                "SELECT o.id, o.kind, o.state, o.request_id, r.kind AS rkind, r.message_id,"
                " o.created_at, o.sent_at FROM outbox o JOIN requests r ON r.id = o.request_id"
                " WHERE r.thread = %s ORDER BY o.id",
                (thread,),
            )
            keys = {str(r["id"]) for r in records}
            where = [
                (m["channel"], m["thread_ts"], m["ts"], str(m["text"])[:30],
                 ((m.get("metadata") or {}).get("event_payload") or {}).get("key"),
                 len(m["updates"]))
                for m in slack.messages
                if ((m.get("metadata") or {}).get("event_payload") or {}).get("key") in keys
            ]  # fmt: skip
            boards = await c.rows(
                "SELECT b.* FROM boards b JOIN requests r ON r.id = b.request_id"
                " WHERE r.thread = %s",
                (thread,),
            )
            raise AssertionError(
                f"{exc}\nrecords: {records}\nposted: {where}\nboards: {boards}"
            ) from None
    designer_briefs = agents.called("designer")
    assert len(designer_briefs) >= sum(chain for _, chain in asks)
    assert all("image did: Design the new logo" in b for b in designer_briefs)
    tasks = await c.rows("SELECT state FROM tasks")
    assert {t["state"] for t in tasks} == {"completed"}
    repeats = len(agents.calls) - len(tasks)
    print(
        f"chaos: {len(asks)} requests, {len(tasks)} tasks, {repeats} repeated agent calls,"
        f" {took:.1f}s"
    )


# -- 7. a message taken in before its replica has started ------------------------------------------


async def test_an_ack_posted_before_its_replica_started_is_posted_once(
    tmp_path: Path, pg_url: str, slack: FakeSlack
) -> None:
    """A replica's adapters listen before its dispatcher starts, and a message taken in then
    has its acknowledgement posted at once, into its thread under the thread's lease. The
    other replicas must count that replica among the living by then: a lease held by a
    replica not on record is taken over as a dead one's, and the acknowledgement, posted but
    not yet recorded, is posted again."""

    def platform(s: Settings) -> SlackAdapter:
        return SlackAdapter(s, http=True, port=0, post_interval=0.02, update_rate=50)

    def replica() -> Harness:
        return Harness(
            pg_url,
            {"writer": echo("writer")},
            platform=platform,
            settings_overrides={
                "slack_bot_token": "xoxb-test",
                "slack_signing_secret": SECRET,
                "slack_api_url": slack.api_url,
                "planner": "rules",
            },
            state_dir=tmp_path,
        )

    running, starting = replica(), replica()
    await running.start_agents()
    await starting.start_agents()
    event = app_mention("<@UBOT> Writer: draft the FAQ", channel="C1")

    async def message_in_the_gap() -> None:
        # The acknowledgement's post reaches Slack and waits for its answer there: the
        # starting replica holds the thread meanwhile.
        held = slack.hold("chat.postMessage")
        adapter = starting.live[-1]
        assert isinstance(adapter, SlackAdapter)
        body, headers = signed_request(SECRET, event_callback(event))
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{adapter.bound_port}/slack/events"
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200
        await slack.wait_for(lambda: held.waiting)
        # The running replica's courier reads the outbox (as any wake-up makes it), finds
        # the acknowledgement pending and tries its thread: it must leave the thread to the
        # replica posting into it.
        assert running.dispatcher is not None
        courier = running.dispatcher.courier
        await courier._start_due()
        await asyncio.gather(*courier._delivering.values())
        held.release()

    starting.listening = message_in_the_gap
    try:
        await running.start()
        await starting.start()
        [ack] = await running.rows("SELECT id FROM outbox WHERE kind = 'ack'")
        thread = str(event["ts"])
        await slack.wait_for(lambda: [p for p in thread_posts(slack, thread) if is_result(p)])
        await running.idle()
        await starting.idle()
        keys = [(p.get("metadata") or {}).get("event_payload") for p in thread_posts(slack, thread)]
        assert keys.count({"key": str(ack["id"]), "part": 0}) == 1, keys
        assert assert_thread_in_order(slack, thread, 1) == ["writer did: draft the FAQ"]
    finally:
        await starting.close()
        await running.close()
