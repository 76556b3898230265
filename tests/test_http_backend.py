"""HTTP agents: a real local HTTP agent, a real callback endpoint, a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.memory import MemoryAdapter
from bot import render
from bot.backends.base import read_limit
from bot.dispatcher import Dispatcher
from bot.manifest import ManifestError, fleet_from_data
from bot.runtime import running_dispatcher
from bot.settings import Settings

Handler = Callable[[dict[str, Any]], Awaitable[web.Response]]


class HTTPAgent:
    """A local agent speaking the HTTP contract; records every request."""

    def __init__(self, handler: Handler, *, token: str | None = None) -> None:
        self.handler = handler
        self.token = token
        """If set, every request (HEAD too) without `Bearer <token>` is answered 401."""
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _serve(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        return await self.handler(body)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    async def __aenter__(self) -> HTTPAgent:
        app = web.Application(middlewares=[self._auth] if self.token else [])
        app.router.add_post("/agent", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/agent"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fleet_for(url: str) -> Any:
    return fleet_from_data(
        {
            "agents": [
                {
                    "id": "writer",
                    "name": "Writer",
                    "emoji": "✍️",
                    "skills": ["newsletter", "blog post"],
                    "backend": {
                        "kind": "http",
                        "url": url,
                        "headers": {"Authorization": "Bearer ${WRITER_TOKEN}"},
                    },
                    "timeout": 20,
                }
            ],
            "catch_all": {"backend": {"kind": "a2a", "url": "http://127.0.0.1:9"}},
        }
    )


@contextlib.asynccontextmanager
async def dispatch(
    tmp_path: Path, url: str, port: int, adapter: MemoryAdapter | None = None, **overrides: Any
) -> AsyncIterator[tuple[Dispatcher, MemoryAdapter]]:
    adapter = adapter or MemoryAdapter()
    settings = Settings(db=tmp_path / "d.db", board_interval=0.05, callback_port=port, **overrides)
    async with running_dispatcher(settings, fleet_for(url), [adapter]) as dispatcher:
        yield dispatcher, adapter


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRITER_TOKEN", "w-secret-123")


async def test_a_synchronous_answer_is_the_result(tmp_path: Path) -> None:
    async def answer(body: dict[str, Any]) -> web.Response:
        return web.json_response(
            {"status": "completed", "result": f"done: {body['text'].splitlines()[0]}"}
        )

    async with HTTPAgent(answer) as agent, dispatch(tmp_path, agent.url, free_port()) as (d, chat):
        await chat.send("Writer: draft the newsletter")
        await d.idle(10)
        rows = await d.store.all("SELECT * FROM tasks")
        assert "w-secret-123" not in str([dict(r) for r in rows])
    assert [m.text for m in chat.of_kind("result")] == ["done: Task: draft the newsletter"]
    request = agent.requests[0]
    assert request["text"].startswith("Task: draft the newsletter")
    assert request["task_id"].endswith("/t1") and request["callback_url"].startswith(
        "http://127.0.0.1:"
    )
    assert agent.headers[0]["Authorization"] == "Bearer w-secret-123"


async def test_an_accepted_task_reports_by_callback_once_and_a_duplicate_is_ignored(
    tmp_path: Path,
) -> None:
    callback: dict[str, str] = {}

    async def accept(body: dict[str, Any]) -> web.Response:
        callback["url"] = body["callback_url"]
        return web.json_response({"status": "accepted", "id": "job-7"}, status=202)

    async with HTTPAgent(accept) as agent, dispatch(tmp_path, agent.url, free_port()) as (d, chat):
        await chat.send("Writer: draft the newsletter")
        await chat.wait_for(lambda: bool(callback))
        async with asyncio.timeout(10):  # the 202 is recorded just after the agent sent it
            while not await d.store.all("SELECT 1 FROM tasks WHERE remote_task_id = 'job-7'"):
                await asyncio.sleep(0.01)
        rows = await d.store.all("SELECT state, remote_task_id FROM tasks")
        assert (rows[0]["state"], rows[0]["remote_task_id"]) == ("running", "job-7")
        report = {"status": "completed", "result": "the newsletter, via callback"}
        async with aiohttp.ClientSession() as session:
            first = await session.post(callback["url"], json=report)
            again = await session.post(callback["url"], json=report)
            forged = await session.post(callback["url"].split("?")[0] + "?sig=00", json=report)
            assert (first.status, await first.json()) == (200, {"ok": True, "duplicate": False})
            assert (again.status, await again.json()) == (200, {"ok": True, "duplicate": True})
            assert forged.status == 401
        await d.idle(10)
    assert [m.text for m in chat.of_kind("result")] == ["the newsletter, via callback"]
    assert len(chat.of_kind("closing")) == 1


async def test_a_callback_after_a_restart_still_lands_once(tmp_path: Path) -> None:
    callback: dict[str, str] = {}

    async def accept(body: dict[str, Any]) -> web.Response:
        callback["url"] = body["callback_url"]
        return web.json_response({"status": "accepted", "id": "job-8"}, status=202)

    port = free_port()
    async with HTTPAgent(accept) as agent:
        async with dispatch(tmp_path, agent.url, port) as (d1, chat):
            await chat.send("Writer: draft the newsletter")
            await chat.wait_for(lambda: bool(callback))
            async with asyncio.timeout(10):  # the 202 is recorded just after the agent sent it
                while not await d1.store.all("SELECT 1 FROM tasks WHERE remote_task_id = 'job-8'"):
                    await asyncio.sleep(0.01)
        # Dispatch is down; it comes back on the same callback port and key.
        fresh = MemoryAdapter()
        async with dispatch(tmp_path, agent.url, port, fresh) as (d2, _):
            async with aiohttp.ClientSession() as session:
                response = await session.post(
                    callback["url"], json={"status": "completed", "result": "late but here"}
                )
                assert (await response.json())["duplicate"] is False
            await d2.idle(10)
        assert len(agent.requests) == 1  # never resubmitted
    assert [m.text for m in fresh.of_kind("result")] == ["late but here"]


async def test_errors_and_questions_follow_the_contract(tmp_path: Path) -> None:
    async def agent_logic(body: dict[str, Any]) -> web.Response:
        if "broken" in body["text"]:
            return web.Response(status=500, text="boom: database down")
        if body.get("continue_id") == "q-1":
            return web.json_response({"status": "completed", "result": f"tone: {body['text']}"})
        return web.json_response(
            {"status": "input_required", "question": "Formal or casual?", "id": "q-1"}
        )

    async with (
        HTTPAgent(agent_logic) as agent,
        dispatch(tmp_path, agent.url, free_port()) as (d, chat),
    ):
        await chat.send("Writer: draft the broken thing")
        asked = await chat.send("Writer: draft the newsletter")
        await chat.wait_for(lambda: bool(chat.of_kind("question")))
        await chat.send("casual", thread=asked.thread_key)
        await d.idle(10)
    notices = [m.text for m in chat.of_kind("notice")]
    assert any("HTTP 500: boom: database down" in n for n in notices)
    assert [m.text for m in chat.of_kind("question")] == ["Formal or casual?"]
    # The agent is told who answered (anyone in a thread could write there).
    assert [m.text for m in chat.of_kind("result")] == ["tone: Answer from U1: casual"]


async def test_the_probe_signs_in_so_a_rejected_token_is_unavailable(tmp_path: Path) -> None:
    async def answer(body: dict[str, Any]) -> web.Response:
        return web.json_response({"status": "completed", "result": "ok"})

    async with HTTPAgent(answer, token="w-secret-123") as agent:
        async with dispatch(tmp_path, agent.url, free_port()) as (d, _):
            assert d.unavailable == {}
        agent.token = "rotated-token"  # the manifest still sends the old one
        async with dispatch(tmp_path, agent.url, free_port()) as (d, _):
            assert d.unavailable["writer"] == "refused the credentials (HTTP 401)"
        assert agent.requests == []  # probing never posts work


async def test_an_unreachable_agent_is_reported(tmp_path: Path) -> None:
    async with dispatch(tmp_path, f"http://127.0.0.1:{free_port()}/agent", free_port()) as (
        d,
        chat,
    ):
        await chat.send("Writer: draft the newsletter")
        await d.idle(10)
    assert "unreachable" in chat.of_kind("notice")[0].text


async def test_an_agent_that_stops_answering_is_marked_unavailable(tmp_path: Path) -> None:
    async def answer(body: dict[str, Any]) -> web.Response:
        return web.json_response({"status": "completed", "result": "ok"})

    agent = HTTPAgent(answer)
    await agent.__aenter__()
    async with dispatch(tmp_path, agent.url, free_port()) as (d, chat):
        assert d.unavailable == {}
        await agent.__aexit__()
        await chat.send("Writer: draft the newsletter")
        await d.idle(10)
        assert "unreachable" in d.unavailable["writer"]


async def test_an_error_that_merely_says_refused_leaves_the_agent_available(
    tmp_path: Path,
) -> None:
    async def answer(body: dict[str, Any]) -> web.Response:
        return web.json_response({"status": "refused"})  # not in the contract

    async with (
        HTTPAgent(answer) as agent,
        dispatch(tmp_path, agent.url, free_port()) as (d, chat),
    ):
        await chat.send("Writer: draft the newsletter")
        await d.idle(10)
        assert "unknown status 'refused'" in chat.of_kind("notice")[0].text
        assert d.unavailable == {}  # the agent answered: it is there


async def test_callback_url_is_signed_per_task(tmp_path: Path) -> None:
    from bot.callbacks import CallbackServer, load_key

    key = load_key(tmp_path / "k")
    assert load_key(tmp_path / "k") == key  # stable across restarts
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    (tmp_path / "k").chmod(0o644)  # written by an earlier version
    assert load_key(tmp_path / "k") == key
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    server = CallbackServer(key, port=0)
    assert server.sign("req-1/t1") != server.sign("req-1/t2")
    await asyncio.sleep(0)


async def test_a_callback_is_bound_to_its_attempt_and_may_sign_in_a_header(
    tmp_path: Path,
) -> None:
    """A retried task refuses a replay of the first attempt's report; the signature may come
    in the X-Dispatch-Signature header instead of the URL."""
    callbacks: list[str] = []

    async def accept(body: dict[str, Any]) -> web.Response:
        callbacks.append(body["callback_url"])
        return web.json_response({"status": "accepted", "id": f"job-{len(callbacks)}"}, status=202)

    failure = {"status": "failed", "error": "the first attempt broke"}
    async with HTTPAgent(accept) as agent, dispatch(tmp_path, agent.url, free_port()) as (d, chat):
        await chat.send("Writer: draft the newsletter")
        await chat.wait_for(lambda: len(callbacks) == 1)
        async with aiohttp.ClientSession() as session:
            first = await session.post(callbacks[0], json=failure)
            assert (await first.json())["duplicate"] is False
            await d.idle(10)
            task = (await d.store.all("SELECT id, state FROM tasks"))[0]
            assert task["state"] == "failed"

            await d.retry_task(task["id"], "alice")
            await chat.wait_for(lambda: len(callbacks) == 2)
            assert callbacks[1] != callbacks[0]
            replay = await session.post(callbacks[0], json=failure)
            assert (replay.status, await replay.json()) == (200, {"ok": True, "duplicate": True})
            state = await d.store.one("SELECT state FROM tasks WHERE id = ?", (task["id"],))
            assert state is not None and state["state"] == "running"

            bare, _, query = callbacks[1].partition("?")
            params = dict(part.split("=", 1) for part in query.split("&"))
            signature = params.pop("sig")
            unsigned = bare + "?" + "&".join(f"{k}={v}" for k, v in params.items())
            report = {"status": "completed", "result": "the second attempt's newsletter"}
            forged = await session.post(
                unsigned, json=report, headers={"X-Dispatch-Signature": "0" * 64}
            )
            assert forged.status == 401
            signed = await session.post(
                unsigned, json=report, headers={"X-Dispatch-Signature": signature}
            )
            assert (await signed.json())["duplicate"] is False
        await d.idle(10)
    assert [m.text for m in chat.of_kind("result")] == ["the second attempt's newsletter"]


async def test_a_long_answer_is_relayed_cut_and_a_huge_one_is_not_read_to_its_end(
    tmp_path: Path,
) -> None:
    sent: dict[str, int] = {"bytes": 0}

    async def endless(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"status": "completed", "result": "')
        with contextlib.suppress(ConnectionError):
            while True:  # never ends: only a reader that stops at its limit gets past this
                await response.write(b"z" * 65536)
                sent["bytes"] += 65536
        return response

    async def long(body: dict[str, Any]) -> web.Response:
        return web.json_response({"status": "completed", "result": "é" * 5000 + "END"})

    async with HTTPAgent(long) as agent:
        agent_app_url = agent.url
        async with dispatch(tmp_path, agent_app_url, free_port(), max_result_bytes=4096) as (
            d,
            chat,
        ):
            await chat.send("Writer: draft the newsletter")
            await d.idle(10)
        [result] = [m.text for m in chat.of_kind("result")]
        head, _, note = result.partition("\n\n")
        assert head == "é" * 2048 and "END" not in result
        assert note == render.result_cut("x" * 5000, 4096).partition("\n\n")[2]

    app = web.Application()
    app.router.add_post("/agent", endless)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/agent"
    try:
        async with dispatch(tmp_path / "huge", url, free_port(), max_result_bytes=4096) as (
            d,
            chat,
        ):
            await chat.send("Writer: draft the newsletter")
            await d.idle(10)
    finally:
        await runner.cleanup()
    [notice] = [m.text for m in chat.of_kind("notice")]
    assert f"more than {render.size(read_limit(4096))}" in notice
    assert "127.0.0.1" not in notice


def test_tokens_over_plain_http_to_another_host_are_refused() -> None:
    def fleet(backend: dict[str, Any], gateways: list[dict[str, Any]] | None = None) -> Any:
        return fleet_from_data(
            {
                "agents": [{"id": "writer", "backend": backend}],
                "catch_all": {"backend": {"kind": "a2a", "url": "http://127.0.0.1:9"}},
                "gateways": gateways or [],
            },
            source="fleet.yaml",
        )

    headers = {"Authorization": "Bearer ${WRITER_TOKEN}"}
    with pytest.raises(ManifestError) as caught:
        fleet({"kind": "http", "url": "http://agents.example.com/w", "headers": headers})
    assert str(caught.value) == (
        "fleet.yaml: agent 'writer' (agents[0]): field 'backend.headers' would be sent over"
        " plain http:// to agents.example.com, another machine, where anyone on the way can"
        " read it; use https://, or set allow_insecure: true"
    )
    with pytest.raises(ManifestError, match=r"field 'backend.token' .* plain ws://"):
        fleet({"kind": "openclaw", "url": "ws://10.0.0.5:18789", "token": "t", "agent": "main"})
    with pytest.raises(ManifestError, match=r"field 'gateways.0.token' .* plain http://"):
        fleet(
            {"kind": "http", "url": "http://127.0.0.1:1/w"},
            [{"url": "http://gw.example.com", "token": "t"}],
        )

    # Loopback, TLS, no token, or an explicit opt-in are all fine.
    fleet({"kind": "http", "url": "http://localhost:8080/w", "headers": headers})
    fleet({"kind": "http", "url": "https://agents.example.com/w", "headers": headers})
    fleet({"kind": "http", "url": "http://agents.example.com/w"})
    opted = fleet(
        {"kind": "http", "url": "http://127.0.0.1:1/w"},
        [{"url": "http://gw.example.com", "token": "t", "allow_insecure": True}],
    )
    assert opted.gateways[0].allow_insecure
    with pytest.raises(ManifestError, match="allow_insecure"):
        fleet({"kind": "openclaw", "url": "ws://[2001:db8::1]:1", "token": "t", "agent": "m"})
    fleet(
        {
            "kind": "openclaw",
            "url": "ws://10.0.0.5:18789",
            "token": "t",
            "agent": "main",
            "allow_insecure": True,
        }
    )


async def test_a_callback_that_reaches_another_replica_is_relayed_once(
    tmp_path: Path, pg_url: str
) -> None:
    """Replicas share one public callback URL behind a load balancer: an HTTP agent's report
    may reach a replica that did not start the task. It is recorded there, the result goes
    out once, and the replica that started the task stops waiting for it."""
    callback: dict[str, str] = {}

    async def accept(body: dict[str, Any]) -> web.Response:
        callback["url"] = body["callback_url"]
        return web.json_response({"status": "accepted", "id": "job-9"}, status=202)

    shared = {"db": pg_url, "state_dir": tmp_path, "board_interval": 0.05}
    ports = free_port(), free_port()
    chats = MemoryAdapter(), MemoryAdapter()
    async with HTTPAgent(accept) as agent, contextlib.AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(
                running_dispatcher(
                    Settings(**shared, callback_port=port), fleet_for(agent.url), [chat]
                )
            )
            for port, chat in zip(ports, chats, strict=True)
        ]
        await chats[0].send("Writer: draft the newsletter")
        await chats[0].wait_for(lambda: bool(callback))
        async with asyncio.timeout(10):
            while not await replicas[0].store.all(
                "SELECT 1 FROM tasks WHERE remote_task_id = 'job-9'"
            ):
                await asyncio.sleep(0.01)
        (task,) = await replicas[0].store.all("SELECT id, owner FROM tasks")
        # Either replica may have started it; the report goes to the other one.
        mine = [r.membership.id for r in replicas].index(task["owner"])
        owner, other = replicas[mine], replicas[1 - mine]
        assert task["id"] in owner.runner.runners
        elsewhere = callback["url"].replace(f":{ports[mine]}/", f":{ports[1 - mine]}/")
        assert elsewhere != callback["url"]
        async with aiohttp.ClientSession() as session:
            answer = await session.post(elsewhere, json={"status": "completed", "result": "ok"})
            assert (await answer.json())["duplicate"] is False
        async with asyncio.timeout(20):  # the owner hears of it and stops waiting
            while task["id"] in owner.runner.runners:
                await asyncio.sleep(0.02)
        await other.idle(10)
        await owner.idle(10)
    results = [m.text for chat in chats for m in chat.of_kind("result")]
    assert results == ["ok"]
    assert len(agent.requests) == 1
