"""CommandBackend with real subprocesses: small Python scripts written into tmp_path."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import render
from bot.backends import BackendContext, backend_for
from bot.backends import command_runner as runner
from bot.backends.base import Backend, BackendError
from bot.backends.command import READ, CommandBackend
from bot.backends.config import CommandBackendConfig, HTTPBackendConfig
from bot.manifest import AgentSpec
from bot.models import AgentEvent

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]
POLL = 0.05
LIMIT = 10.0  # seconds; any single wait in a test is bounded by this


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def config(argv: list[str], **fields: Any) -> CommandBackendConfig:
    return CommandBackendConfig.model_validate({"kind": "command", "argv": argv, **fields})


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def make(runs: Path) -> Callable[[CommandBackendConfig], CommandBackend]:
    def build(cfg: CommandBackendConfig) -> CommandBackend:
        return CommandBackend(cfg, runs_dir=runs, poll_interval=POLL)

    return build


def names(folder: Path, pattern: str = "*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))


def same_dir(a: str | Path, b: str | Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


async def collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    async with asyncio.timeout(LIMIT):
        return [event async for event in events]


async def run_once(backend: CommandBackend, text: str, **kwargs: Any) -> list[AgentEvent]:
    kwargs.setdefault("message_id", f"m-{time.monotonic_ns()}")
    return await collect(backend.send(text, **kwargs))


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = LIMIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def first_event_then_abandon(backend: CommandBackend, text: str, message_id: str) -> str:
    """Start a send, read its first event, then cancel the consumer (Dispatch dying)."""
    seen: list[AgentEvent] = []

    async def consume() -> None:
        async for event in backend.send(text, message_id=message_id):
            seen.append(event)

    task = asyncio.create_task(consume())
    await wait_for(lambda: bool(seen), "the first event")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert seen[0].state == "working" and seen[0].remote_task_id
    return seen[0].remote_task_id


ECHO = """
    import sys
    data = sys.stdin.read()
    print("got: " + data)
