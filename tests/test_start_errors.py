"""`dispatch serve` meeting a platform that rejects its token or cannot be reached: run as
a real subprocess against the fake Slack and Discord servers, and against a closed port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack

WAIT = 60.0
"""Generous: the subprocess imports the whole service before it says anything."""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[object]:
    started: list[asyncio.subprocess.Process] = []

    async def run(platform: str, env: dict[str, str]) -> asyncio.subprocess.Process:
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DISPATCH_", "SLACK_", "DISCORD_"))
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            f"--{platform}",
            "--demo",
            "--db",
            str(tmp_path / "dispatch.db"),
            env={**clean, **env},
            cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def finished(process: asyncio.subprocess.Process) -> tuple[int, list[str]]:
    _, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode is not None
    return process.returncode, [line for line in err.decode().splitlines() if line.strip()]


async def lines_until(process: asyncio.subprocess.Process, count: int, marker: str) -> list[str]:
    """stderr lines up to the `count`-th one containing `marker`."""
    assert process.stderr is not None
    seen: list[str] = []
    while sum(marker in line for line in seen) < count:
        line = await asyncio.wait_for(process.stderr.readline(), WAIT)
        assert line, f"stderr ended early: {seen}"
        seen.append(line.decode().rstrip())
    return seen


@pytest.mark.parametrize(
    ("variable", "fake_option", "wrong"),
    [
        ("SLACK_BOT_TOKEN", "bot_token", "xoxb-a-wrong-one"),
        ("SLACK_APP_TOKEN", "app_token", "xapp-a-wrong-one"),
    ],
)
async def test_a_rejected_slack_token_is_one_line_and_a_non_zero_exit(
    serve: object, variable: str, fake_option: str, wrong: str
) -> None:
    tokens = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", variable: wrong}
    async with FakeSlack(**{fake_option: wrong[:5] + "the-right-one"}) as slack:
        process = await serve(  # type: ignore[operator]
            "slack", {**tokens, "DISPATCH_SLACK_API_URL": slack.api_url}
        )
        code, lines = await finished(process)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"dispatch: Slack rejected {variable} (invalid_auth):")
    assert wrong not in lines[0]


async def test_a_rejected_discord_token_is_one_line_and_a_non_zero_exit(serve: object) -> None:
    async with FakeDiscord(token="the-right-one") as fake:
        process = await serve(  # type: ignore[operator]
            "discord",
            {
                "DISCORD_TOKEN": "a-wrong-one",
                "DISPATCH_DISCORD_API_URL": fake.rest_base,
                "DISPATCH_DISCORD_GATEWAY_URL": fake.gateway_url,
            },
        )
        code, lines = await finished(process)
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("dispatch: Discord rejected DISCORD_TOKEN")
    assert "a-wrong-one" not in lines[0]


@pytest.mark.parametrize(
    ("platform", "env", "setting"),
    [
        (
            "slack",
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
            "DISPATCH_SLACK_API_URL",
        ),
        ("discord", {"DISCORD_TOKEN": "t"}, "DISPATCH_DISCORD_API_URL"),
    ],
)
async def test_an_unreachable_platform_is_retried_with_backoff_one_line_each_time(
    serve: object, platform: str, env: dict[str, str], setting: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/"
    process = await serve(platform, {**env, setting: url})  # type: ignore[operator]
    lines = await lines_until(process, 3, "retrying")
    retries = [line for line in lines if "retrying" in line]
    assert lines == retries, "nothing but the retry lines"
    for line, wait in zip(retries, ("1s", "2s", "4s"), strict=True):
        assert f"{platform.capitalize()} at {url}" in line
        assert "is unreachable (" in line and f"retrying in {wait}. Check" in line
        assert line.endswith(f"Check the network and {setting}.")
    process.send_signal(signal.SIGINT)
    code, rest = await finished(process)
    assert code == 130
    assert not any("Traceback" in line for line in rest), rest


async def test_a_slack_outage_at_start_is_waited_out_and_then_it_serves(serve: object) -> None:
    async with FakeSlack() as slack:
        slack.go_down(times=1)
        process = await serve(  # type: ignore[operator]
            "slack",
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "DISPATCH_SLACK_API_URL": slack.api_url,
            },
        )
        lines = await lines_until(process, 1, "dispatch: serving slack")
        assert "retrying in 1s" in lines[0]
        assert [c.method for c in slack.calls][:2] == ["auth.test", "auth.test"]
        await slack.wait_socket_connected()
    # How it stops is `dispatch serve`'s own business (Ctrl-C is tested with the CLI).
    process.terminate()
    _, rest = await finished(process)
    assert not any("Traceback" in line for line in rest), rest
