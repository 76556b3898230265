"""Shared test harness: real A2A agents on 127.0.0.1, a real SQLite file, the real dispatcher.

The only stand-in is the chat platform, played by `adapters.memory.MemoryAdapter`.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from adapters.memory import MemoryAdapter
from bot.callbacks import CallbackServer
from bot.demo.agent_server import AgentCall, AgentServer, Ask, Fail, Handler, Outcome, Reply
from bot.demo.fleet import demo_data
from bot.dispatcher import Dispatcher
from bot.manifest import Fleet, fleet_from_data
from bot.models import Request
from bot.runtime import Service, wire
from bot.settings import PROJECT_ROOT, Settings
from bot.store import Store
from bot.telemetry import Telemetry
from tests.pgserver import PostgresServer, PostgresUnavailable

__all__ = ["AgentCall", "Ask", "Fail", "Harness", "Reply", "echo", "gated", "slow"]

DEMO_IDS = ["dev", "designer", "image", "writer", "social", "research", "subagent"]


def echo(label: str, delay: float = 0.0) -> Handler:
    """Reply '<label> did: <task line>' after `delay` seconds."""

    async def handle(call: AgentCall) -> Outcome:
        await asyncio.sleep(delay)
        task = next(
            (line[6:] for line in call.text.splitlines() if line.startswith("Task: ")), call.text
        )
        return Reply(f"{label} did: {task}")

    return handle


def gated(label: str, release: asyncio.Event) -> Handler:
    """Reply as `echo(label)` does once the test sets `release`: the test, not a duration,
    decides when the work ends, so what it looks at meanwhile is still in flight."""
    reply = echo(label)

    async def handle(call: AgentCall) -> Outcome:
        await release.wait()
        return await reply(call)

    return handle


def slow(delay: float, outcome: Outcome) -> Handler:
    async def handle(call: AgentCall) -> Outcome:
        await asyncio.sleep(delay)
        return outcome

    return handle


@dataclass
class Harness:
    path: Path | str
    """The database: a SQLite file, or a PostgreSQL URL."""
    handlers: dict[str, Handler]
    timeouts: dict[str, float] = field(default_factory=dict)
    servers: dict[str, AgentServer] = field(default_factory=dict)
    started_at: dict[str, list[float]] = field(default_factory=dict)
    finished_at: dict[str, list[float]] = field(default_factory=dict)
    """When each agent's handler returned: with `started_at`, the order of the work."""
    adapter: MemoryAdapter = field(default_factory=MemoryAdapter)
    dispatcher: Dispatcher | None = None
    store: Store | None = None
    fleet: Fleet | None = None
    settings: Settings | None = None
    platform: Callable[[Settings], Adapter] | None = None
    """Builds a real platform adapter (Slack, Discord) for each start, as a new process would."""
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)
    """Added to every agent's `backend:` block (e.g. a short A2A `detach_after`)."""
    server_options: dict[str, Any] = field(default_factory=dict)
    """`AgentServer` options for every agent (e.g. `push_notifications=False`)."""
    agent_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Manifest fields per agent id (e.g. `{"dev": {"session_scope": "user"}}`)."""
    live: list[Adapter] = field(default_factory=list)
    callbacks: CallbackServer | None = None
    """The callback endpoint, wired as `bot.runtime` wires it."""
    service: Service | None = None
    state_dir: Path = Path(".")
    """Files kept beside a PostgreSQL database (a SQLite file keeps them beside itself)."""
    listening: Callable[[], Awaitable[None]] | None = None
    """Runs once the adapters listen and before the dispatcher starts, as `bot.runtime`
    orders them: messages can arrive in that gap."""
    telemetry: Telemetry | None = None
    """Metrics and traces of the test's own making (e.g. an in-memory span exporter);
    otherwise the settings decide."""

    async def start_agents(self) -> None:
        for agent_id, handler in self.handlers.items():
            server = AgentServer(agent_id, self._timed(agent_id, handler), **self.server_options)
            await server.start()
            self.servers[agent_id] = server
        data = copy.deepcopy(demo_data())
        for entry in [*data["agents"], data["catch_all"]]:
            agent_id = entry.get("id", "subagent")
            server = self.servers.get(agent_id)
            entry["backend"] = {
                "kind": "a2a",
                "url": server.url if server else "http://127.0.0.1:9",
                **self.backend_options,
            }
            entry["timeout"] = self.timeouts.get(agent_id, 30)
            entry.update(self.agent_options.get(agent_id, {}))
        self.fleet = fleet_from_data(data)

    def _timed(self, agent_id: str, handler: Handler) -> Handler:
        async def handle(call: AgentCall) -> Outcome:
            self.started_at.setdefault(agent_id, []).append(time.monotonic())
            try:
                return await handler(call)
            finally:
                self.finished_at.setdefault(agent_id, []).append(time.monotonic())

        return handle

    async def start(self) -> Dispatcher:
        """Wire and start the dispatcher as `dispatch serve` does (`bot.runtime.wire`), with
        the `listening` hook between the adapters starting and the dispatcher."""
        assert self.fleet is not None
        defaults: dict[str, Any] = {
            "db": self.path,
            "board_interval": 0.05,
            "soul": PROJECT_ROOT / "SOUL.md",
            "state_dir": self.state_dir,
            # A planning process per dispatcher would start hundreds of model loads in the
            # suite; tests/test_plan_process.py turns it on.
            "plan_process": False,
        }
        self.settings = Settings(**{**defaults, **self.settings_overrides})
        self.adapter = MemoryAdapter() if self.dispatcher is None else self.adapter
        self.live = [self.adapter]
        if self.platform is not None:
            self.live.append(self.platform(self.settings))
        self.service = service = await wire(
            self.settings, self.fleet, self.live, telemetry=self.telemetry
        )
        self.store, self.dispatcher = service.store, service.dispatcher
        self.callbacks = service.callbacks
        await service.listen()
        if self.listening is not None:
            await self.listening()
        await service.dispatcher.start()
        return service.dispatcher

    async def crash(self) -> None:
        """Stop the dispatcher without any state change, as a killed process would."""
        assert self.service is not None
        await self.service.stop()

    async def restart(self, adapter: MemoryAdapter | None = None) -> Dispatcher:
        await self.crash()
        if adapter is not None:
            self.adapter = adapter
        return await self.start()

    async def say(self, text: str, **kwargs: Any) -> Request:
        return await self.adapter.send(text, **kwargs)

    async def idle(self, timeout: float = 15.0) -> None:
        assert self.dispatcher is not None
        await self.dispatcher.idle(timeout)

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        assert self.store is not None
        return [dict(row) for row in await self.store.all(sql, params)]

    async def close(self) -> None:
        if self.service is not None:
            await self.service.stop()


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
def store_kind() -> str:
    """Which store a test's dispatcher uses; the dispatcher's own test modules run on both
    (they override this fixture with `both_stores`)."""
    return "sqlite"


@pytest.fixture
def new_db(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """`new_db(name)` → a fresh database of the test's store kind: a SQLite file in the
    test's folder, or a new database on the session's PostgreSQL server."""

    def make(name: str) -> str:
        if store_kind == "postgres":
            server: PostgresServer = request.getfixturevalue("postgres_server")
            return server.create_database()
        return str(tmp_path / f"{name}.db")

    return make


both_stores = pytest.fixture(params=["sqlite", "postgres"])(lambda request: request.param)
"""`store_kind = both_stores` in a test module runs its tests on SQLite and on PostgreSQL."""


@pytest.fixture
async def harness(tmp_path: Path, new_db: Callable[[str], str]) -> AsyncIterator[HarnessFactory]:
    """`await harness({"image": handler, ...}, timeouts={...})` → a started Harness.

    `backend={...}` adds options to every agent's backend block, `server={...}` to every
    AgentServer, `agents={id: {...}}` manifest fields to one agent, `telemetry=` metrics and
    traces of the test's making."""
    made: list[Harness] = []

    async def make(
        handlers: dict[str, Handler],
        *,
        timeouts: dict[str, float] | None = None,
        platform: Callable[[Settings], Adapter] | None = None,
        settings: dict[str, Any] | None = None,
        backend: dict[str, Any] | None = None,
        server: dict[str, Any] | None = None,
        agents: dict[str, dict[str, Any]] | None = None,
        telemetry: Telemetry | None = None,
    ) -> Harness:
        h = Harness(
            new_db(f"dispatch-{len(made)}"),
            handlers,
            timeouts or {},
            platform=platform,
            settings_overrides=settings or {},
            backend_options=backend or {},
            server_options=server or {},
            agent_options=agents or {},
            state_dir=tmp_path,
            telemetry=telemetry,
        )
        made.append(h)
        await h.start_agents()
        await h.start()
        return h

    yield make
    for h in made:
        await h.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session, started only when a test asks for it.

    Without the binaries a test is skipped on a developer's machine, but fails in CI, where
    .ci/run installs them: the PostgreSQL tests must never silently not run there."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set, so PostgreSQL tests may not skip: {exc}", pytrace=False)
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """A fresh database of the session's server, this test's alone: its URL."""
    return postgres_server.create_database()