"""


def test_is_a_backend(tmp_path: Path) -> None:
    backend: Backend = CommandBackend(config([PY, "-c", "pass"]), runs_dir=tmp_path)
    assert backend is not None


async def test_brief_on_stdin_and_stdout_is_the_result(tmp_path: Path, make: Any) -> None:
    backend = make(config([PY, script(tmp_path, "echo.py", ECHO)]))
    brief = "Task: say hi\nüñí 🎉\n" + "x" * 200_000  # bigger than a pipe buffer
    events = await run_once(backend, brief)
    assert [e.state for e in events] == ["working", "completed"]
    run_id = events[0].remote_task_id
    assert run_id and events[1].remote_task_id == run_id
    assert events[1].text == ("got: " + brief).rstrip()
    assert events[1].context_id is None
    assert (await backend.get(run_id)).text == events[1].text


async def test_large_output_under_the_limit(tmp_path: Path, make: Any) -> None:
    body = """
        import sys
        sys.stdout.write("y" * 3_000_000 + "\\nend")
    """
    backend = make(config([PY, script(tmp_path, "big.py", body)], max_output=5_000_000))
    backend.max_result_bytes = 5_000_000
    events = await run_once(backend, "Task: big")
    assert events[-1].state == "completed"
    assert len(events[-1].text) == 3_000_004 and events[-1].text.endswith("\nend")


async def test_brief_as_one_argument_verbatim_and_no_shell(tmp_path: Path, make: Any) -> None:
    record = tmp_path / "argv.json"
    body = f"""
        import json, sys
        json.dump(sys.argv[1:], open({str(record)!r}, "w"))
        print("ok")
    """
    pwned = tmp_path / "pwned"
    brief = f"Task: --rm -rf / ; $(reboot) ; touch {pwned} && `touch {pwned}2` | cat > {pwned}3"
    backend = make(
        config([PY, script(tmp_path, "args.py", body), "{brief}", "--literal"], input="arg")
    )
    events = await run_once(backend, brief)
    assert events[-1].state == "completed" and events[-1].text == "ok"
    assert json.loads(record.read_text()) == [brief, "--literal"]
    assert not names(tmp_path, "pwned*")
    # With input: arg nothing is written to stdin.
    run = backend.runs_dir / str(events[0].remote_task_id)
    assert not (run / runner.STDIN).exists()


async def test_placeholders_only_replace_whole_elements(tmp_path: Path, make: Any) -> None:
    record = tmp_path / "argv.json"
    body = f"""
        import json, sys
        json.dump(sys.argv[1:], open({str(record)!r}, "w"))
    """
    argv = [PY, script(tmp_path, "args.py", body), "x{brief}", "{session_id}", "{brief}"]
    backend = make(config(argv, input="arg"))
    events = await run_once(backend, "Task: t")
    assert events[-1].state == "completed"
    assert json.loads(record.read_text()) == ["x{brief}", "{session_id}", "Task: t"]


async def test_nonzero_exit_fails_with_code_and_stderr_tail(tmp_path: Path, make: Any) -> None:
    body = """
        import sys
        print("partial output")
        for i in range(40):
            print(f"error line {i}", file=sys.stderr)
        sys.exit(3)
    """
    path = script(tmp_path, "fail.py", body)
    backend = make(config([PY, path]))
    events = await run_once(backend, "Task: fail")
    final = events[-1]
    assert final.state == "failed"
    assert f"command {PY!r} exited with code 3" in final.text
    assert "error line 39" in final.text and "error line 20" in final.text
    assert "error line 19\n" not in final.text  # only the tail
    assert len(final.text) < 2_300


async def test_failure_without_stderr_shows_stdout_tail(tmp_path: Path, make: Any) -> None:
    body = """
        import sys
        print("Error: quota exhausted")
        sys.exit(1)
    """
    backend = make(config([PY, script(tmp_path, "fail.py", body)]))
    final = (await run_once(backend, "Task: x"))[-1]
    assert final.state == "failed" and "Error: quota exhausted" in final.text


async def test_killed_by_signal(tmp_path: Path, make: Any) -> None:
    body = """
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """
    backend = make(config([PY, script(tmp_path, "die.py", body)]))
    final = (await run_once(backend, "Task: die"))[-1]
    assert final.state == "failed" and "killed by signal SIGKILL" in final.text


HANG = """
    import os, signal, subprocess, sys, time
    ignore = sys.argv[2] == "ignore-term"
    if ignore:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {grandchild.pid}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["plain", "ignore-term"])
async def test_cancel_kills_the_whole_process_group(tmp_path: Path, make: Any, mode: str) -> None:
    pid_file = tmp_path / "pids"
    backend = make(config([PY, script(tmp_path, "hang.py", HANG), str(pid_file), mode]))
    events: list[AgentEvent] = []

    async def consume() -> None:
        async for event in backend.send("Task: hang", message_id="m-hang"):
            events.append(event)

    consumer = asyncio.create_task(consume())
    await wait_for(lambda: bool(events) and pid_file.exists(), "the command to start")
    child, grandchild = map(int, pid_file.read_text().split())
    run_id = events[0].remote_task_id
    assert run_id and (await backend.get(run_id)).state == "working"

    async with asyncio.timeout(LIMIT):
        await backend.cancel(run_id)
    # SIGTERM ends a normal command; one that ignores it gets SIGKILL (after ~2 s).
    record = runner.read_json(backend.runs_dir / run_id / runner.EXIT)
    assert record is not None
    assert record["signal"] == (signal.SIGTERM if mode == "plain" else signal.SIGKILL), record
    assert not runner.process_alive(child)
    assert not runner.process_alive(grandchild)
    assert (await backend.get(run_id)).state == "canceled"
    async with asyncio.timeout(LIMIT):
        await consumer
    assert events[-1].state == "canceled"
    await backend.cancel(run_id)  # again: a no-op, no error


