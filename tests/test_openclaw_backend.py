"""OpenClawBackend against FakeOpenClaw: a real WebSocket (and real HTTP) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import SecretStr

from bot import render
from bot.backends import backend_for
from bot.backends.base import BackendError
from bot.backends.config import GatewayDiscovery, OpenClawBackendConfig
from bot.backends.openclaw import DeviceIdentity, OpenClawBackend
from bot.manifest import fleet_from_data
from bot.models import AgentEvent
from bot.runtime import backend_context
from bot.settings import Settings
from tests.fakes.openclaw import FakeOpenClaw, Handler

TOKEN = "oc-secret-token-5f2a91"
WRONG = "oc-wrong-token-77e0c3"

MakeBackend = Callable[..., OpenClawBackend]


def reply(prefix: str, delay: float = 0.0) -> Handler:
    async def handle(message: str, session_key: str) -> str:
        await asyncio.sleep(delay)
        return f"{prefix}: {message}"

    return handle


def held(prefix: str, release: asyncio.Event) -> Handler:
    """Reply as `reply(prefix)` does once the test sets `release`: the test, not a duration,
    decides when the run ends."""

    async def handle(message: str, session_key: str) -> str:
        await release.wait()
        return f"{prefix}: {message}"

    return handle


def failing(text: str) -> Handler:
    async def handle(message: str, session_key: str) -> str:
        raise RuntimeError(text)

    return handle


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenClaw]:
    async with FakeOpenClaw(token=TOKEN) as gateway:
        gateway.agent("dev", reply("dev"), name="Dev", emoji="🛠", theme="writes code")
        yield gateway


@pytest.fixture
async def make() -> AsyncIterator[MakeBackend]:
    """Build backends (closed at teardown); wait_ms may go below the config minimum."""
    made: list[OpenClawBackend] = []

    def build(
        url: str,
        agent: str = "dev",
        *,
        session: Literal["persistent", "disposable"] = "persistent",
        endpoint: Literal["auto", "ws", "responses", "chat"] = "auto",
        token: str | None = TOKEN,
        wait_ms: int = 1000,
        **options: Any,
    ) -> OpenClawBackend:
        config = OpenClawBackendConfig(
            kind="openclaw",
            url=url,
            token=SecretStr(token) if token else None,
            agent=agent,
            endpoint=endpoint,
        )
        backend = OpenClawBackend(
            config, session=session, wait_ms=wait_ms, poll_interval=0.05, **options
        )
        made.append(backend)
        return backend

    yield build
    for backend in made:
        await backend.aclose()


async def run(backend: OpenClawBackend, text: str, message_id: str) -> list[AgentEvent]:
    return [event async for event in backend.send(text, message_id=message_id)]


async def rest_of(stream: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    """The stream's remaining events; a generous bound turns a hang into a failure."""

    async def collect() -> list[AgentEvent]:
        return [event async for event in stream]

    return await asyncio.wait_for(collect(), 60)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- sessions -------------------------------------------------------------------------------


