"""Roster discovery: Agent Cards fill the roster; an agent that stops answering is skipped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.memory import MemoryAdapter
from bot.backends.base import without_endpoints
from bot.demo.agent_server import AgentServer
from bot.discovery import (
    MAX_DESCRIPTION,
    MAX_EXAMPLE,
    MAX_EXAMPLES,
    MAX_PHRASE,
    MAX_SKILLS,
    MAX_TAGS,
    allowed_name,
    reserved_names,
)
from bot.dispatcher import Dispatcher
from bot.llm.prompt import user_prompt
from bot.manifest import fleet_from_data
from bot.planner import ThreadContext
from bot.runtime import running_dispatcher
from bot.settings import Settings
from tests.conftest import echo

A2A = {"kind": "a2a", "url": "http://127.0.0.1:9"}


def manifest(agents: list[dict[str, Any]], catch_all: str) -> Any:
    return fleet_from_data(
        {"agents": agents, "catch_all": {"backend": {"kind": "a2a", "url": catch_all}}}
    )


@contextlib.asynccontextmanager
async def running(tmp_path: Path, fleet: Any) -> AsyncIterator[tuple[Dispatcher, MemoryAdapter]]:
    chat = MemoryAdapter()
    settings = Settings(db=tmp_path / "d.db", board_interval=0.05)
    async with running_dispatcher(settings, fleet, [chat]) as dispatcher:
        yield dispatcher, chat


async def test_the_agent_card_fills_what_the_manifest_leaves_out(tmp_path: Path) -> None:
    skills = [
        {
            "name": "Kubernetes",
            "description": "Keeps the servers up: outages, restarts and running out of disk.",
            "tags": ["helm charts", "cluster upgrades"],
            "examples": ["upgrade the staging cluster"],
        },
        {"name": "Certificates", "description": "certificates"},  # adds nothing to the name
    ]
    async with (
        AgentServer(
            "Ops Bot", echo("ops"), description="Runs the infrastructure.", skills=skills
        ) as ops,
        AgentServer("sub", echo("sub")) as sub,
    ):
        fleet = manifest([{"id": "ops", "backend": {"kind": "a2a", "url": ops.url}}], sub.url)
        async with running(tmp_path, fleet) as (dispatcher, chat):
            agent = dispatcher.fleet.agent("ops")
            assert (agent.name, agent.description) == ("Ops Bot", "Runs the infrastructure.")
            assert {"Kubernetes", "helm charts", "cluster upgrades"} <= set(agent.skills)
            assert agent.examples == [
                "Keeps the servers up: outages, restarts and running out of disk.",
                "upgrade the staging cluster",
            ]
            # The planner routes on what the card says, its skills' descriptions included.
            await chat.send("write helm charts for the billing service")
            await chat.send("restarts keep happening since friday")  # only the description says so
            await dispatcher.idle(10)
            assert len(ops.calls) == 2 and not sub.calls
            cached = await dispatcher.store.all("SELECT agent, available FROM agent_cards")
            assert [dict(r) for r in cached] == [{"agent": "ops", "available": 1}]


async def test_an_unavailable_agent_is_marked_skipped_and_the_user_is_told(tmp_path: Path) -> None:
    async with (
        AgentServer("Writer", echo("writer")) as writer,
        AgentServer("sub", echo("sub")) as sub,
    ):
        dev = AgentServer("Dev", echo("dev"))
        await dev.start()
        dev_url = dev.url
        await dev.stop()  # Dev is down
        fleet = manifest(
            [
                {
                    "id": "dev",
                    "name": "Dev",
                    "emoji": "💻",
                    "skills": ["bug fixes", "code"],
                    "backend": {"kind": "a2a", "url": dev_url},
                },
                {
                    "id": "writer",
                    "name": "Writer",
                    "skills": ["blog post"],
                    "backend": {"kind": "a2a", "url": writer.url},
                },
            ],
            sub.url,
        )
        async with running(tmp_path, fleet) as (dispatcher, chat):
            assert "dev" in dispatcher.unavailable
            await chat.send("agents")
            await chat.send("Dev — fix the login bug")
            await dispatcher.idle(10)
            roster = chat.of_kind("roster")[0].text
            assert roster.startswith("2 agents on call (1 available):")
            assert "💻 Dev" in roster and "Unavailable right now: unreachable" in roster
            ack = chat.of_kind("ack")[0].text
            assert ack.startswith("💻 Dev is unavailable right now (unreachable")
            assert "disposable 🧪 Sub-agent" in ack
            assert len(sub.calls) == 1

            # Dev comes back; the next probe marks it available again.
            revived = AgentServer("Dev", echo("dev"))
            await revived.start(port=int(dev_url.rsplit(":", 1)[1]))
            try:
                await dispatcher.refresh_roster()
                assert "dev" not in dispatcher.unavailable
                await chat.send("Dev — fix the login bug again")
                await dispatcher.idle(10)
                assert len(revived.calls) == 1
            finally:
                await revived.stop()


async def test_a_cached_card_keeps_the_roster_when_an_agent_is_down_at_start(
    tmp_path: Path,
) -> None:
    async with AgentServer("sub", echo("sub")) as sub:
        ops = AgentServer("Ops Bot", echo("ops"), description="Runs the infrastructure.")
        await ops.start()
        fleet = manifest([{"id": "ops", "backend": {"kind": "a2a", "url": ops.url}}], sub.url)
        async with running(tmp_path, fleet) as (dispatcher, _):
            assert dispatcher.fleet.agent("ops").name == "Ops Bot"
        await ops.stop()
        async with running(tmp_path, fleet) as (dispatcher, _):
            assert dispatcher.fleet.agent("ops").name == "Ops Bot"  # from the SQLite cache
            assert dispatcher.unavailable["ops"].startswith("unreachable")


async def test_an_agent_that_stops_answering_mid_run_is_marked_unavailable(tmp_path: Path) -> None:
    async with AgentServer("sub", echo("sub")) as sub:
        writer = AgentServer("Writer", echo("writer"))
        await writer.start()
        fleet = manifest(
            [
                {
                    "id": "writer",
                    "name": "Writer",
                    "skills": ["newsletter"],
                    "backend": {"kind": "a2a", "url": writer.url},
                }
            ],
            sub.url,
        )
        async with running(tmp_path, fleet) as (dispatcher, chat):
            assert dispatcher.unavailable == {}
            await writer.stop()
            await chat.send("Writer: draft the newsletter")
            await dispatcher.idle(10)
            assert "unreachable" in chat.of_kind("notice")[0].text
            assert "writer" in dispatcher.unavailable
            await chat.send("what's in flight?")
            await dispatcher.idle(10)


async def test_agent_addresses_stay_out_of_chat_and_the_planners_prompt(tmp_path: Path) -> None:
    """An agent's URL is the operator's business: failures, the roster and the reasons given
    to the planner's model say what went wrong without it (the log keeps it)."""
    async with AgentServer("sub", echo("sub")) as sub:
        writer = AgentServer("Writer", echo("writer"))
        await writer.start()
        host_port = writer.url.split("://", 1)[1]
        fleet = manifest(
            [
                {
                    "id": "writer",
                    "name": "Writer",
                    "skills": ["newsletter"],
                    "backend": {"kind": "a2a", "url": writer.url},
                }
            ],
            sub.url,
        )
        async with running(tmp_path, fleet) as (dispatcher, chat):
            await writer.stop()
            await chat.send("Writer: draft the newsletter")
            await dispatcher.idle(10)
            await chat.send("agents")
            await dispatcher.idle(10)
            said = [p.message.text for p in chat.posted]
            reason = dispatcher.unavailable["writer"]
            prompt = user_prompt(
                "draft the newsletter",
                dispatcher.fleet,
                context=ThreadContext(),
                unavailable=dispatcher.unavailable,
            )
    assert "unreachable" in chat.of_kind("notice")[0].text
    assert "unreachable" in reason and "Unavailable right now" in chat.of_kind("roster")[0].text
    for text in [*said, reason, prompt]:
        assert host_port not in text and "127.0.0.1" not in text


