"""A2ABackend against real in-process A2A servers (a2a-sdk 1.3, JSON-RPC, 127.0.0.1:0)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import aiohttp
import httpx
import pytest
from a2a.client import A2AClientError, ClientCallContext
from a2a.types import (
    Artifact,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
)

from bot import render
from bot.backends import a2a as a2a_backend
from bot.backends.a2a import A2ABackend, _generator, _TaskView
from bot.backends.base import Backend, BackendError, read_limit
from bot.demo.agent_server import (
    AgentCall,
    AgentServer,
    Ask,
    Fail,
    Handler,
    Outcome,
    Reply,
    brief_task_line,
    demo_handler,
)
from bot.models import AgentEvent

POLL = 0.05
LIMIT = 10.0  # seconds; a hung stream fails the test instead of hanging the suite


async def collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    async with asyncio.timeout(LIMIT):
        return [event async for event in events]


@pytest.fixture
async def backends() -> AsyncIterator[list[A2ABackend]]:
    """Backends created through `connect` are closed after the test."""
    created: list[A2ABackend] = []
    yield created
    for backend in created:
        await backend.aclose()


Connect = Callable[[AgentServer], A2ABackend]


@pytest.fixture
def connect(backends: list[A2ABackend]) -> Connect:
    def make(server: AgentServer) -> A2ABackend:
        backend = A2ABackend(server.url, poll_interval=POLL)
        backends.append(backend)
        return backend

    return make


def echo(delay: float = 0.0) -> Handler:
    async def handle(call: AgentCall) -> Outcome:
        await asyncio.sleep(delay)
        return Reply(f"echo: {call.text}")

    return handle


async def test_agent_server_turns_nagle_off(connect: Connect) -> None:
    """The demo agents answer without Nagle's delay: with it, an SSE event written after the
    headers waited for the client's delayed ACK, 40 ms on most calls of a kept connection."""
    async with AgentServer("chat", echo()) as server:
        backend = connect(server)
        await collect(backend.send("hello", message_id="m1"))
        assert server._server is not None
        accepted = [
            protocol.transport.get_extra_info("socket")
            for protocol in server._server.server_state.connections
        ]
        assert accepted
        assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in accepted)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_completed_result_and_first_event_carries_ids(
    streaming: bool, connect: Connect
) -> None:
    async with AgentServer("coder", demo_handler("coder", 0.1), streaming=streaming) as server:
        backend = connect(server)
        brief = "Context: repo foo\nTask:\nfix the flaky test\nConstraints: none"
        events = await collect(
            backend.send(brief, message_id="msg-1", metadata={"dispatch_task": "t1"})
        )

    first, last = events[0], events[-1]
    assert first.state in ("submitted", "working")
    assert first.remote_task_id and first.context_id
    assert last.state == "completed"
    assert last.text == "[demo coder] Done: fix the flaky test"
    assert last.remote_task_id == first.remote_task_id
    assert all(not e.terminal for e in events[:-1])

    [call] = server.calls
    assert call.text == brief
    assert call.message_id == "msg-1"
    assert call.metadata == {"dispatch_task": "t1"}
    assert call.task_id == first.remote_task_id
    assert call.context_id == first.context_id


async def test_reply_files_become_attachments(connect: Connect) -> None:
    async def handle(call: AgentCall) -> Outcome:
        return Reply("report attached", files=[("report.pdf", "https://files.example/r.pdf")])

    async with AgentServer("writer", handle) as server:
        events = await collect(connect(server).send("write it", message_id="m"))

    done = events[-1]
    assert done.state == "completed"
    assert done.text == "report attached"
    assert [(f.name, f.url) for f in done.files] == [("report.pdf", "https://files.example/r.pdf")]