async def test_persistent_agent_uses_its_main_session_every_time(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    backend = make(fake.url)
    first = await run(backend, "fix the login bug", "task-1")
    second = await run(backend, "now add tests", "task-2")

    assert first[0].state == "working" and first[0].context_id == "agent:dev:main"
    assert first[-1].state == "completed" and first[-1].text == "dev: fix the login bug"
    assert second[-1].text == "dev: now add tests"  # this run's reply, not the previous one
    assert {e.context_id for e in first + second} == {"agent:dev:main"}
    assert fake.sessions["dev"] == ["agent:dev:main", "agent:dev:main"]
    assert backend.path == "ws"
    assert fake.calls["chat.history"] == 2  # the reply was read from the transcript


async def test_a_scoped_persistent_session_has_its_own_stable_key(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    """`session_scope: user` (or channel): Dispatch names the session; each name keeps one
    gateway session of its own, apart from the agent's main one."""
    backend = make(fake.url)

    async def scoped(text: str, message_id: str, scope: str) -> list[AgentEvent]:
        stream = backend.send(text, message_id=message_id, metadata={"dispatch_session": scope})
        return [event async for event in stream]

    alice = await scoped("fix the login bug", "task-1", "user:slack:T1:alice")
    bob = await scoped("fix the signup bug", "task-2", "user:slack:T1:bob")
    again = await scoped("now add tests", "task-3", "user:slack:T1:alice")

    keys = [alice[-1].context_id, bob[-1].context_id, again[-1].context_id]
    assert keys[0] == keys[2] != keys[1]
    assert "agent:dev:main" not in keys
    assert all(k and k.startswith("agent:dev:dispatch:") for k in keys)
    assert again[-1].text == "dev: now add tests"


async def test_disposable_agent_gets_a_fresh_session_per_task(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    backend = make(fake.url, session="disposable")
    first = await run(backend, "one-off job", "task-a")
    second = await run(backend, "another job", "task-b")

    keys = [first[-1].context_id, second[-1].context_id]
    assert keys[0] != keys[1]
    assert all(k and k.startswith("agent:dev:dispatch:") for k in keys)
    assert "agent:dev:main" not in keys
    assert fake.sessions["dev"] == keys
    assert first[-1].text == "dev: one-off job"


async def test_terminal_reply_from_agent_wait_needs_no_history(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    fake.terminal_reply = True
    events = await run(make(fake.url), "quick one", "task-t")
    assert events[-1].text == "dev: quick one"
    assert fake.calls["chat.history"] == 0


async def test_a_long_reply_arrives_whole_though_the_gateway_cuts_its_previews(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    """agent.wait's terminalReply stops at 4,096 characters and chat.history at 8,000 a
    row; the message itself is read whole."""
    essay = "".join(f"line {n} of the report\n" for n in range(2000))  # ~45,000 characters

    async def write(message: str, session_key: str) -> str:
        return essay

    fake.agent("writer", write)
    for terminal in (True, False):
        fake.terminal_reply = terminal
        events = await run(make(fake.url, "writer"), "the report", f"task-long-{terminal}")
        assert events[-1].state == "completed" and events[-1].text == essay.strip()
    assert fake.calls["chat.message.get"] == 2


# --- long runs, restarts, resends, cancel -------------------------------------------------


async def test_slow_agent_outliving_several_waits_is_not_a_failure(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    release = asyncio.Event()  # the run ends once two waits have expired on it
    fake.agent("slow", held("slow", release))
    sending = asyncio.create_task(
        run(make(fake.url, "slow", wait_ms=1000), "big refactor", "task-slow")
    )
    async with asyncio.timeout(60):  # generous: only a hang should reach it
        while fake.wait_timeouts < 2:
            await asyncio.sleep(0.01)
    release.set()
    events = await asyncio.wait_for(sending, 60)

    assert [e.state for e in events[:-1]] == ["working"] * (len(events) - 1)
    assert len(events) >= 3  # first event + at least one heartbeat per expired wait
    assert events[-1].state == "completed" and events[-1].text == "slow: big refactor"
    assert fake.wait_timeouts >= 2
    assert fake.started("slow") == 1


async def test_restart_reconciles_with_get_and_watch_without_a_second_run(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    release = asyncio.Event()  # the run ends once the new process has seen it working
    fake.agent("slow", held("slow", release))
    before = make(fake.url, "slow")
    first: list[AgentEvent] = []

    async def consume() -> None:
        async for event in before.send("migrate the db", message_id="task-r"):
            first.append(event)

    consumer = asyncio.create_task(consume())
    while not first:
        await asyncio.sleep(0.01)
    consumer.cancel()  # Dispatch shutting down mid-send
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await before.aclose()
    remote = first[0].remote_task_id
    assert remote and first[0].context_id == "agent:slow:main"

    after = make(fake.url, "slow")  # a new process
    now = await after.get(remote)
    assert now.state == "working" and now.remote_task_id == remote
    release.set()
    watched = await rest_of(after.watch(remote))

    assert watched[-1].state == "completed" and watched[-1].text == "slow: migrate the db"
    assert fake.started("slow") == 1
    assert fake.aborts == []  # shutting down never aborts the run
    assert (await after.get(remote)).text == "slow: migrate the db"


async def test_resend_with_the_same_message_id_joins_the_same_run(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    fake.agent("slow", reply("slow", delay=1.0))
    crashed = make(fake.url, "slow", session="disposable")
    stream = crashed.send("write the report", message_id="task-x")
    first = await anext(stream)
    await stream.aclose()
    await crashed.aclose()

    # After a crash before the remote id was stored, the dispatcher sends again.
    again = await run(make(fake.url, "slow", session="disposable"), "write the report", "task-x")
    assert again[0].remote_task_id == first.remote_task_id
    assert again[-1].text == "slow: write the report"
    # ...and once more after it finished: the gateway replays, it does not re-run.
    third = await run(make(fake.url, "slow", session="disposable"), "write the report", "task-x")
    assert third[-1].text == "slow: write the report"
    assert fake.started("slow") == 1
    assert len(set(fake.sessions["slow"])) == 1


async def test_a_dropped_connection_mid_run_reconnects_and_keeps_following(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    release = asyncio.Event()  # the run ends only after the connection dropped
    fake.agent("slow", held("slow", release))
    stream = make(fake.url, "slow").send("long job", message_id="task-drop")
    first = await anext(stream)
    await fake.drop_connections()
    release.set()
    rest = await rest_of(stream)
    assert rest[-1].state == "completed" and rest[-1].text == "slow: long job"
    assert {e.remote_task_id for e in rest} == {first.remote_task_id}
    assert fake.started("slow") == 1
    assert len(fake.connects) >= 2


async def test_a_run_that_finished_while_the_gateway_drained_is_read_from_history(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    release = asyncio.Event()  # the run ends only once the drain has been noticed
    fake.agent("slow", held("slow", release))
    stream = make(fake.url, "slow", wait_ms=1000, reconnect_window=30).send(
        "rotate the keys", message_id="task-drain"
    )
    first = await anext(stream)
    fake.drain()  # agent.wait and chat.history now answer UNAVAILABLE
    await asyncio.wait_for(anext(stream), 10)  # the backend noticed, and keeps following
    release.set()
    run = fake.runs_started[0]
    await asyncio.wait_for(run.done.wait(), 10)  # the run finishes during the drain
    await fake.restart()  # ...and is forgotten: agent.wait says "timeout" for it forever

    rest = await rest_of(stream)
    assert rest[-1].state == "completed" and rest[-1].text == "slow: rotate the keys"
    assert rest[-1].remote_task_id == first.remote_task_id
    assert fake.started("slow") == 1 and fake.recoveries == []


async def test_a_run_interrupted_by_a_gateway_crash_is_followed_to_its_recovery_run(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    # Our run is held until the restart interrupts it; the recovery run until it is seen
    # running (its id reported), so it ends only after that.
    release = asyncio.Event()
    fake.agent("slow", held("slow", release))
    stream = make(fake.url, "slow", wait_ms=1000, reconnect_window=30).send(
        "migrate the db", message_id="task-crash"
    )
    first = await anext(stream)
    while fake.runs_started[0].status != "running":
        await asyncio.sleep(0.01)
    [recovery] = await fake.restart()  # mid-run: the turn is re-run under a new run id

    rest: list[AgentEvent] = []
    async with asyncio.timeout(60):  # generous: only a hang should reach it
        async for event in stream:
            rest.append(event)
            if event.remote_task_id == f"{recovery.run_id}|agent:slow:main":
                release.set()
    final = rest[-1]
    assert final.state == "completed" and final.text == "slow: migrate the db"
    assert final.remote_task_id == f"{recovery.run_id}|agent:slow:main"
    assert first.remote_task_id != final.remote_task_id
    # The new run id was reported before the result, so a Dispatch restart follows it.
    assert any(e.remote_task_id == final.remote_task_id for e in rest[:-1])
    transcript = fake.transcripts["agent:slow:main"]
    assert [m["role"] for m in transcript] == ["user", "assistant", "user", "assistant"]
    assert fake.started("slow") == 2  # ours and the gateway's own recovery run, nothing more


async def test_after_both_restart_get_and_watch_reconcile_from_history(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    release = asyncio.Event()  # the run is still going at the restart, whatever its pace
    fake.agent("slow", held("slow", release))
    fake.agent("quick", reply("quick"))
    crashed = make(fake.url, "slow")
    stream = crashed.send("write the report", message_id="task-both")
    first = await anext(stream)
    await stream.aclose()
    await crashed.aclose()  # Dispatch went down with the run in flight...
    while fake.runs_started[0].status != "running":
        await asyncio.sleep(0.01)
    [recovery] = await fake.restart()  # ...and the gateway crashed too
    release.set()
    await asyncio.wait_for(recovery.done.wait(), 10)
    assert first.remote_task_id

    after = make(fake.url, "slow")
    now = await after.get(first.remote_task_id)
    assert now.state == "completed" and now.text == "slow: write the report"
    assert now.remote_task_id == f"{recovery.run_id}|agent:slow:main"

    # A run that finished before a restart is found the same way by watch.
    done = await run(make(fake.url, "quick"), "ping", "task-quick")
    await fake.restart()
    assert done[0].remote_task_id
    watched = await rest_of(make(fake.url, "quick").watch(done[0].remote_task_id))
    assert [e.state for e in watched] == ["completed"] and watched[0].text == "quick: ping"


async def test_after_a_restart_a_turn_far_back_in_a_long_transcript_is_found(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    """A turn of many tool calls leaves hundreds of rows after the message that started
    it: reconciling reads the history back until it finds that message."""
    release = asyncio.Event()
    essay = "x" * 9000  # over chat.history's cut, too

    async def work(message: str, session_key: str) -> str:
        await release.wait()
        return essay

    fake.agent("slow", work)
    first = await anext(make(fake.url, "slow").send("audit the repo", message_id="task-far"))
    while fake.runs_started[0].status != "running":
        await asyncio.sleep(0.01)
    transcript = fake.transcripts["agent:slow:main"]
    for n in range(450):  # the turn's tool calls, after its user message
        transcript.append(
            {"__openclaw": {"id": f"tool-{n}"}, "role": "toolResult", "content": "ok"}
        )
    release.set()
    await asyncio.wait_for(fake.runs_started[0].done.wait(), 10)
    await fake.restart()  # agent.wait forgets the run: only the transcript knows
    assert first.remote_task_id

    now = await make(fake.url, "slow").get(first.remote_task_id)
    assert now.state == "completed" and now.text == essay
    assert fake.started("slow") == 1


async def test_cancel_reaches_the_gateway_and_is_quiet_when_done(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    fake.agent("slow", reply("slow", delay=30))
    backend = make(fake.url, "slow")
    stream = backend.send("endless", message_id="task-c")
    first = await anext(stream)
    await stream.aclose()
    assert first.remote_task_id is not None
    run_id = first.remote_task_id.split("|")[0]

    await backend.cancel(first.remote_task_id)
    assert fake.aborts == [("agent:slow:main", run_id)]
    assert (await backend.get(first.remote_task_id)).state == "canceled"
    await backend.cancel(first.remote_task_id)  # already finished: no error


async def test_a_failed_run_reports_the_gateways_message(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    fake.agent("broken", failing("disk quota exceeded"))
    events = await run(make(fake.url, "broken"), "build it", "task-f")
    assert events[-1].state == "failed"
    assert events[-1].text == "disk quota exceeded"


# --- errors -----------------------------------------------------------------------------------


async def test_wrong_token_is_a_clear_error_that_never_shows_the_token(
    fake: FakeOpenClaw, make: MakeBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for endpoint in ("auto", "ws", "responses"):
        backend = make(fake.url, token=WRONG, endpoint=endpoint)
        with pytest.raises(BackendError) as caught:
            await run(backend, "hello", f"task-{endpoint}")
        message = str(caught.value)
        assert f"the OpenClaw gateway at {fake.url} refused the token" in message
        assert not caught.value.unreachable  # it answered: the roster keeps the agent
        for secret in (WRONG, TOKEN):
            assert secret not in message
            assert secret not in repr(backend)
            assert secret not in repr(caught.value.__cause__)
    for secret in (WRONG, TOKEN):
        assert secret not in caplog.text
    assert fake.runs_started == []


async def test_agent_not_allowed_or_unknown_is_a_clear_error(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    fake.agent("ops", reply("ops"), allowed=False)
    for agent in ("ops", "ghost"):
        with pytest.raises(BackendError) as caught:
            await run(make(fake.url, agent), "deploy", f"task-{agent}")
        assert str(caught.value).startswith(
            f"agent '{agent}' is not allowed on the gateway at {fake.url}"
        )
    assert fake.runs_started == []


@pytest.mark.parametrize("endpoint", ["auto", "ws", "responses"])
async def test_gateway_down_is_unreachable(make: MakeBackend, endpoint: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    backend = make(url, endpoint=endpoint, reconnect_window=0.2)
    with pytest.raises(BackendError) as caught:
        await run(backend, "hello", "task-down")
    assert str(caught.value) == f"the OpenClaw gateway at {url} is unreachable: connection refused"
    assert caught.value.unreachable


# --- HTTP fallback --------------------------------------------------------------------------


async def test_http_fallback_uses_responses_when_the_websocket_is_off(
    make: MakeBackend,
) -> None:
    async with FakeOpenClaw(token=TOKEN, ws_enabled=False) as gateway:
        gateway.agent("dev", reply("dev"))
        backend = make(gateway.url)
        events = await run(backend, "summarize", "task-h1")
        events2 = await run(backend, "again", "task-h2")

        assert events[-1].state == "completed" and events[-1].text == "dev: summarize"
        assert events2[-1].text == "dev: again"
        assert backend.path == "responses"
        assert gateway.http_calls == [
            ("/v1/responses", "agent:dev:main"),
            ("/v1/responses", "agent:dev:main"),
        ]
        assert events[0].remote_task_id == "http|agent:dev:main"
        lost = await backend.get("http|agent:dev:main")
        assert lost.state == "failed" and "cannot resume" in lost.text


async def test_http_fallback_uses_chat_completions_when_responses_is_off(
    make: MakeBackend,
) -> None:
    async with FakeOpenClaw(token=TOKEN, ws_enabled=False, responses_enabled=False) as gateway:
        gateway.agent("dev", reply("dev"))
        backend = make(gateway.url, session="disposable")
        events = await run(backend, "translate", "task-h3")

        assert events[-1].state == "completed" and events[-1].text == "dev: translate"
        assert backend.path == "chat"
        path, session_key = gateway.http_calls[0]
        assert path == "/v1/chat/completions"
        assert session_key == events[-1].context_id
        assert session_key.startswith("agent:dev:dispatch:")


# --- discovery and device identity -----------------------------------------------------------


async def test_list_agents(fake: FakeOpenClaw) -> None:
    fake.agent("writer", reply("writer"), name="Writer")
    discovery = GatewayDiscovery(url=fake.url, token=SecretStr(TOKEN))
    backend = OpenClawBackend.from_discovery(discovery)
    try:
        agents = await backend.list_agents()
    finally:
        await backend.aclose()
    by_id = {a["id"]: a for a in agents}
    assert set(by_id) == {"dev", "writer"}
    assert by_id["dev"]["name"] == "Dev"
    assert by_id["dev"]["description"] == "writes code"
    assert by_id["dev"]["emoji"] == "🛠"
    assert by_id["dev"]["default"] is True and by_id["writer"]["default"] is False


async def test_device_identity_is_signed_and_scopes_need_it(
    make: MakeBackend, tmp_path: Path
) -> None:
    async with FakeOpenClaw(token=TOKEN, require_device=True) as gateway:
        gateway.agent("dev", reply("dev"))
        identity = DeviceIdentity.load_or_create(tmp_path / "device.json")
        assert DeviceIdentity.load_or_create(tmp_path / "device.json").device_id == (
            identity.device_id
        )
        signed = make(gateway.url, identity=identity)
        assert (await run(signed, "hi", "task-d1"))[-1].text == "dev: hi"
        assert signed.path == "ws"
        assert gateway.connects[-1]["device"]["id"] == identity.device_id

        with pytest.raises(BackendError, match=r"operator\.write"):
            await run(make(gateway.url, endpoint="ws"), "hi", "task-d2")
        unsigned = make(gateway.url)  # auto: scopes cleared, so the HTTP API it is
        assert (await run(unsigned, "hi", "task-d3"))[-1].text == "dev: hi"
        assert unsigned.path == "responses"


# --- result size ------------------------------------------------------------------------------

CAP = 1024
LONG = "ab€" * 60_000  # 300 kB, with a three-byte character to cut through


@pytest.mark.parametrize("ws", [True, False], ids=["websocket", "http"])
async def test_a_reply_over_the_result_cap_relays_its_head_and_says_it_was_cut(
    make: MakeBackend, ws: bool
) -> None:
    async def long_reply(message: str, session_key: str) -> str:
        return LONG

    async with FakeOpenClaw(token=TOKEN, ws_enabled=ws) as gateway:
        gateway.agent("dev", long_reply)
        backend = make(gateway.url, max_result_bytes=CAP)
        events = await run(backend, "dump the logs", "task-big")
    assert events[-1].state == "completed"
    assert events[-1].text == render.result_cut(LONG, CAP)
    assert backend.path == ("ws" if ws else "responses")


async def test_a_gateway_frame_over_the_limit_is_a_clear_error(
    fake: FakeOpenClaw, make: MakeBackend
) -> None:
    async def huge_reply(message: str, session_key: str) -> str:
        return LONG

    fake.agent("huge", huge_reply)
    backend = make(fake.url, "huge", max_result_bytes=CAP, endpoint="ws")
    backend._max_frame = 64 * 1024  # the floor is 32 MiB; reach the branch with less
    with pytest.raises(BackendError, match="sent more than Dispatch reads"):
        await rest_of(backend.send("dump the logs", message_id="task-huge"))


def test_the_result_cap_is_a_setting_every_openclaw_backend_gets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().max_result_bytes == 1_048_576
    monkeypatch.setenv("DISPATCH_MAX_RESULT_BYTES", "4096")
    settings = Settings(db=tmp_path / "d.db")
    fleet = fleet_from_data(
        {
            "agents": [
                {
                    "id": "ops",
                    "backend": {"kind": "openclaw", "url": "http://127.0.0.1:9", "agent": "ops"},
                }
            ],
            "catch_all": {"backend": {"kind": "a2a", "url": "http://127.0.0.1:9"}},
        }
    )
    backend = backend_for(fleet.agent("ops"), backend_context(settings, fleet))
    assert isinstance(backend, OpenClawBackend) and backend.max_result_bytes == 4096