def test_endpoints_are_taken_out_of_error_texts() -> None:
    text = (
        "Cannot connect to host gw.example.com:18789 ssl:default; gateway"
        " wss://gw.example.com/ws refused; tried 10.0.0.7:8080 and [::1]:80"
    )
    cleaned = without_endpoints(text)
    assert "example.com" not in cleaned and "10.0.0.7" not in cleaned and "::1" not in cleaned
    assert cleaned.startswith("Cannot connect to host <endpoint> ssl:default; gateway <endpoint>")
    assert without_endpoints("HTTP 500: database down at 12:30") == (
        "HTTP 500: database down at 12:30"
    )


async def test_an_agent_card_adds_only_so_much_and_no_reserved_name(tmp_path: Path) -> None:
    """A card that names itself Dispatch, or another agent, and lists every skill there is,
    gets a bounded say: its own id for a name, capped skills, examples and lengths."""
    skills = [
        {
            "name": f"skill {i}",
            "tags": [f"tag {i}-{j}" for j in range(30)] + ["Writer", "dispatch"],
            "examples": [f"example {i}-{j} " + "x" * 500 for j in range(30)],
        }
        for i in range(60)
    ]
    async with (
        AgentServer("Dispatch", echo("greedy"), description="d" * 5000, skills=skills) as greedy,
        AgentServer("Writer", echo("copycat")) as copycat,
        AgentServer("sub", echo("sub")) as sub,
    ):
        fleet = manifest(
            [
                {"id": "greedy", "backend": {"kind": "a2a", "url": greedy.url}},
                {"id": "copycat", "backend": {"kind": "a2a", "url": copycat.url}},
                {"id": "writer", "name": "Writer", "backend": {"kind": "a2a", "url": sub.url}},
            ],
            sub.url,
        )
        async with running(tmp_path, fleet) as (dispatcher, _):
            agent = dispatcher.fleet.agent("greedy")
            copy = dispatcher.fleet.agent("copycat")
    assert agent.name == "Greedy" and copy.name == "Copycat"  # the id's, not the card's
    assert len(agent.description) == MAX_DESCRIPTION
    assert len(agent.skills) == MAX_SKILLS * (1 + MAX_TAGS)
    assert {"Writer", "dispatch"} & set(agent.skills) == set()
    assert all(len(s) <= MAX_PHRASE for s in agent.skills)
    assert len(agent.examples) == MAX_SKILLS * MAX_EXAMPLES
    assert all(len(e) <= MAX_EXAMPLE for e in agent.examples)


def test_reserved_names_ignore_case_and_punctuation() -> None:
    fleet = manifest(
        [{"id": "dev", "name": "Dev Bot", "aliases": ["coder"], "backend": A2A}], "http://x:1"
    )
    reserved = reserved_names(fleet)
    assert not allowed_name("dev-bot", reserved) and not allowed_name("CODER!", reserved)
    assert not allowed_name("The Dispatcher", reserved) and not allowed_name("Sub-agent", reserved)
    assert allowed_name("Designer", reserved)
