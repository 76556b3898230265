"""Every backend through the real dispatcher: sessions, discovery and cancellation end to end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.memory import MemoryAdapter
from bot.dispatcher import Dispatcher
from bot.manifest import fleet_from_data
from bot.runtime import running_dispatcher
from bot.settings import Settings
from tests.fakes.openclaw import FakeOpenClaw

UNREACHABLE = {"backend": {"kind": "a2a", "url": "http://127.0.0.1:9"}}


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, data: dict[str, Any]
) -> AsyncIterator[tuple[Dispatcher, MemoryAdapter]]:
    chat = MemoryAdapter()
    settings = Settings(db=tmp_path / "d.db", board_interval=0.05)
    async with running_dispatcher(settings, fleet_from_data(data), [chat]) as dispatcher:
        yield dispatcher, chat


CLI = """
import json, pathlib, sys
brief = sys.stdin.read()
args = sys.argv[1:]
state = pathlib.Path(sys.argv[0]).with_name("sessions")
state.mkdir(exist_ok=True)
if args and args[0] == "--resume":
    session = args[1]
    seen = (state / session).read_text().count("\\n")
else:
    session = "s-%d" % len(list(state.iterdir()))
    seen = 0
with open(state / session, "a") as f:
    f.write(brief.splitlines()[0] + "\\n")
print(json.dumps({"session_id": session, "result": f"{brief.splitlines()[0]} (turn {seen + 1} in {session})"}))
"""


async def test_a_command_agent_resumes_its_own_session_across_requests(tmp_path: Path) -> None:
    script = tmp_path / "cli.py"
    script.write_text(CLI)
    coder = {
        "id": "coder",
        "name": "Coder",
        "skills": ["refactoring"],
        "session": "persistent",
        "backend": {
            "kind": "command",
            "argv": [sys.executable, str(script)],
            "result_json": "result",
            "session": {
                "capture_json": "session_id",
                "resume_argv": [sys.executable, str(script), "--resume", "{session_id}"],
            },
        },
        "timeout": 20,
    }
    async with running(tmp_path, {"agents": [coder], "catch_all": UNREACHABLE}) as (
        dispatcher,
        chat,
    ):
        await chat.send("Coder: refactor the billing module")
        await dispatcher.idle(15)
        await chat.send("Coder: now add tests for it")
        await dispatcher.idle(15)
        session = await dispatcher.store.one(
            "SELECT context_id FROM sessions WHERE agent = 'coder'"
        )
        assert session is not None and session["context_id"] == "s-0"
    assert [m.text for m in chat.of_kind("result")] == [
        "Task: refactor the billing module (turn 1 in s-0)",
        "Task: now add tests for it (turn 2 in s-0)",
    ]


async def test_a_hanging_command_agent_times_out_and_its_process_group_is_killed(
    tmp_path: Path,
) -> None:
    script = tmp_path / "hang.py"
    script.write_text(
        "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)\n"
    )
    slowpoke = {
        "id": "slowpoke",
        "name": "Slowpoke",
        "skills": ["waiting"],
        "backend": {"kind": "command", "argv": [sys.executable, str(script)]},
        "timeout": 1,
    }
    async with running(tmp_path, {"agents": [slowpoke], "catch_all": UNREACHABLE}) as (
        dispatcher,
        chat,
    ):
        await chat.send("Slowpoke: wait for me")
        await dispatcher.idle(15)
        run = await dispatcher.store.one("SELECT remote_task_id, state FROM tasks")
        assert run is not None and run["state"] == "timed_out"
    assert chat.of_kind("notice")[0].text.startswith("🤖 Slowpoke timed out")
    pids = json.loads((tmp_path / "d-runs" / str(run["remote_task_id"]) / "pids.json").read_text())

    def gone(pid: int) -> bool:
        try:
            return "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True

    # Killed processes go when the kernel gets to them: wait for that, not a fixed time.
    async with asyncio.timeout(15):  # generous: only a process left alive should reach it
        while not all(gone(pid) for pid in pids.values() if isinstance(pid, int)):
            await asyncio.sleep(0.05)


async def test_openclaw_agents_main_session_disposable_keys_and_discovery(tmp_path: Path) -> None:
    async def reply(message: str, session_key: str) -> str:
        return f"{message.splitlines()[0]} @ {session_key}"

    async with FakeOpenClaw(token="gw-secret") as gateway:
        gateway.agent("ops", reply, name="Ops", emoji="🛠️", theme="Keeps the lights on")
        gateway.agent("scout", reply, name="Scout", theme="Quick one-off lookups")
        data = {
            "agents": [
                {
                    "id": "ops",
                    "name": "Ops",
                    "skills": ["deploys"],
                    "backend": {
                        "kind": "openclaw",
                        "url": gateway.url,
                        "token": "gw-secret",
                        "agent": "ops",
                    },
                }
            ],
            "gateways": [
                {
                    "url": gateway.url,
                    "token": "gw-secret",
                    "discover": True,
                    "session": "disposable",
                    "exclude": ["ops"],
                }
            ],
            "catch_all": UNREACHABLE,
        }
        async with running(tmp_path, data) as (dispatcher, chat):
            assert {a.id for a in dispatcher.fleet.agents} == {"ops", "scout"}
            assert dispatcher.fleet.agent("scout").description == "Quick one-off lookups"
            await chat.send("Ops: deploy the API")
            await chat.send("Ops: roll back the API", channel="C2")
            await chat.send("Scout: find the latest release notes")
            await chat.send("Scout: check the status page")
            await dispatcher.idle(20)
            rows = await dispatcher.store.all(
                "SELECT agent, kind, context_id FROM sessions ORDER BY created_at"
            )
            stored = str([dict(r) for r in await dispatcher.store.all("SELECT * FROM tasks")])
        assert gateway.sessions["ops"] == ["agent:ops:main", "agent:ops:main"]
        scout_keys = gateway.sessions["scout"]
        assert (
            len(scout_keys) == 2
            and len(set(scout_keys)) == 2
            and "agent:scout:main" not in scout_keys
        )
        assert [dict(r) for r in rows if r["agent"] == "ops"] == [
            {"agent": "ops", "kind": "persistent", "context_id": "agent:ops:main"}
        ]
        results = {m.text for m in chat.of_kind("result")}
        assert {
            "Task: deploy the API @ agent:ops:main",
            "Task: roll back the API @ agent:ops:main",
            f"Task: find the latest release notes @ {scout_keys[0]}",
            f"Task: check the status page @ {scout_keys[1]}",
        } == results
        assert "gw-secret" not in stored
