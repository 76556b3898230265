"""Replicas sharing a PostgreSQL database elect one Discord gateway holder: two real
Services (`bot.runtime.wire`, real DiscordAdapters) against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.discord import DiscordAdapter
from bot.runtime import Service
from bot.settings import Settings
from tests.conftest import Harness, echo
from tests.fakes.discord import FakeDiscord, GatewaySession, StoredMessage


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


def discord_of(h: Harness) -> DiscordAdapter:
    return next(a for a in h.live if isinstance(a, DiscordAdapter))


def connected(fake: FakeDiscord) -> list[GatewaySession]:
    return [s for s in fake.sessions if s.connected]


def gateway_holder(replicas: list[Harness]) -> Harness | None:
    holders = [h for h in replicas if discord_of(h)._runner is not None]
    assert len(holders) <= 1, "two replicas hold the gateway"
    return holders[0] if holders else None


async def until(predicate: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def settled(replicas: list[Harness], requests: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(await replicas[0].rows("SELECT id FROM requests")) < requests:
        assert loop.time() < deadline, "requests never arrived"
        await asyncio.sleep(0.02)
    for h in replicas:
        await h.idle(20)


def bot_posts(fake: FakeDiscord, thread: int) -> list[StoredMessage]:
    return [m for m in fake.messages if m.channel_id == thread]


@pytest.fixture
async def replicas(
    pg_url: str, discord_fake: FakeDiscord, tmp_path: Path
) -> AsyncIterator[list[Harness]]:
    def platform(s: Settings) -> DiscordAdapter:
        return DiscordAdapter(s, guild_ready_timeout=0.05)

    settings = {
        "discord_token": "fake-token",
        "discord_api_url": discord_fake.rest_base,
        "discord_gateway_url": discord_fake.gateway_url,
        "replica_dead_after": 2.0,
    }
    handlers = {"writer": echo("writer"), "social": echo("social")}
    made: list[Harness] = []
    try:
        for _ in range(2):
            h = Harness(
                pg_url,
                handlers,
                platform=platform,
                settings_overrides=settings,
                state_dir=tmp_path,
            )
            made.append(h)
            if made[0].fleet is None:
                await h.start_agents()
            else:  # the same agents, as replicas of one deployment share a fleet
                h.fleet, h.servers = made[0].fleet, made[0].servers
            await h.start()
        yield made
    finally:
        for h in reversed(made):
            await h.close()
        for server in made[0].servers.values() if made else ():
            await server.stop()


async def test_one_replica_holds_the_gateway_and_another_takes_over_when_it_dies(
    replicas: list[Harness], discord_fake: FakeDiscord, pg_url: str
) -> None:
    fake = discord_fake
    services: list[Service] = [h.service for h in replicas if h.service is not None]
    assert len(services) == 2 and all(len(s.elections) == 1 for s in services)
    # Both campaign (each has tried the lock on its own connection); one has connected.
    await until(lambda: gateway_holder(replicas) is not None and len(connected(fake)) == 1)
    await until(lambda: all(s.elections[0][0]._conn is not None for s in services))
    holder = gateway_holder(replicas)
    assert holder is not None
    other = next(h for h in replicas if h is not holder)
    first_session = connected(fake)[0]
    assert len(fake.sessions) == 1, "only the holder ever opened the gateway"

    mention = await fake.message_create(f"{fake.mention('bot')} Writer: draft the FAQ")
    await settled(replicas, 1)
    first = bot_posts(fake, int(mention["id"]))
    assert [m.content for m in first if m.via == "webhook"] == ["writer did: draft the FAQ"]

    # The holder's lock connection dies (as with a dead process): the lock goes with it.
    assert holder.service is not None
    election = holder.service.elections[0][0]
    assert election._conn is not None
    pid = election._conn.info.backend_pid
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    await until(lambda: gateway_holder(replicas) is other)
    await until(lambda: connected(fake) and first_session not in connected(fake))
    assert len(connected(fake)) == 1 and len(fake.sessions) == 2

    mention2 = await fake.message_create(f"{fake.mention('bot')} Social: announce the launch")
    await settled(replicas, 2)
    second = bot_posts(fake, int(mention2["id"]))
    assert [m.content for m in second if m.via == "webhook"] == ["social did: announce the launch"]
    rows = await other.rows("SELECT id FROM requests")
    assert len(rows) == 2

    # Nothing was posted twice: each bot or agent message appears once per thread.
    for thread in (int(mention["id"]), int(mention2["id"])):
        seen = Counter(m.content for m in bot_posts(fake, thread))
        assert all(count == 1 for count in seen.values()), seen
    # The first holder campaigns again and waits: it does not reconnect.
    assert gateway_holder(replicas) is other and len(fake.sessions) == 2
