"""The demo fleet: real A2A agents on 127.0.0.1 that return clearly labelled demo results."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from bot.manifest import Fleet, fleet_from_data

DEMO_MANIFEST = Path(__file__).with_name("fleet.yaml")

# Seconds each demo agent "works" before answering (divided by --speed).
DEMO_DELAYS = {
    "dev": 4.0,
    "designer": 3.0,
    "image": 3.0,
    "writer": 2.5,
    "social": 2.0,
    "research": 3.5,
    "subagent": 2.0,
}


def demo_data() -> dict[str, Any]:
    data = yaml.safe_load(DEMO_MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def demo_fleet() -> Fleet:
    """The demo roster with its placeholder URLs, for planning without running agents."""
    return fleet_from_data(demo_data(), source=str(DEMO_MANIFEST))


@contextlib.asynccontextmanager
async def running_demo_fleet(speed: float = 1.0) -> AsyncIterator[Fleet]:
    """Start one local A2A server per demo agent and yield the fleet pointing at them."""
    from bot.demo.agent_server import AgentServer, demo_handler  # the A2A server: only here

    data = demo_data()
    servers: list[AgentServer] = []
    # The SDK's server warns when work is cut short by a stop (Ctrl-C): inside the demo these
    # agents are ours, and that is not news to the person at the terminal.
    sdk_log = logging.getLogger("a2a.server")
    level = sdk_log.level
    sdk_log.setLevel(max(level, logging.ERROR))
    try:
        entries = [*data["agents"], data["catch_all"]]
        for entry in entries:
            delay = DEMO_DELAYS.get(entry.get("id", "subagent"), 2.0) / max(speed, 0.01)
            server = AgentServer(
                entry["name"],
                demo_handler(f"{entry['emoji']} {entry['name']}", delay),
                description=entry.get("description", ""),
                skills=[{"name": skill, "tags": [skill]} for skill in entry.get("skills", [])],
            )
            await server.start()
            servers.append(server)
            entry["backend"] = {"kind": "a2a", "url": server.url}
        yield fleet_from_data(data, source="demo fleet")
    finally:
        for server in servers:
            await server.stop()
        sdk_log.setLevel(level)