async def test_cancel_after_finish_and_unknown_ids_do_not_raise(tmp_path: Path, make: Any) -> None:
    backend = make(config([PY, script(tmp_path, "echo.py", ECHO)]))
    events = await run_once(backend, "Task: quick")
    run_id = str(events[0].remote_task_id)
    await backend.cancel(run_id)
    assert (await backend.get(run_id)).state == "completed"
    await backend.cancel("0" * 32)
    await backend.cancel("../../etc")
    with pytest.raises(BackendError, match="unknown run"):
        await backend.get("0" * 32)
    with pytest.raises(BackendError, match="unknown run"):
        await backend.get("../etc/passwd")


async def test_output_flood_is_cut_off_quickly(tmp_path: Path, make: Any) -> None:
    body = """
        import sys
        chunk = b"z" * (1 << 20)
        for _ in range(50):
            sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    """
    backend = make(config([PY, script(tmp_path, "flood.py", body)], max_output=100_000))
    events = await run_once(backend, "Task: flood")
    final = events[-1]
    assert final.state == "failed"
    assert "output limit exceeded: more than 100000 bytes" in final.text
    run = backend.runs_dir / str(events[0].remote_task_id)
    assert (run / runner.STDOUT).stat().st_size == 100_000  # never more kept on disk
    record = runner.read_json(run / runner.EXIT)
    assert record is not None and record["reason"] == "output_limit"
    if sys.platform.startswith("linux") and record.get("runner_max_rss"):
        assert record["runner_max_rss"] < 45_000  # KiB: the runner never buffered the flood


SESSION_AGENT = """
    import json, os, sys
    state_dir, log = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    with open(log, "a") as f:
        f.write(json.dumps(args) + "\\n")
    brief = sys.stdin.read().strip()
    if args[0] == "new":
        session, history = "s-123", []
    else:
        session = args[1]
        with open(os.path.join(state_dir, session + ".json")) as f:
            history = json.load(f)
    history.append(brief)
    with open(os.path.join(state_dir, session + ".json"), "w") as f:
        json.dump(history, f)
    print(json.dumps({"session_id": session, "result": f"turn {len(history)}: " + " | ".join(history)}))
"""


async def test_session_is_captured_and_resumed(tmp_path: Path, make: Any) -> None:
    state, log = tmp_path / "state", tmp_path / "argv.log"
    state.mkdir()
    agent = script(tmp_path, "agent.py", SESSION_AGENT)
    base = [PY, agent, str(state), str(log)]
    backend = make(
        config(
            [*base, "new"],
            result_json="result",
            session={
                "capture_json": "session_id",
                "resume_argv": [*base, "resume", "{session_id}"],
            },
        )
    )
    first = await run_once(backend, "Task: remember the number 7")
    assert first[0].context_id is None
    assert first[-1].state == "completed"
    assert first[-1].text == "turn 1: Task: remember the number 7"
    assert first[-1].context_id == "s-123"

    second = await run_once(backend, "Task: what was the number?", context_id="s-123")
    assert second[0].context_id == "s-123"
    assert second[-1].state == "completed" and second[-1].context_id == "s-123"
    assert second[-1].text == "turn 2: Task: remember the number 7 | Task: what was the number?"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [["new"], ["resume", "s-123"]]


async def test_json_lines_output(tmp_path: Path, make: Any) -> None:
    body = """
        import json
        print(json.dumps({"type": "started", "thread": {"id": "t-9"}}))
        print("not json")
        print(json.dumps({"type": "item", "text": "first"}))
        print(json.dumps({"type": "item", "text": "final answer"}))
    """
    path = script(tmp_path, "lines.py", body)
    backend = make(
        config(
            [PY, path],
            result_json="text",
            session={"capture_json": "thread.id", "resume_argv": [PY, path]},
        )
    )
    final = (await run_once(backend, "Task: x"))[-1]
    assert final.state == "completed" and final.text == "final answer"
    assert final.context_id == "t-9"