async def test_calls_reuse_one_connection(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished stream is read to its end, so its connection serves the next call
    (closing a response early closes its connection: one new connection per call)."""
    opened = 0
    real_create = aiohttp.TCPConnector._create_connection

    async def counting_create(self: aiohttp.TCPConnector, *args: Any, **kwargs: Any) -> Any:
        nonlocal opened
        opened += 1
        return await real_create(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_connection", counting_create)
    async with AgentServer("chat", echo()) as server:
        backend = connect(server)
        for i in range(5):
            events = await collect(backend.send(f"call {i}", message_id=f"m{i}"))
            assert events[-1].text == f"echo: call {i}"
            async with asyncio.timeout(LIMIT):
                while backend.open_streams:  # the finished stream is read to its end
                    await asyncio.sleep(0.01)
    assert len(server.calls) == 5
    assert opened == 1


async def test_idle_connections_are_closed(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a burst, idle connections to the agent are closed by a timer, not kept until
    the next call (httpcore's pool kept hundreds open after a burst of long tasks)."""
    monkeypatch.setattr(a2a_backend, "_KEEPALIVE_S", 0.2)
    async with AgentServer("chat", echo(0.05)) as server:
        backend = connect(server)
        await asyncio.gather(
            *(collect(backend.send(f"call {i}", message_id=f"m{i}")) for i in range(5))
        )
        assert server._server is not None
        connections = server._server.server_state.connections
        assert len(connections) == 5
        async with asyncio.timeout(2.0):  # the agent's own keep-alive ends them after 5 s
            while connections:
                await asyncio.sleep(0.05)
    assert len(server.calls) == 5


async def test_context_reuse_and_fresh_context(connect: Connect) -> None:
    async with AgentServer("chat", echo()) as server:
        backend = connect(server)
        first = await collect(backend.send("one", message_id="m1"))
        context_id = first[0].context_id
        second = await collect(backend.send("two", message_id="m2", context_id=context_id))
        third = await collect(backend.send("three", message_id="m3"))

    assert second[-1].context_id == context_id
    assert second[-1].remote_task_id != first[-1].remote_task_id  # new task, same context
    assert third[-1].context_id != context_id
    one, two, three = server.calls
    assert (one.context_id, one.calls_in_context) == (context_id, 0)
    assert (two.context_id, two.calls_in_context) == (context_id, 1)
    assert three.context_id != context_id and three.calls_in_context == 0


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_input_required_then_answer(streaming: bool, connect: Connect) -> None:
    async def handle(call: AgentCall) -> Outcome:
        if not call.history:
            return Ask("Which colour?")
        return Reply(f"{call.history[0]} in {call.text}")

    async with AgentServer("painter", handle, streaming=streaming) as server:
        backend = connect(server)
        asked = await collect(backend.send("paint the shed", message_id="m1"))
        question = asked[-1]
        assert question.state == "input_required"
        assert question.text == "Which colour?"
        assert (await backend.get(question.remote_task_id or "")).state == "input_required"

        answered = await collect(
            backend.send(
                "green",
                message_id="m2",
                context_id=question.context_id,
                remote_task_id=question.remote_task_id,
            )
        )

    assert answered[0].remote_task_id == question.remote_task_id
    assert answered[-1].state == "completed"
    assert answered[-1].text == "paint the shed in green"
    assert server.calls[1].history == ["paint the shed"]
    assert server.calls[1].task_id == question.remote_task_id


async def test_failure_reports_message(connect: Connect) -> None:
    async def handle(call: AgentCall) -> Outcome:
        return Fail("disk full")

    async with AgentServer("broken", handle) as server:
        events = await collect(connect(server).send("do it", message_id="m"))

    assert events[-1].state == "failed"
    assert events[-1].text == "disk full"
    assert events[-1].terminal


async def test_handler_exception_is_a_failure(connect: Connect) -> None:
    async def handle(call: AgentCall) -> Outcome:
        raise RuntimeError("boom")

    async with AgentServer("crashy", handle) as server:
        events = await collect(connect(server).send("do it", message_id="m"))

    assert events[-1].state == "failed"
    assert "boom" in events[-1].text


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_cancel_hanging_task(streaming: bool, connect: Connect) -> None:
    started = asyncio.Event()
    handler_cancelled = asyncio.Event()

    async def hang(call: AgentCall) -> Outcome:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            handler_cancelled.set()
            raise
        return Reply("never")

    async with AgentServer("slow", hang, streaming=streaming) as server:
        backend = connect(server)
        async with asyncio.timeout(LIMIT), aclosing(backend.send("x", message_id="m")) as events:
            first = await anext(events)
            task_id = first.remote_task_id or ""
            await started.wait()
            await backend.cancel(task_id)
            rest = [event async for event in events]
        await asyncio.wait_for(handler_cancelled.wait(), LIMIT)
        assert rest[-1].state == "canceled"
        assert (await backend.get(task_id)).state == "canceled"
        assert server.cancelled == [task_id]
        await backend.cancel(task_id)  # already terminal: must not raise


async def test_follow_up_calls_are_bounded_per_agent(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks that detach together do not read their agent all at once: GetTask calls wait
    for one of FOLLOW_CALLS slots, and every one still gets its answer."""
    monkeypatch.setattr(a2a_backend, "FOLLOW_CALLS", 2)

    async def hang(call: AgentCall) -> Outcome:
        await asyncio.sleep(60)
        return Reply("never")

    async with AgentServer("slow", hang) as server:
        backend = connect(server)
        ids = []
        for i in range(6):
            async with aclosing(backend.send("x", message_id=f"m{i}")) as events:
                ids.append((await anext(events)).remote_task_id or "")
        client, _ = await backend._connect()
        real_get_task = client.get_task
        now = peak = 0

        async def slow_get_task(*args: Any, **kwargs: Any) -> Any:
            nonlocal now, peak
            now += 1
            peak = max(peak, now)
            try:
                await asyncio.sleep(0.05)
                return await real_get_task(*args, **kwargs)
            finally:
                now -= 1

        monkeypatch.setattr(client, "get_task", slow_get_task)
        async with asyncio.timeout(LIMIT):
            events = await asyncio.gather(*(backend.get(task_id) for task_id in ids))
        assert [event.state for event in events] == ["working"] * 6
        assert peak == 2
        assert backend.follow_calls == 0


async def test_cancel_input_required_task(connect: Connect) -> None:
    async def ask(call: AgentCall) -> Outcome:
        return Ask("really?")

    async with AgentServer("asker", ask) as server:
        backend = connect(server)
        events = await collect(backend.send("x", message_id="m"))
        task_id = events[-1].remote_task_id or ""
        await backend.cancel(task_id)
        assert (await backend.get(task_id)).state == "canceled"


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
@pytest.mark.parametrize("follow", ["get", "watch"])
async def test_task_survives_client_disconnect(streaming: bool, follow: str) -> None:
    release = asyncio.Event()  # the agent finishes only once the new client has seen it running

    async def held(call: AgentCall) -> Outcome:
        await release.wait()
        return Reply(f"echo: {call.text}")

    async with AgentServer("worker", held, streaming=streaming) as server:
        first_client = A2ABackend(server.url, poll_interval=POLL)
        async with asyncio.timeout(LIMIT):
            async for event in first_client.send("long job", message_id="m"):  # noqa: B007
                break  # the dispatcher "dies" right after persisting the ids
        await first_client.aclose()
        task_id = event.remote_task_id or ""
        assert task_id

        reconnected = A2ABackend(server.url, poll_interval=POLL)
        try:
            if follow == "watch":
                events: list[AgentEvent] = []
                async with asyncio.timeout(LIMIT):
                    async for seen in reconnected.watch(task_id):
                        events.append(seen)
                        release.set()
                assert events[0].state in ("submitted", "working")  # still running on reconnect
                done = events[-1]
            else:
                first = await reconnected.get(task_id)
                assert first.state in ("submitted", "working")
                release.set()
                async with asyncio.timeout(LIMIT):
                    while not (done := await reconnected.get(task_id)).terminal:
                        await asyncio.sleep(POLL)
            assert done.state == "completed"
            assert done.text == "echo: long job"
            assert done.context_id == event.context_id

            # Watching a finished task yields its final event once.
            again = await collect(reconnected.watch(task_id))
            assert [(e.state, e.text) for e in again] == [("completed", "echo: long job")]
        finally:
            await reconnected.aclose()
        assert server.cancelled == []


async def test_watch_input_required_ends_on_question(connect: Connect) -> None:
    async def slow_ask(call: AgentCall) -> Outcome:
        await asyncio.sleep(0.2)
        return Ask("which branch?")

    async with AgentServer("asker", slow_ask) as server:
        backend = connect(server)
        async with aclosing(backend.send("deploy", message_id="m")) as events:
            first = await anext(events)
        watched = await collect(backend.watch(first.remote_task_id or ""))

    assert watched[-1].state == "input_required"
    assert watched[-1].text == "which branch?"


async def test_unreachable_agent_raises_backend_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend: Backend = A2ABackend(f"http://127.0.0.1:{port}")  # also checks the protocol
    try:
        with pytest.raises(BackendError, match="unreachable"):
            await backend.get("t-1")
        with pytest.raises(BackendError, match="unreachable"):
            await collect(backend.send("hi", message_id="m"))
    finally:
        await backend.aclose()


async def test_dropped_connection_is_reported_as_such() -> None:
    """An agent that hangs up is not reported as a timeout (httpx-aiohttp maps aiohttp's
    ServerDisconnectedError to httpx's ConnectTimeout)."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    backend = A2ABackend(url)
    try:
        with pytest.raises(BackendError) as caught:
            await collect(backend.send("hello", message_id="m"))
    finally:
        await backend.aclose()
        server.close()
        await server.wait_closed()
    assert str(caught.value).startswith("the connection to the agent failed: ")
    assert "disconnected" in str(caught.value).lower()
    assert "127.0.0.1" not in str(caught.value)  # addresses stay in the log, out of chat


async def test_unknown_task_is_a_backend_error(connect: Connect) -> None:
    async with AgentServer("alpha", echo()) as server:
        backend = connect(server)
        with pytest.raises(BackendError, match="not found"):
            await backend.get("no-such-task")
        await backend.cancel("no-such-task")  # best effort: not an error


async def test_send_errors_from_the_agent_are_backend_errors(connect: Connect) -> None:
    async with AgentServer("alpha", echo()) as server:
        backend = connect(server)
        with pytest.raises(BackendError, match="not found"):
            await collect(backend.send("answer", message_id="m1", remote_task_id="nope"))
        done = await collect(backend.send("job", message_id="m2"))
        with pytest.raises(BackendError, match="terminal"):
            await collect(
                backend.send("more", message_id="m3", remote_task_id=done[-1].remote_task_id)
            )


@pytest.mark.parametrize("how", ["ends", "breaks"])
async def test_stream_that_stops_early_falls_back_to_polling(
    how: str, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AgentServer("worker", echo(0.3)) as server:
        backend = connect(server)
        await backend.card()  # resolve the client so its send_message can be wrapped
        client = backend._client
        assert client is not None
        real_send = client.send_message

        async def first_event_only(
            request: SendMessageRequest, *, context: ClientCallContext | None = None
        ) -> AsyncIterator[StreamResponse]:
            async with aclosing(_generator(real_send(request, context=context))) as stream:
                async for response in stream:
                    yield response
                    break
            if how == "breaks":
                error = httpx.ReadError("connection reset")
                raise A2AClientError(f"Network communication error: {error}") from error

        monkeypatch.setattr(client, "send_message", first_event_only)
        events = await collect(backend.send("job", message_id="m"))

    assert events[0].remote_task_id
    assert (events[-1].state, events[-1].text) == ("completed", "echo: job")


async def test_stream_read_timeout_falls_back_to_polling_on_callers_client() -> None:
    async with (
        AgentServer("slowpoke", echo(0.5)) as server,
        httpx.AsyncClient(timeout=httpx.Timeout(2.0, read=0.15)) as http,
    ):
        backend = A2ABackend(server.url, http=http, poll_interval=POLL)
        events = await collect(backend.send("job", message_id="m"))
        await backend.aclose()
        assert not http.is_closed  # the caller's client is the caller's to close

    assert (events[-1].state, events[-1].text) == ("completed", "echo: job")


async def test_direct_message_reply(connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    async with AgentServer("alpha", echo()) as server:
        backend = connect(server)
        await backend.card()
        client = backend._client
        assert client is not None

        async def direct(
            request: SendMessageRequest, *, context: ClientCallContext | None = None
        ) -> AsyncIterator[StreamResponse]:
            reply = Message(
                role=Role.ROLE_AGENT, message_id="r1", context_id="ctx-9", parts=[Part(text="hi")]
            )
            yield StreamResponse(message=reply)

        monkeypatch.setattr(client, "send_message", direct)
        events = await collect(backend.send("hello", message_id="m"))

    assert events == [AgentEvent(state="completed", context_id="ctx-9", text="hi")]


async def test_card_returns_skills(connect: Connect) -> None:
    skills = [
        {
            "id": "review",
            "name": "Code review",
            "description": "Reviews pull requests",
            "tags": ["code", "review"],
            "examples": ["Review PR 12"],
        }
    ]
    async with AgentServer("reviewer", echo(), description="Reviews code", skills=skills) as s:
        card = await connect(s).card()

    assert card["name"] == "reviewer"
    assert card["description"] == "Reviews code"
    assert card["streaming"] is True
    assert card["skills"] == skills


async def test_many_servers_in_one_loop(connect: Connect) -> None:
    servers = [AgentServer(f"a{i}", demo_handler(f"a{i}", 0.1)) for i in range(5)]
    for server in servers:
        await server.start()
    try:
        results = await asyncio.gather(
            *(collect(connect(s).send("Task: go", message_id="m")) for s in servers)
        )
    finally:
        await asyncio.gather(*(s.stop() for s in servers))
    assert [r[-1].text for r in results] == [f"[demo a{i}] Done: go" for i in range(5)]


def test_brief_task_line() -> None:
    assert brief_task_line("Context: x\nTask:\n  do the thing \nmore") == "do the thing"
    assert brief_task_line("Context: x\nTask: inline task\nmore") == "inline task"
    assert brief_task_line("\n  first line\nsecond") == "first line"


def test_task_view_append_chunks_and_replacement() -> None:
    view = _TaskView()
    view.apply(StreamResponse(task={"id": "t", "context_id": "c"}))

    def chunk(artifact_id: str, text: str, *, append: bool) -> StreamResponse:
        artifact = Artifact(artifact_id=artifact_id, parts=[Part(text=text)])
        update = TaskArtifactUpdateEvent(
            task_id="t", context_id="c", artifact=artifact, append=append
        )
        return StreamResponse(artifact_update=update)

    view.apply(chunk("a", "Hel", append=False))
    view.apply(chunk("a", "lo", append=True))
    view.apply(chunk("b", "draft", append=False))
    view.apply(chunk("b", "final", append=False))  # a non-append chunk replaces
    view.apply(
        StreamResponse(
            status_update={
                "task_id": "t",
                "context_id": "c",
                "status": {"state": TaskState.TASK_STATE_COMPLETED},
            }
        )
    )
    event = view.event()
    assert (event.state, event.text) == ("completed", "Hello\n\nfinal")


def test_task_view_history_fallback_is_current_round_only() -> None:
    def task(*history: tuple[int, str]) -> Task:
        return Task(
            id="t",
            context_id="c",
            status={"state": TaskState.TASK_STATE_COMPLETED},
            history=[
                {"role": role, "message_id": f"m{i}", "parts": [{"text": text}]}
                for i, (role, text) in enumerate(history)
            ],
        )

    view = _TaskView()
    view.apply_task(task((Role.ROLE_USER, "do it"), (Role.ROLE_AGENT, "result")))
    assert view.event().text == "result"

    view.apply_task(
        task(
            (Role.ROLE_USER, "do it"),
            (Role.ROLE_AGENT, "which one?"),
            (Role.ROLE_USER, "the red one"),
        )
    )
    assert view.event().text == ""  # the old question is not the result


def test_task_view_keeps_no_streamed_chunks_past_the_cap() -> None:
    view = _TaskView(max_result_bytes=1000)
    view.apply(StreamResponse(task={"id": "t", "context_id": "c"}))
    for index in range(2000):
        artifact = Artifact(artifact_id="a", parts=[Part(text="y" * 100)])
        update = TaskArtifactUpdateEvent(
            task_id="t", context_id="c", artifact=artifact, append=index > 0
        )
        view.apply(StreamResponse(artifact_update=update))
    assert len(view.artifacts[0].parts) <= 12  # the rest was dropped as it arrived
    view.apply(
        StreamResponse(
            status_update={
                "task_id": "t",
                "context_id": "c",
                "status": {"state": TaskState.TASK_STATE_COMPLETED},
            }
        )
    )
    event = view.event()
    assert event.text == render.result_cut("y" * 2000, 1000)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_a_long_result_is_relayed_cut(streaming: bool, backends: list[A2ABackend]) -> None:
    async with AgentServer("long", _reply("é" * 5000 + "END"), streaming=streaming) as server:
        backend = A2ABackend(server.url, poll_interval=POLL, max_result_bytes=4096)
        backends.append(backend)
        final = (await collect(backend.send("hello", message_id="m")))[-1]
    assert final.state == "completed"
    assert final.text == render.result_cut("é" * 5000 + "END", 4096)
    assert final.text.startswith("é" * 2048 + "\n\n") and "END" not in final.text


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "polling"])
async def test_a_huge_answer_is_not_read_past_the_limit(
    streaming: bool, backends: list[A2ABackend]
) -> None:
    """An answer too big to hold a capped result stops being read at `read_limit`: the task
    fails with a clear message instead of the whole answer landing in memory."""
    async with AgentServer("huge", _reply("x" * 400_000), streaming=streaming) as server:
        backend = A2ABackend(server.url, poll_interval=POLL, max_result_bytes=1024)
        backends.append(backend)
        with pytest.raises(BackendError) as caught:
            await collect(backend.send("hello", message_id="m"))
    assert str(caught.value) == (
        f"the agent answered with more than {render.size(read_limit(1024))}; nothing of it was read"
    )


def _reply(text: str) -> Handler:
    async def handle(call: AgentCall) -> Outcome:
        return Reply(text)

    return handle
