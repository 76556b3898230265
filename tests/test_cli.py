"""The real `dispatch` command line, run in subprocesses against real A2A agents on 127.0.0.1.

Every command runs with its working directory in `tmp_path` and its database there too, so
nothing depends on the checkout's state or on files outside this repository. Agents are
`AgentServer`s in the test's own event loop; commands that talk to them are started with
`asyncio.create_subprocess_exec`, so the agents keep serving while a test waits.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.demo.agent_server import (
    AgentCall,
    AgentServer,
    Fail,
    Handler,
    Outcome,
    Reply,
    brief_task_line,
)
from bot.demo.fleet import demo_data

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = REPO_ROOT / "manifests" / "fleet.example.yaml"
SUBCOMMANDS = ("demo", "chat", "plan", "status", "check", "serve")
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing should ever be routed there

LAUNCH = "Launch prep: brand images, landing page copy, and announcement tweets"
CHAIN = "Design the new logo, then use it on the landing page"
VAGUE = "Fix the button"
BUTTON_QUESTION = "Which project, and what's wrong with the button?"

# -- running the command line ------------------------------------------------------------------


def dispatch_argv(*args: str) -> list[str]:
    """The installed `dispatch` entry point next to this interpreter, else the same `main`."""
    for name in ("dispatch", "dispatch.exe"):
        script = Path(sys.executable).with_name(name)
        if script.is_file():
            return [str(script), *args]
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", *args]


def cli_env() -> dict[str, str]:
    """This checkout first on the path, no DISPATCH_* settings leaking in, UTF-8 output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.update(PYTHONUTF8="1", PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1", COLUMNS="100")
    return env


@dataclass
class Run:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"dispatch {' '.join(self.args)} → exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def run_cli(cwd: Path, *args: str, timeout: float = 20.0, env: dict[str, str] | None = None) -> Run:
    """Run one short command (no agents involved) to completion."""
    done = subprocess.run(
        dispatch_argv(*args),
        cwd=cwd,
        env={**cli_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    return Run(args, done.returncode, done.stdout, done.stderr)


async def start_cli(cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *dispatch_argv(*args),
        cwd=cwd,
        env=cli_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(
    proc: asyncio.subprocess.Process, args: Sequence[str], timeout: float
) -> tuple[int, str, str]:
    """Wait for a started command; on timeout kill it and fail with whatever it printed."""
    assert proc.stdout is not None and proc.stderr is not None
    reads = asyncio.gather(proc.stdout.read(), proc.stderr.read())
    try:
        out, err = await asyncio.wait_for(asyncio.shield(reads), timeout)
        returncode = await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        out, err = await asyncio.wait_for(reads, 5)
        pytest.fail(
            str(Run(args, -1, out.decode(), err.decode())).replace(
                "exit -1", f"did not finish within {timeout:g}s"
            )
        )
    return returncode, out.decode("utf-8"), err.decode("utf-8")


async def run_cli_async(cwd: Path, *args: str, stdin: str = "", timeout: float = 30.0) -> Run:
    """Run a command while this event loop keeps serving the test's agents."""
    proc = await start_cli(cwd, *args)
    try:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode("utf-8"))
        await proc.stdin.drain()
        proc.stdin.close()
        returncode, out, err = await finish(proc, args, timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return Run(args, returncode, out, err)


# -- agents and manifests ----------------------------------------------------------------------

StartAgents = Callable[[dict[str, Handler]], Awaitable[dict[str, AgentServer]]]


@pytest.fixture
async def agents() -> AsyncIterator[StartAgents]:
    """`await agents({"image": handler, ...})` → started servers, stopped after the test."""
    started: list[AgentServer] = []

    async def start(handlers: dict[str, Handler]) -> dict[str, AgentServer]:
        servers: dict[str, AgentServer] = {}
        for agent_id, handler in handlers.items():
            server = AgentServer(agent_id, handler)
            await server.start()
            started.append(server)
            servers[agent_id] = server
        return servers

    yield start
    for server in started:
        await server.stop()


def labelled(label: str, delay: float = 0.0) -> Handler:
    """Reply '<label>: <the brief's task line>' after `delay` seconds."""

    async def handle(call: AgentCall) -> Outcome:
        await asyncio.sleep(delay)
        return Reply(f"{label}: {brief_task_line(call.text)}")

    return handle


def write_fleet(path: Path, servers: dict[str, AgentServer], timeout: float = 30.0) -> Path:
    """The demo roster (its skills drive routing) pointed at the test's agents.

    Agents without a server point at a port where nothing listens, so a misrouted task
    fails loudly instead of passing by accident.
    """
    data: dict[str, Any] = copy.deepcopy(demo_data())
    for entry in [*data["agents"], data["catch_all"]]:
        server = servers.get(entry.get("id", "subagent"))
        entry["backend"] = {"kind": "a2a", "url": server.url if server else UNREACHABLE}
        entry["timeout"] = timeout
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def db_rows(db: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Read the database read-only, as a second process would (it may be in use: WAL)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def try_db_rows(db: Path, sql: str) -> list[dict[str, Any]]:
    """Like `db_rows`, but [] while the database or its schema does not exist yet."""
    if not db.exists():
        return []
    try:
        return db_rows(db, sql)
    except sqlite3.OperationalError:
        return []


def record_get_task(server: AgentServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the task id of every A2A GetTask the server answers from now on."""
    handler = server._request_handler
    assert handler is not None, "the agent server is not started"
    original = handler.on_get_task
    seen: list[str] = []

    async def on_get_task(params: Any, context: Any) -> Any:
        seen.append(params.id)
        return await original(params, context)

    monkeypatch.setattr(handler, "on_get_task", on_get_task)
    return seen


# -- 1. help -------------------------------------------------------------------------------------


def test_top_level_help_lists_every_subcommand(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "--help")
    assert run.returncode == 0, run
    assert run.stdout.startswith("usage: dispatch"), run
    # argparse lists each subcommand on its own line: "    demo      start a local demo …"
    listed = re.findall(r"^ {2,}(\w+) {2,}\S", run.stdout, flags=re.MULTILINE)
    assert set(SUBCOMMANDS) <= set(listed), run
    assert run.stderr == "", run


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(tmp_path: Path, command: str) -> None:
    run = run_cli(tmp_path, command, "--help")
    assert run.returncode == 0, run
    assert run.stdout.startswith(f"usage: dispatch {command}"), run
    for option in ("--db", "--soul", "--log-level"):
        assert option in run.stdout, (option, run)
    if command != "demo":
        assert "--fleet" in run.stdout, run
    assert run.stderr == "", run
    assert not (tmp_path / "dispatch.db").exists()  # --help touches nothing


def test_no_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli(tmp_path)
    assert run.returncode == 2, run
    assert "usage: dispatch" in run.stderr, run


def test_python_dash_m_bot_cli_runs_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=20,
        check=False,
    )
    assert done.returncode == 0
    assert "usage: dispatch" in done.stdout


HEAVY_MODULES = (
    "numpy", "wordllama", "openai", "anthropic", "slack_bolt", "slack_sdk", "discord", "a2a",
    "uvicorn", "starlette", "aiohttp", "cryptography",
)  # fmt: skip
"""Libraries `--help` and `status` do not need: each one adds start-up time (issue 14 #18)."""


def modules_loaded_by(cwd: Path, *args: str) -> set[str]:
    """Which of HEAVY_MODULES a command imported (its start-up time, measured by structure:
    the figures themselves are the benchmark's, `python -m bench --only planning`)."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"heavy = {HEAVY_MODULES!r}\n"
        "print('LOADED', *sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [line] = [line for line in done.stdout.splitlines() if line.startswith("LOADED")]
    return set(line.split()[1:])


def test_help_and_status_import_no_sdk_model_or_platform_library(tmp_path: Path) -> None:
    assert modules_loaded_by(tmp_path, "--help") == set()
    assert run_cli(tmp_path, "check").returncode == 0  # a database for status to read
    assert modules_loaded_by(tmp_path, "status") == set()


# -- 2. plan -------------------------------------------------------------------------------------


def plan(tmp_path: Path, text: str, *extra: str) -> dict[str, Any]:
    run = run_cli(tmp_path, "plan", *extra, text)
    assert run.returncode == 0, run
    decision = json.loads(run.stdout)
    assert isinstance(decision, dict), run
    return decision


def test_plan_parallel_launch_prep(tmp_path: Path) -> None:
    decision = plan(tmp_path, LAUNCH)
    assert decision["kind"] == "work"
    tasks = decision["tasks"]
    assert [t["agent"] for t in tasks] == ["image", "writer", "social"]
    assert [t["summary"] for t in tasks] == [
        "brand images",
        "landing page copy",
        "announcement tweets",
    ]
    assert all(t["depends_on"] == [] for t in tasks)
    assert len({t["id"] for t in tasks}) == 3
    assert not (tmp_path / "dispatch.db").exists()  # planning runs nothing and stores nothing


def test_a_reader_that_goes_away_is_no_traceback(tmp_path: Path) -> None:
    """`dispatch plan … | head -1`: the pipe is closed before the plan is printed."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            dispatch_argv("plan", LAUNCH),
            cwd=tmp_path,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr == ""


def test_plan_chain_logo_then_landing_page(tmp_path: Path) -> None:
    decision = plan(tmp_path, CHAIN)
    assert decision["kind"] == "work"
    image, designer = decision["tasks"]
    assert image["agent"] == "image" and image["depends_on"] == []
    assert designer["agent"] == "designer"
    assert designer["depends_on"] == [image["id"]]


def test_plan_vague_request_asks_one_question(tmp_path: Path) -> None:
    decision = plan(tmp_path, VAGUE)
    assert decision["kind"] == "clarify"
    assert decision["question"] == BUTTON_QUESTION
    assert decision["tasks"] == []


KITCHEN_FLEET = """\
version: 1
agents:
  - id: chef
    name: Chef
    emoji: "🍳"
    description: Cooks and plans menus.
    skills: [dinner menu, recipes, baking]
    examples: [plan the dinner menu]
    backend: {kind: a2a, url: "http://127.0.0.1:9201"}
  - id: gardener
    name: Gardener
    emoji: "🌱"
    description: Looks after the garden.
    skills: [lawn care, pruning, planting flowers]
    session: disposable
    backend: {kind: a2a, url: "http://127.0.0.1:9202"}
catch_all:
  backend: {kind: a2a, url: "http://127.0.0.1:9200"}
"""


def test_plan_with_a_custom_fleet_routes_to_its_agents(tmp_path: Path) -> None:
    fleet = tmp_path / "kitchen.yaml"
    fleet.write_text(KITCHEN_FLEET, encoding="utf-8")

    chain = plan(tmp_path, "Plan the dinner menu, then handle the lawn care", "--fleet", str(fleet))
    assert chain["kind"] == "work"
    chef, gardener = chain["tasks"]
    assert (chef["agent"], chef["session"], chef["depends_on"]) == ("chef", "persistent", [])
    assert (gardener["agent"], gardener["session"]) == ("gardener", "disposable")
    assert gardener["depends_on"] == [chef["id"]]

    named = plan(tmp_path, "Chef — bake a lemon cake", "--fleet", str(fleet))
    assert [(t["agent"], t["summary"]) for t in named["tasks"]] == [("chef", "bake a lemon cake")]

    # This roster has no image agent: a logo goes to a disposable sub-agent, not the demo's Image.
    logo = plan(tmp_path, "Design the new logo", "--fleet", str(fleet))
    assert [(t["agent"], t["session"]) for t in logo["tasks"]] == [("subagent", "disposable")]


def test_plan_with_a_broken_fleet_is_refused(tmp_path: Path) -> None:
    fleet = tmp_path / "broken.yaml"
    fleet.write_text(KITCHEN_FLEET.replace('url: "http://127.0.0.1:9201"', "url: nope"), "utf-8")
    run = run_cli(tmp_path, "plan", "--fleet", str(fleet), "Plan the dinner menu")
    assert run.returncode == 2, run
    assert "broken.yaml" in run.stderr and "'chef'" in run.stderr, run
    assert "'backend.url'" in run.stderr, run
    assert run.stdout == "", run


# -- 3. check ------------------------------------------------------------------------------------

GOOD_AGENT = """\
  - id: dev
    name: Dev
    backend: {kind: a2a, url: "http://127.0.0.1:9101"}
"""
CATCH_ALL = """\
catch_all:
  backend: {kind: a2a, url: "http://127.0.0.1:9100"}
"""

BAD_MANIFESTS: list[Any] = [
    pytest.param(
        "agents:\n  - id: dev\n    name: Dev\n" + CATCH_ALL,
        ["agent 'dev' (agents[0])", "field 'backend' is required"],
        id="missing-backend",
    ),
    pytest.param(
        'agents:\n  - id: dev\n    name: Dev\n    backend: {kind: a2a, url: "ftp://dev"}\n'
        + CATCH_ALL,
        ["agent 'dev' (agents[0])", "field 'backend.url' must be an http:// or https:// URL"],
        id="bad-url",
    ),
    pytest.param(
        "agents:\n" + GOOD_AGENT + "    colour: red\n" + CATCH_ALL,
        ["agent 'dev' (agents[0])", "field 'colour' is not a known field"],
        id="unknown-field",
    ),
    pytest.param(
        "agents:\n"
        + GOOD_AGENT
        + '  - id: writer\n    name: Writer\n    backend: {kind: grpc, url: "http://127.0.0.1:1"}\n'
        + CATCH_ALL,
        ["agent 'writer' (agents[1])", "field 'backend.kind' must be one of", "'grpc'"],
        id="unknown-backend-kind",
    ),
    pytest.param(
        "agents:\n" + GOOD_AGENT + "    timeout: soon\n" + CATCH_ALL,
        ["agent 'dev' (agents[0])", "field 'timeout' must be a duration"],
        id="bad-timeout",
    ),
    pytest.param(
        "agents:\n" + GOOD_AGENT,
        ["catch_all", "is required"],
        id="missing-catch-all",
    ),
    pytest.param(
        "agents:\n"
        + GOOD_AGENT
        + '  - id: dev2\n    name: dev\n    backend: {kind: a2a, url: "http://127.0.0.1:9102"}\n'
        + CATCH_ALL,
        ["agent 'dev2' (agents[1])", "field 'name' 'dev' is already used by agent 'dev'"],
        id="duplicate-agent-names",
    ),
    pytest.param(
        "agents:\n"
        + GOOD_AGENT
        + '  - id: dev\n    name: Coder\n    backend: {kind: a2a, url: "http://127.0.0.1:9102"}\n'
        + CATCH_ALL,
        ["agent 'dev' (agents[1])", "field 'id'", "already used"],
        id="duplicate-agent-ids",
    ),
    pytest.param(
        "agents: [\n  - id: dev\n    name: Dev\n",
        ["not valid YAML at line"],
        id="not-yaml",
    ),
    pytest.param("", ["the top level must be a mapping"], id="empty-file"),
]


@pytest.mark.parametrize(("content", "expected"), BAD_MANIFESTS)
def test_check_refuses_a_bad_manifest_naming_file_agent_and_field(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    manifest = tmp_path / "fleet-under-test.yaml"
    manifest.write_text(content, encoding="utf-8")
    run = run_cli(tmp_path, "check", "--fleet", str(manifest), "--db", str(tmp_path / "c.db"))
    assert run.returncode != 0, run
    problems = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert problems, run
    assert all("fleet-under-test.yaml" in line for line in problems), run
    for fragment in expected:
        assert fragment in run.stderr, (fragment, run)
    assert "fleet:" not in run.stdout, run  # no roster printed for a refused manifest
    assert "Traceback" not in run.stderr, run


def test_check_refuses_a_missing_manifest(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    run = run_cli(tmp_path, "check", "--fleet", str(missing), "--db", str(tmp_path / "c.db"))
    assert run.returncode != 0, run
    assert f"{missing}: file not found" in run.stderr, run


def test_check_accepts_the_example_manifest(tmp_path: Path) -> None:
    assert EXAMPLE_MANIFEST.is_file()
    db = tmp_path / "check.db"
    secrets = {
        "OPENCLAW_GATEWAY_TOKEN": "oc-secret",
        "CLI_TOKEN": "cli-secret",
        "TRANSLATOR_TOKEN": "tr-secret",
    }
    run = run_cli(tmp_path, "check", "--fleet", str(EXAMPLE_MANIFEST), "--db", str(db), env=secrets)
    assert run.returncode == 0, run
    assert run.stderr == "", run
    assert "9 agents + catch-all" in run.stdout, run
    agent_ids = (
        "dev",
        "designer",
        "image",
        "writer",
        "social",
        "research",
        "ops",
        "builder",
        "translator",
    )
    for agent_id in (*agent_ids, "subagent"):
        assert f"[{agent_id}]" in run.stdout, (agent_id, run)
    assert "soul:" in run.stdout and f"database: {db} (ok)" in run.stdout, run
    assert not any(secret in run.stdout for secret in secrets.values()), run
    # A secret the manifest refers to but the environment lacks is named, not guessed.
    missing = run_cli(tmp_path, "check", "--fleet", str(EXAMPLE_MANIFEST), "--db", str(db))
    assert missing.returncode == 1, missing
    assert (
        "agent 'ops' (agents[6]): field 'backend.token' refers to ${OPENCLAW_GATEWAY_TOKEN}"
        in missing.stderr
    )


def test_chat_without_a_fleet_is_refused(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "chat", "--db", str(tmp_path / "x.db"))
    assert run.returncode == 2, run
    assert "no fleet manifest" in run.stderr and "--fleet" in run.stderr, run


def test_serve_without_an_adapter_is_refused(tmp_path: Path) -> None:
    run = run_cli(tmp_path, "serve", "--db", str(tmp_path / "x.db"))
    assert run.returncode == 2, run
    assert "--console" in run.stderr, run


def unprivileged(argv: list[str]) -> list[str] | None:
    """`argv` run so file permissions apply to it: as root, without the capabilities that
    override them (setpriv); None when that is not possible here."""
    if os.geteuid() != 0:
        return argv
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *argv]


@pytest.mark.parametrize("command", ["check", "status", "chat"])
@pytest.mark.parametrize("kind", ["not-sqlite", "directory", "read-only"])
def test_a_database_that_cannot_be_used_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, command: str, kind: str
) -> None:
    db = tmp_path / "x.db"
    reason = {
        "not-sqlite": "it is not a SQLite database",
        "directory": "it is a directory",
        "read-only": "it is read-only",
    }[kind]
    if kind == "not-sqlite":
        db.write_text("just some notes, not a database\n")
    elif kind == "directory":
        db.mkdir()
    else:
        assert run_cli(tmp_path, "check", "--db", str(db)).returncode == 0
        for path in tmp_path.glob("x.db*"):
            path.chmod(0o444)
    fleet = write_fleet(tmp_path / "fleet.yaml", {})
    argv = dispatch_argv(command, "--db", str(db), *(["--fleet", str(fleet)] * (command == "chat")))
    if kind == "read-only":
        guarded = unprivileged(argv)
        if guarded is None:
            pytest.skip("running as root without setpriv: a read-only file is writable")
        argv = guarded
    done = subprocess.run(
        argv, cwd=tmp_path, env=cli_env(), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, encoding="utf-8", timeout=60, check=False,
    )  # fmt: skip
    run = Run(argv, done.returncode, done.stdout, done.stderr)
    assert run.returncode in (1, 2), run
    assert "Traceback" not in run.stderr and "(ok)" not in run.stdout, run
    [line] = [line for line in run.stderr.splitlines() if "cannot use the database" in line]
    assert f"{db}: cannot use the database: {reason}" in line, run


# -- 4. demo -------------------------------------------------------------------------------------


def test_demo_script_plays_every_scenario(tmp_path: Path) -> None:
    db = tmp_path / "data" / "demo.db"
    db.parent.mkdir()
    run = run_cli(tmp_path, "demo", "--script", "--speed", "8", "--db", str(db), timeout=120)
    assert run.returncode == 0, run
    out = run.stdout
    assert "Three in parallel:" in out, run
    assert "[demo 🎨 Image] Done: brand images" in out, run
    assert len(re.findall(r"^\s+\[demo ", out, flags=re.MULTILINE)) >= 8, run
    assert f"Dispatch: {BUTTON_QUESTION}" in out, run
    assert re.search(r"\d+ in flight", out), run
    assert out.rstrip().endswith("demo script: all scenarios finished"), run
    assert not (tmp_path / "dispatch.db").exists()  # --db was honoured
    # The callback key lives beside the database, not in the working directory.
    assert (db.parent / "demo.callback-key").is_file()
    assert list(tmp_path.glob("*.callback-key")) == []

    status = run_cli(tmp_path, "status", "--db", str(db))
    assert status.returncode == 0, status
    assert "Nothing in flight" in status.stdout, status


async def test_demo_script_judges_only_its_own_requests(
    tmp_path: Path, agents: StartAgents
) -> None:
    """A database with earlier work that did not succeed (here: a failed task) does not make
    the scripted demo fail."""

    async def broken(call: AgentCall) -> Outcome:
        return Fail("EARLIER-FAILURE")

    fleet = write_fleet(tmp_path / "fleet.yaml", await agents({"image": broken}))
    db = tmp_path / "shared.db"
    earlier = await run_cli_async(
        tmp_path, "chat", "--fleet", str(fleet), "--db", str(db), stdin="Image: draw a fox\n"
    )
    assert earlier.returncode == 0, earlier
    assert db_rows(db, "SELECT state FROM tasks") == [{"state": "failed"}]

    run = await run_cli_async(
        tmp_path, "demo", "--script", "--speed", "20", "--db", str(db), timeout=120
    )
    assert run.returncode == 0, run
    assert run.stdout.rstrip().endswith("demo script: all scenarios finished"), run
    assert "EARLIER-FAILURE" not in run.stdout + run.stderr, run


@pytest.mark.parametrize("speed", ["0", "-2", "nan", "fast"])
def test_demo_speed_must_be_a_number_above_zero(tmp_path: Path, speed: str) -> None:
    run = run_cli(tmp_path, "demo", "--script", "--speed", speed)
    assert run.returncode == 2, run
    assert run.stderr.splitlines()[-1].startswith("dispatch demo: error: argument --speed:"), run
    assert not (tmp_path / "dispatch.db").exists()


def test_debug_logs_hold_no_message_contents(tmp_path: Path) -> None:
    """At DEBUG the libraries that log bodies and SQL parameters stay at INFO: what the
    demo's people asked for is in the chat, never in the log."""
    run = run_cli(tmp_path, "demo", "--script", "--speed", "8", "--log-level", "DEBUG", timeout=60)
    assert run.returncode == 0, run
    assert "Done: brand images" in run.stdout, run
    assert " DEBUG " in run.stderr or " INFO " in run.stderr, run  # logging is on
    for words in ("Launch prep", "/api/users endpoint", "Pay button", "tweets punchier"):
        assert words not in run.stderr, run


# -- 5. chat with stdin not a terminal ---------------------------------------------------------


async def test_chat_reads_one_request_per_line_and_exits_when_all_finished(
    tmp_path: Path, agents: StartAgents
) -> None:
    servers = await agents(
        {
            "image": labelled("IMAGE-RESULT", 0.3),
            "writer": labelled("WRITER-RESULT", 0.1),
            "social": labelled("SOCIAL-RESULT", 0.2),
            "dev": labelled("DEV-RESULT", 0.1),
            "subagent": labelled("SUBAGENT-RESULT", 0.1),
        }
    )
    fleet = write_fleet(tmp_path / "fleet.yaml", servers)
    db = tmp_path / "chat.db"
    lines = [
        LAUNCH,
        "",
        "// a comment line is skipped",
        "What's the current price of Bitcoin?",
        VAGUE,
        "^ The Pay button on the checkout page does nothing on mobile Safari",
    ]
    run = await run_cli_async(
        tmp_path, "chat", "--fleet", str(fleet), "--db", str(db), stdin="\n".join(lines) + "\n"
    )
    assert run.returncode == 0, run
    out = run.stdout
    assert "Three in parallel:" in out, run
    for result in (
        "IMAGE-RESULT: brand images",
        "WRITER-RESULT: landing page copy",
        "SOCIAL-RESULT: announcement tweets",
        "SUBAGENT-RESULT: What's the current price of Bitcoin?",
        "DEV-RESULT: Fix the button — The Pay button on the checkout page does nothing",
    ):
        assert out.count(result) == 1, (result, run)
    assert f"Dispatch: {BUTTON_QUESTION}" in out, run
    assert "comment line" not in out, run
    assert {name: len(server.calls) for name, server in servers.items()} == dict.fromkeys(
        servers, 1
    )

    assert db_rows(db, "SELECT state FROM tasks WHERE state != 'completed'") == []
    assert db_rows(db, "SELECT state FROM requests WHERE state != 'done'") == []
    assert db_rows(db, "SELECT id FROM outbox WHERE state != 'sent'") == []

    status = await run_cli_async(tmp_path, "status", "--db", str(db), "--fleet", str(fleet))
    assert status.returncode == 0, status
    assert "Nothing in flight" in status.stdout, status


async def test_chat_refuses_replies_it_cannot_send_and_names_threads_as_the_screen_does(
    tmp_path: Path, agents: StartAgents
) -> None:
    db = tmp_path / "chat.db"
    release = asyncio.Event()

    def gated(label: str) -> Handler:
        async def handle(call: AgentCall) -> Outcome:
            await release.wait()  # working until the status answer has been shown
            return Reply(f"{label}: {brief_task_line(call.text)}")

        return handle

    servers = await agents({name: gated(name.upper()) for name in ("image", "writer", "social")})
    fleet = write_fleet(tmp_path / "fleet.yaml", servers)

    async def release_once_status_is_sent() -> None:
        while not await asyncio.to_thread(
            try_db_rows, db, "SELECT id FROM outbox WHERE kind = 'status' AND state = 'sent'"
        ):
            await asyncio.sleep(0.05)
        release.set()

    releaser = asyncio.create_task(release_once_status_is_sent())
    lines = ["^ before any thread", LAUNCH, "what's in flight?", "^", "^9 make it punchier"]
    try:
        run = await run_cli_async(
            tmp_path,
            "chat", "--fleet", str(fleet), "--db", str(db),
            stdin="\n".join(lines) + "\n",
            timeout=120,
        )  # fmt: skip
    finally:
        release.set()
        releaser.cancel()
    assert run.returncode == 0, run
    out = run.stdout.splitlines()
    assert "Dispatch: There is no thread to reply to yet: type a request to start one." in out
    assert (
        "Dispatch: A reply needs some text: '^ your answer' (latest thread) or '^N your answer'."
        in out
    )
    assert "Dispatch: There is no thread #9 (threads so far: #1 to #2). Nothing was sent." in out
    # Only the two real messages became requests, and none waits for an answer.
    assert db_rows(db, "SELECT text, state FROM requests ORDER BY created_at") == [
        {"text": LAUNCH, "state": "done"},
        {"text": "what's in flight?", "state": "done"},
    ]
    # Status calls the launch's thread #1, as the screen does, not by its internal id.
    listed = [line for line in out if line.lstrip().startswith("• ")]
    assert len(listed) == 3, run
    assert all(line.endswith(" · #1") for line in listed), run
    # The board's rows stop at the closing line: nothing of thread #1 is printed after it.
    [done] = [i for i, line in enumerate(out) if line.startswith("[#1] Dispatch: Done in")]
    assert done == max(i for i, line in enumerate(out) if line.startswith("[#1]")), run
    assert out[done].endswith(": all 3 tasks finished."), run


async def test_status_without_a_database(tmp_path: Path) -> None:
    run = await run_cli_async(tmp_path, "status", "--db", str(tmp_path / "none.db"))
    assert run.returncode == 0, run
    assert "Nothing in flight" in run.stdout, run
    assert not (tmp_path / "none.db").exists()  # status reads; it does not create


# -- 6 and 7. kill -9 mid-flight, status, restart ----------------------------------------------


@pytest.mark.parametrize(
    "finishes_while_down",
    [False, True],
    ids=["agent-still-working-at-restart", "agent-finished-while-down"],
)
async def test_sigkill_mid_flight_then_restart_reconciles_and_relays_exactly_once(
    tmp_path: Path, agents: StartAgents, monkeypatch: pytest.MonkeyPatch, finishes_while_down: bool
) -> None:
    token = uuid.uuid4().hex[:8]
    image_result = f"IMAGE-RESULT-{token}: logo.svg, a blue fox"
    designer_result = f"DESIGNER-RESULT-{token}: landing page built around the logo"
    release = asyncio.Event()  # the image agent "works" until the test lets it finish
    image_done = asyncio.Event()

    async def image(call: AgentCall) -> Outcome:
        await release.wait()
        image_done.set()
        return Reply(image_result)

    async def designer(call: AgentCall) -> Outcome:
        return Reply(designer_result)

    servers = await agents({"image": image, "designer": designer})
    fleet = write_fleet(tmp_path / "fleet.yaml", servers)
    db = tmp_path / "crash.db"
    args = ("chat", "--fleet", str(fleet), "--db", str(db))

    # First process: the chain starts, the image agent is called, and then: kill -9.
    first = await start_cli(tmp_path, *args)
    try:
        assert first.stdin is not None
        first.stdin.write(f"{CHAIN}\n".encode())
        await first.stdin.drain()
        first.stdin.close()  # chat reads every line, then waits for all of it to finish
        running: list[dict[str, Any]] = []
        deadline = time.monotonic() + 90  # generous: only a hang should reach it
        while time.monotonic() < deadline:
            assert first.returncode is None, "chat exited before it could be killed"
            running = await asyncio.to_thread(
                try_db_rows,
                db,
                "SELECT id, state, remote_task_id FROM tasks WHERE agent = 'image'"
                " AND state = 'running' AND remote_task_id IS NOT NULL",
            )
            if servers["image"].calls and running:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the image task never showed as running with a remote task id")
        first.send_signal(signal.SIGKILL)
        _, first_out, first_err = await finish(first, args, 60)
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert first.returncode == -signal.SIGKILL, (first.returncode, first_out, first_err)
    assert "Two steps:" in first_out, first_out  # the acknowledgement went out before the kill
    assert image_result not in first_out and designer_result not in first_out, first_out

    [image_task] = running
    [image_call] = servers["image"].calls
    assert image_task["remote_task_id"] == image_call.task_id
    assert image_call.metadata.get("dispatch_task_id") == image_task["id"]
    assert servers["designer"].calls == []

    # 7. What is in flight, read from the database the killed process left behind.
    status = await run_cli_async(tmp_path, "status", "--db", str(db))
    assert status.returncode == 0, status
    lines = status.stdout.splitlines()
    assert lines[0].startswith("2 in flight"), status
    assert any(re.search(r"Image — Design the new logo · working\b", line) for line in lines), (
        status
    )
    assert any(
        re.search(
            r"Designer — use it on the landing page \(the new logo\) · waiting · waiting on 🎨 Image",
            line,
        )
        for line in lines
    ), status

    # Second process, nothing on stdin: it recovers what the first one left and finishes it.
    get_task_ids = record_get_task(servers["image"], monkeypatch)

    async def finish_image_once_reconciled() -> None:
        """Still working when the new process asks; it must then follow the task to its end."""
        deadline = time.monotonic() + 90
        while not get_task_ids and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        release.set()

    releaser: asyncio.Task[None] | None = None
    if finishes_while_down:
        await asyncio.sleep(0.5)  # the agent keeps working while nobody is listening...
        release.set()
        await asyncio.wait_for(image_done.wait(), 60)
        await asyncio.sleep(0.1)  # ...and stores its result before Dispatch comes back
    else:
        releaser = asyncio.create_task(finish_image_once_reconciled())
    try:
        second = await run_cli_async(tmp_path, *args, stdin="", timeout=120)
    finally:
        release.set()
        if releaser is not None:
            releaser.cancel()
            await asyncio.gather(releaser, return_exceptions=True)
    assert second.returncode == 0, second
    assert second.stdout.count(image_result) == 1, second
    assert second.stdout.count(designer_result) == 1, second
    assert second.stdout.index(image_result) < second.stdout.index(designer_result), second

    assert len(servers["image"].calls) == 1, "the image task was submitted again"
    # Reconciled with the agent: GetTask on the stored remote task id (and no other task).
    assert get_task_ids and set(get_task_ids) == {image_task["remote_task_id"]}, get_task_ids
    assert servers["image"].cancelled == []
    [designer_call] = servers["designer"].calls
    assert "This builds on work that just finished" in designer_call.text
    assert image_result in designer_call.text

    tasks = db_rows(db, "SELECT id, agent, state, result FROM tasks ORDER BY seq")
    assert [(t["agent"], t["state"]) for t in tasks] == [
        ("image", "completed"),
        ("designer", "completed"),
    ]
    assert [t["result"] for t in tasks] == [image_result, designer_result]
    results = db_rows(db, "SELECT task_id FROM outbox WHERE kind = 'result' ORDER BY id")
    assert [r["task_id"] for r in results] == [t["id"] for t in tasks]
    outbox = db_rows(db, "SELECT kind, state FROM outbox ORDER BY id")
    assert outbox and all(row["state"] == "sent" for row in outbox), outbox
    assert [row["kind"] for row in outbox].count("closing") == 1, outbox
    assert db_rows(db, "SELECT state FROM requests") == [{"state": "done"}]

    after = await run_cli_async(tmp_path, "status", "--db", str(db))
    assert after.returncode == 0, after
    assert "Nothing in flight" in after.stdout, after


async def test_check_refresh_signs_in_to_openclaw_as_a_call_would(tmp_path: Path) -> None:
    """Reachable is not available: a wrong token or an unknown agent id is named as such,
    and a pinned endpoint's error names only that endpoint."""
    from tests.fakes.openclaw import FakeOpenClaw

    async def answer(message: str, session_key: str) -> str:
        return "ok"

    async with (
        FakeOpenClaw(token="oc-right") as gateway,
        FakeOpenClaw(
            token="oc-right", ws_enabled=False, responses_enabled=False, chat_enabled=False
        ) as bare,
    ):
        gateway.agent("dev", answer)

        def openclaw(url: str, token: str, agent: str, endpoint: str = "auto") -> dict[str, Any]:
            return {
                "kind": "openclaw",
                "url": url,
                "token": token,
                "agent": agent,
                "endpoint": endpoint,
            }

        roster = {
            "good": openclaw(gateway.url, "oc-right", "dev"),
            "badtoken": openclaw(gateway.url, "oc-wrong", "dev"),
            "ghost": openclaw(gateway.url, "oc-right", "nobody"),
            "pinhttp": openclaw(bare.url, "oc-right", "dev", "responses"),
            "pinws": openclaw(bare.url, "oc-right", "dev", "ws"),
        }
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump(
                {
                    "agents": [{"id": i, "backend": b} for i, b in roster.items()],
                    "catch_all": {"backend": roster["good"]},
                }
            ),
            encoding="utf-8",
        )
        run = await run_cli_async(
            tmp_path, "check", "--refresh", "--fleet", str(fleet), "--db", str(tmp_path / "c.db")
        )
    assert run.returncode == 0, run
    after = run.stdout.split("roster (refreshed):", 1)[1].splitlines()
    lines = {i: next(line for line in after if f"[{i}]" in line) for i in roster}
    assert " available;" in lines["good"], run
    assert "UNAVAILABLE: " in lines["badtoken"] and "refused the token" in lines["badtoken"], run
    assert "oc-wrong" not in run.stdout + run.stderr, run
    assert "UNAVAILABLE: agent 'nobody' is not on the gateway" in lines["ghost"], run
    assert "does not serve /v1/responses" in lines["pinhttp"], run
    assert "WebSocket" not in lines["pinhttp"] and "chat/completions" not in lines["pinhttp"]
    assert "UNAVAILABLE: " in lines["pinws"] and "WebSocket" in lines["pinws"], run
    assert "/v1/" not in lines["pinws"], run
    assert gateway.runs_started == [] and bare.runs_started == []  # a probe never runs work


# -- 8. Ctrl-C -----------------------------------------------------------------------------------


class Terminal:
    """A command on a pseudo-terminal, as a person at a keyboard runs it."""

    def __init__(self, cwd: Path, *args: str) -> None:
        import pty
        import threading

        self.args = args
        self._master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            dispatch_argv(*args), cwd=cwd, env=cli_env(),
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # the other side closed
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")

    def type(self, line: str) -> None:
        os.write(self._master, line.encode("utf-8") + b"\n")

    def wait_for(self, what: Callable[[], bool], label: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout  # generous: only a hang should reach it
        while not what():
            assert self.proc.poll() is None, f"exited before {label}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {label}:\n{self.output}"
            time.sleep(0.05)

    def finish(self, timeout: float = 60) -> int:
        """Wait for the exit; on a hang kill it and fail with what it printed."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"dispatch {' '.join(self.args)} did not exit:\n{self.output}")
        self._reader.join(5)
        os.close(self._master)
        return code


def test_ctrl_c_in_the_demo_exits_at_once_and_a_restart_finds_nothing_broken(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    term = Terminal(tmp_path, "demo", "--speed", "0.05", "--db", str(db))  # agents take ~1 min
    try:
        term.wait_for(lambda: "Dispatch is listening" in term.output, "prompt")
        term.type(LAUNCH)
        term.wait_for(
            lambda: len(try_db_rows(db, "SELECT id FROM tasks WHERE state = 'running'")) == 3,
            "three running tasks",
        )
        term.proc.send_signal(signal.SIGINT)
        code = term.finish()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    out = term.output
    assert code == 130, out
    assert out.rstrip().endswith(
        "dispatch: interrupted; any unfinished demo work was cancelled (its agents stop with it)."
    ), out
    assert "Traceback" not in out and "WARNING" not in out, out
    assert out.count(LAUNCH) == 1, out  # the terminal shows the typed line; no second echo
    # Consistent: the demo's agents are gone, so their work is cancelled, not left running.
    assert (
        db_rows(db, "SELECT state, error FROM tasks")
        == [{"state": "cancelled", "error": "cancelled by Ctrl-C"}] * 3
    )
    assert db_rows(db, "SELECT state FROM requests") == [{"state": "done"}]

    restart = run_cli(tmp_path, "demo", "--db", str(db), timeout=120)  # no input: exits
    assert restart.returncode == 0, restart
    assert "Traceback" not in restart.stderr and "Task not found" not in restart.stdout, restart
    assert {t["state"] for t in db_rows(db, "SELECT state FROM tasks")} == {"cancelled"}
    status = run_cli(tmp_path, "status", "--db", str(db))
    assert "Nothing in flight" in status.stdout, status


async def test_ctrl_c_in_chat_exits_at_once_and_a_restart_resumes_the_work(
    tmp_path: Path, agents: StartAgents
) -> None:
    release = asyncio.Event()

    async def image(call: AgentCall) -> Outcome:
        await release.wait()
        return Reply("IMAGE-RESULT: a blue fox")

    servers = await agents({"image": image})
    fleet = write_fleet(tmp_path / "fleet.yaml", servers)
    db = tmp_path / "chat.db"
    args = ("chat", "--fleet", str(fleet), "--db", str(db))
    first = await start_cli(tmp_path, *args)
    try:
        assert first.stdin is not None
        first.stdin.write(b"Image: draw a blue fox logo\n")  # stdin stays open: chat waits
        await first.stdin.drain()
        deadline = time.monotonic() + 90  # generous: only a hang should reach it
        while not await asyncio.to_thread(
            try_db_rows, db, "SELECT id FROM tasks WHERE remote_task_id IS NOT NULL"
        ):
            assert first.returncode is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGINT)
        code, out, err = await finish(first, args, 60)
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert code == 130, (out, err)
    assert err.rstrip().endswith(
        "\ndispatch: interrupted; work in flight is recorded and resumes on the next start."
    ), err
    assert "Traceback" not in err + out, (out, err)
    assert servers["image"].cancelled == []  # the agent keeps working
    assert [t["state"] for t in db_rows(db, "SELECT state FROM tasks")] == ["running"]

    release.set()
    second = await run_cli_async(tmp_path, *args, stdin="", timeout=120)
    assert second.returncode == 0, second
    assert second.stdout.count("IMAGE-RESULT: a blue fox") == 1, second
    assert "Task not found" not in second.stdout, second
    assert len(servers["image"].calls) == 1
    assert db_rows(db, "SELECT state FROM tasks") == [{"state": "completed"}]