async def test_capture_pattern(tmp_path: Path, make: Any) -> None:
    body = """
        import sys
        print("session: s-456")
        print("the answer")
        print("session id: e-789", file=sys.stderr)
    """
    path = script(tmp_path, "pattern.py", body)

    def backend_with(pattern: str) -> CommandBackend:
        session = {"capture_pattern": pattern, "resume_argv": [PY, path, "{session_id}"]}
        return make(config([PY, path], session=session))  # type: ignore[no-any-return]

    final = (await run_once(backend_with(r"session: (\S+)"), "Task: x"))[-1]
    assert final.state == "completed" and final.context_id == "s-456"
    assert final.text == "session: s-456\nthe answer"
    final = (await run_once(backend_with(r"session id: (\S+)"), "Task: x"))[-1]
    assert final.context_id == "e-789"  # found on stderr
    final = (await run_once(backend_with(r"conversation=(\w+)"), "Task: x"))[-1]
    assert final.state == "completed" and final.context_id is None  # still completes


async def test_result_json_problems_fail_clearly(tmp_path: Path, make: Any) -> None:
    not_json = script(tmp_path, "plain.py", "print('hello there')\n")
    final = (await run_once(make(config([PY, not_json], result_json="result")), "Task: x"))[-1]
    assert final.state == "failed" and "did not print JSON" in final.text
    assert "hello there" in final.text
    no_field = script(tmp_path, "other.py", "print('{\"other\": 1}')\n")
    final = (await run_once(make(config([PY, no_field], result_json="result")), "Task: x"))[-1]
    assert final.state == "failed" and "without a value at 'result'" in final.text


ENV_DUMP = """
    import json, os
    print(json.dumps({"cwd": os.getcwd(), "env": dict(os.environ)}))
"""


async def test_env_and_cwd(tmp_path: Path, make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = script(tmp_path, "env.py", ENV_DUMP)
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DISPATCH_TEST_LEAK", "parent-only")

    isolated = make(config([PY, path], cwd="~/work", env={"FOO": "bar baz", "PATH": "/x"}))
    seen = json.loads((await run_once(isolated, "Task: env"))[-1].text)
    assert same_dir(seen["cwd"], tmp_path / "work")
    assert seen["env"]["FOO"] == "bar baz"
    assert seen["env"]["PATH"] == "/x"
    assert seen["env"]["HOME"] == str(tmp_path)
    assert "DISPATCH_TEST_LEAK" not in seen["env"]

    isolated = make(config([PY, path], env={"FOO": "1"}))
    seen = json.loads((await run_once(isolated, "Task: env"))[-1].text)
    assert seen["env"]["PATH"] == os.environ["PATH"]

    inherited = make(config([PY, path], inherit_env=True, env={"FOO": "qux"}))
    seen = json.loads((await run_once(inherited, "Task: env"))[-1].text)
    assert seen["env"]["FOO"] == "qux"


async def test_dispatch_secrets_never_reach_a_command_agent(
    tmp_path: Path, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default only basic variables pass; Dispatch's tokens are withheld even when the
    manifest inherits everything, unless the manifest hands one over by name in `env:`."""
    path = script(tmp_path, "env.py", ENV_DUMP)
    secrets = {
        "DISPATCH_LLM_API_KEY": "k-dispatch",
        "SLACK_BOT_TOKEN": "xoxb-secret",
        "SLACK_SIGNING_SECRET": "signing",
        "DISCORD_TOKEN": "discord-secret",
        "OPENAI_API_KEY": "sk-openai",
        "ANTHROPIC_API_KEY": "sk-ant",
        "OPENCLAW_GATEWAY_TOKEN": "oc-secret",
        "TEAM_AGENT_TOKEN": "http-agent-secret",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("PROJECT_FLAG", "on")
    # A manifest that takes an HTTP agent's token from the environment marks it a secret.
    HTTPBackendConfig.model_validate(
        {
            "kind": "http",
            "url": "http://127.0.0.1:9",
            "headers": {"Authorization": "Bearer ${TEAM_AGENT_TOKEN}"},
        }
    )

    default = json.loads((await run_once(make(config([PY, path])), "Task: env"))[-1].text)
    assert default["env"]["LC_ALL"] == "C.UTF-8" and "PATH" in default["env"]
    assert "PROJECT_FLAG" not in default["env"]

    named = make(config([PY, path], pass_env=["PROJECT_FLAG", "SLACK_BOT_TOKEN"]))
    passed = json.loads((await run_once(named, "Task: env"))[-1].text)
    assert passed["env"]["PROJECT_FLAG"] == "on"

    everything = make(
        config([PY, path], inherit_env=True, env={"GIVEN": "${OPENCLAW_GATEWAY_TOKEN}"})
    )
    inherited = json.loads((await run_once(everything, "Task: env"))[-1].text)
    assert inherited["env"]["PROJECT_FLAG"] == "on"
    assert inherited["env"]["GIVEN"] == "oc-secret"  # handed over on purpose, by name

    for seen in (default, passed, inherited):
        leaked = {k for k, v in seen["env"].items() if v in secrets.values() and k != "GIVEN"}
        assert leaked == set()


async def test_an_agent_without_cwd_works_in_a_directory_of_its_own(tmp_path: Path) -> None:
    """Not Dispatch's working directory, nor the one holding the database and its keys."""
    data = tmp_path / "data"
    data.mkdir()
    path = script(tmp_path, "env.py", ENV_DUMP)
    context = BackendContext(runs_dir=data / "dispatch-runs")
    agent = AgentSpec.model_validate(
        {"id": "coder", "backend": {"kind": "command", "argv": [PY, path]}}
    )
    backend = backend_for(agent, context)
    assert isinstance(backend, CommandBackend)
    backend.poll_interval = POLL
    assert backend.available() is None  # created on first use
    seen = json.loads((await run_once(backend, "Task: where"))[-1].text)
    home = data / "dispatch-agents" / "coder"
    assert same_dir(seen["cwd"], home)
    assert not same_dir(seen["cwd"], data) and not same_dir(seen["cwd"], os.getcwd())
    assert home.stat().st_mode & 0o777 == 0o700


async def test_a_captured_session_id_never_becomes_a_flag(tmp_path: Path, make: Any) -> None:
    log = tmp_path / "argv.log"
    body = f"""
        import json, sys
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\\n")
        print("session: --config=/etc/evil")
        print("done")
    """
    path = script(tmp_path, "flag.py", body)
    session = {"capture_pattern": r"session: (\S+)", "resume_argv": [PY, path, "{session_id}"]}
    backend = make(config([PY, path, "new"], session=session))
    final = (await run_once(backend, "Task: x"))[-1]
    assert final.state == "completed" and final.context_id is None
    # An id stored before ids were checked starts a new session instead of being passed on.
    final = (await run_once(backend, "Task: y", context_id="-rf"))[-1]
    assert final.state == "completed"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [["new"], ["new"]]


async def test_a_result_over_the_cap_is_relayed_cut(tmp_path: Path, runs: Path) -> None:
    body = """
        import sys
        sys.stdout.write("é" * 3000 + "TAIL")
    """
    path = script(tmp_path, "long.py", body)
    backend = CommandBackend(
        config([PY, path]), runs_dir=runs, poll_interval=POLL, max_result_bytes=2001
    )
    final = (await run_once(backend, "Task: long"))[-1]
    assert final.state == "completed"
    head, _, note = final.text.partition("\n\n")
    assert head == "é" * 1000  # whole characters only
    assert note == render.result_cut("x" * 3000, 2001).partition("\n\n")[2]
    assert "TAIL" not in final.text

    # Output that goes quiet right at the cap still says the rest was cut.
    spaced = script(
        tmp_path, "spaced.py", 'import sys\nsys.stdout.write("a" * 2000 + "    more")\n'
    )
    backend.config = config([PY, spaced])
    final = (await run_once(backend, "Task: spaced"))[-1]
    assert final.text == render.result_cut("a" * 2000, 2001, cut=True)


async def test_commands_that_cannot_start(tmp_path: Path, make: Any, runs: Path) -> None:
    missing = make(config(["dispatch-no-such-program-xyz", "--flag"]))
    assert missing.available() == "command 'dispatch-no-such-program-xyz' not found on PATH"
    with pytest.raises(BackendError, match="command 'dispatch-no-such-program-xyz' not found"):
        await run_once(missing, "Task: x")

    plain = tmp_path / "not-executable.sh"
    plain.write_text("#!/bin/sh\necho hi\n")
    no_exec = make(config([str(plain)]))
    assert no_exec.available() == f"command {str(plain)!r} is not executable"
    with pytest.raises(BackendError, match="is not executable"):
        await run_once(no_exec, "Task: x")

    bad_cwd = make(config([PY, "-c", "pass"], cwd=str(tmp_path / "nowhere")))
    assert bad_cwd.available() is not None and "does not exist" in str(bad_cwd.available())
    with pytest.raises(BackendError, match=r"working directory .* does not exist"):
        await run_once(bad_cwd, "Task: x")

    as_arg = make(config([PY, "-c", "pass", "{brief}"], input="arg"))
    with pytest.raises(BackendError, match="NUL"):
        await run_once(as_arg, "Task: a\0b")

    assert make(config([PY, "-c", "pass"])).available() is None
    # Nothing is left behind for runs that never started.
    assert names(runs) == ["_messages"]
    assert names(runs / "_messages") == []


SLOW = """
    import sys, time
    brief = sys.stdin.read()
    time.sleep(float(sys.argv[1]))
    print("done: " + brief)
"""


async def test_run_survives_its_consumer_and_is_reconciled(
    tmp_path: Path, make: Any, runs: Path
) -> None:
    cfg = config([PY, script(tmp_path, "slow.py", SLOW), "1.0"])
    backend = make(cfg)
    run_id = await first_event_then_abandon(backend, "Task: survive", "m-survive")
    del backend
    gc.collect()

    fresh = make(cfg)
    assert (await fresh.get(run_id)).state == "working"
    events = await collect(fresh.watch(run_id))
    assert [e.state for e in events] == ["completed"]
    assert events[0].text == "done: Task: survive" and events[0].remote_task_id == run_id


async def test_result_is_kept_while_nobody_watches(tmp_path: Path, make: Any, runs: Path) -> None:
    cfg = config([PY, script(tmp_path, "slow.py", SLOW), "0.2"])
    run_id = await first_event_then_abandon(make(cfg), "Task: unwatched", "m-unwatched")
    await wait_for((runs / run_id / runner.EXIT).exists, "the run to finish")
    assert not (runs / run_id / READ).exists()
    event = await make(cfg).get(run_id)
    assert event.state == "completed" and event.text == "done: Task: unwatched"
    assert (runs / run_id / READ).exists()


async def test_run_survives_its_dispatcher_being_killed(tmp_path: Path, runs: Path) -> None:
    """SIGKILL to Dispatch's whole process group leaves the run (its own session) alone."""
    slow = script(tmp_path, "slow.py", SLOW)
    host = f"""
        import asyncio, sys
        from pathlib import Path
        from bot.backends.command import CommandBackend
        from bot.backends.config import CommandBackendConfig

        async def main():
            cfg = CommandBackendConfig(kind="command", argv=[{PY!r}, {slow!r}, "1.5"])
            backend = CommandBackend(cfg, runs_dir=Path({str(runs)!r}), poll_interval=0.05)
            async for event in backend.send("Task: orphaned", message_id="m-orphan"):
                print(event.remote_task_id, flush=True)
                await asyncio.sleep(60)

        asyncio.run(main())
    """
    dispatch = await asyncio.create_subprocess_exec(
        PY,
        script(tmp_path, "host.py", host),
        stdout=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        assert dispatch.stdout is not None
        line = await asyncio.wait_for(dispatch.stdout.readline(), LIMIT)
        run_id = line.decode().strip()
    finally:
        os.killpg(dispatch.pid, signal.SIGKILL)
        await dispatch.wait()
    backend = CommandBackend(config([PY, slow, "1.5"]), runs_dir=runs, poll_interval=POLL)
    assert (await backend.get(run_id)).state == "working"
    events = await collect(backend.watch(run_id))
    assert events[-1].state == "completed" and events[-1].text == "done: Task: orphaned"


async def test_resent_message_follows_the_existing_run(tmp_path: Path, make: Any) -> None:
    count = tmp_path / "count"
    body = f"""
        import sys, time
        with open({str(count)!r}, "a") as f:
            f.write("run\\n")
        time.sleep(0.3)
        print("once")
    """
    cfg = config([PY, script(tmp_path, "once.py", body)])
    run_id = await first_event_then_abandon(make(cfg), "Task: once", "m-once")
    events = await run_once(make(cfg), "Task: once", message_id="m-once")
    assert events[0].remote_task_id == run_id
    assert events[-1].state == "completed" and events[-1].text == "once"
    assert count.read_text() == "run\n"
    other = await run_once(make(cfg), "Task: once", message_id="m-other")
    assert other[0].remote_task_id != run_id


@pytest.mark.parametrize("elsewhere", [False, True], ids=["here", "another-boot"])
async def test_runner_that_dies_is_reported(
    tmp_path: Path, make: Any, runs: Path, elsewhere: bool
) -> None:
    """What the runner left behind is stopped, unless its record names another machine or
    boot (a replica adopting a dead one's work over a shared state folder sees another
    host's process numbers): then it is reported dead, and nothing here is signalled."""
    pid_file = tmp_path / "pids"
    backend = make(config([PY, script(tmp_path, "hang.py", HANG), str(pid_file), "plain"]))
    events: list[AgentEvent] = []

    async def consume() -> None:
        async for event in backend.send("Task: hang", message_id="m-died"):
            events.append(event)

    consumer = asyncio.create_task(consume())
    await wait_for(lambda: bool(events) and pid_file.exists(), "the command to start")
    child = int(pid_file.read_text().split()[0])
    run_id = str(events[0].remote_task_id)
    pids = runner.read_json(runs / run_id / runner.PIDS)
    assert pids is not None
    if elsewhere:
        pids["runner_identity"] = "another-boot:" + str(pids["runner_identity"]).split(":", 1)[1]
        runner.write_json(runs / run_id / runner.PIDS, pids)
    try:
        os.kill(pids["runner"], signal.SIGKILL)
        async with asyncio.timeout(LIMIT):
            await consumer
        assert events[-1].state == "failed" and "the command's runner died" in events[-1].text
        if elsewhere:
            assert runner.process_alive(child)  # another machine's number: left alone
        else:  # what the runner left behind was killed (SIGKILL lands asynchronously)
            await wait_for(lambda: not runner.process_alive(child), "the orphan to die", 5.0)
        assert (await backend.get(run_id)).state == "failed"
    finally:
        if elsewhere:
            runner.kill_group(child, signal.SIGKILL)


async def test_prune_removes_only_old_finished_runs(tmp_path: Path, make: Any, runs: Path) -> None:
    slow = script(tmp_path, "slow.py", SLOW)
    read_run = str((await run_once(make(config([PY, slow, "0"])), "Task: a"))[0].remote_task_id)
    # Abandoned while still running, so nobody ever receives its result.
    backend = make(config([PY, slow, "0.3"]))
    unread_run = await first_event_then_abandon(backend, "Task: b", "m-unread")
    await wait_for((runs / unread_run / runner.EXIT).exists, "the run to finish")
    assert backend.prune() == 0  # everything is fresh

    two_days_ago = time.time() - 2 * 86400
    for run_id in (read_run, unread_run):
        os.utime(runs / run_id / runner.EXIT, (two_days_ago, two_days_ago))
    assert backend.prune() == 1
    assert not (runs / read_run).exists()
    assert (runs / unread_run).exists()  # its result was never read
    assert backend.prune(now=time.time() + 31 * 86400) == 1
    assert not (runs / unread_run).exists()
    assert names(runs / "_messages") == []
