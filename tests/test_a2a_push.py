"""Long A2A tasks give up their stream and are followed by push notifications or polling.

Real A2A agents (bot.demo.agent_server, a2a-sdk server with its push sender) on 127.0.0.1,
the real callback endpoint, and for the end-to-end cases the real dispatcher and SQLite.
Agents here hold their task until the test releases it, so nothing depends on wall-clock
timing except generous upper bounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.backends.a2a import PUSH_CHECK_INTERVAL, A2ABackend
from bot.callbacks import PUSH_TOKEN_HEADER, CallbackServer, PushWatch, load_key
from bot.demo.agent_server import AgentCall, AgentServer, Ask, Handler, Outcome, Reply
from bot.models import AgentEvent, Request
from tests.conftest import HarnessFactory
from tests.fakes import PARTIAL_REQUESTS, sent_and_left_open

POLL = 0.05
DETACH = 0.3
LIMIT = 30.0
NEVER = 600.0
"""A safety-net / polling interval no test can wait for: a result that arrives came by push."""


async def until(predicate: Callable[[], bool], what: str, timeout: float = LIMIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def gated(release: asyncio.Event, outcome: Outcome) -> Handler:
    """Work until the test releases the agent, then return `outcome`."""

    async def handle(call: AgentCall) -> Outcome:
        await release.wait()
        return outcome

    return handle


@pytest.fixture
async def callbacks(tmp_path: Path) -> AsyncIterator[CallbackServer]:
    server = CallbackServer(load_key(tmp_path / "callback-key"))
    await server.start()
    yield server
    await server.stop()


class Follower:
    """Runs `backend.send` in the background and keeps every event; counts GetTask calls
    once they have answered (so the follower has seen what each one read)."""

    def __init__(self, backend: A2ABackend, text: str = "job", message_id: str = "m") -> None:
        self.events: list[AgentEvent] = []
        self.gets = 0
        real_get = backend.get

        async def counted_get(remote_task_id: str) -> AgentEvent:
            try:
                return await real_get(remote_task_id)
            finally:
                self.gets += 1

        backend.get = counted_get  # type: ignore[method-assign]
        self.task = asyncio.create_task(self._run(backend, text, message_id))

    async def _run(self, backend: A2ABackend, text: str, message_id: str) -> None:
        async for event in backend.send(text, message_id=message_id):
            self.events.append(event)

    @property
    def task_id(self) -> str:
        return self.events[0].remote_task_id or ""

    async def done(self) -> list[AgentEvent]:
        await asyncio.wait_for(self.task, LIMIT)
        return self.events


def pushed_backend(server: AgentServer, callbacks: CallbackServer) -> A2ABackend:
    """Detaches at once and is followed by push only (no safety-net reads, no polling)."""
    return A2ABackend(
        server.url,
        callbacks=callbacks,
        detach_after=DETACH,
        poll_interval=POLL,
        push_check_interval=NEVER,
        poll_max_interval=NEVER,
    )


def only_watch(callbacks: CallbackServer) -> PushWatch:
    [watch] = callbacks._watches.values()
    return watch


def finals(events: list[AgentEvent]) -> list[tuple[str, str]]:
    return [(e.state, e.text) for e in events if e.terminal or e.state == "input_required"]


# -- the backend ------------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
async def test_a_long_task_gives_up_its_stream_and_its_result_comes_by_push(
    streaming: bool, callbacks: CallbackServer
) -> None:
    release = asyncio.Event()
    async with AgentServer("long", gated(release, Reply("done")), streaming=streaming) as server:
        backend = pushed_backend(server, callbacks)
        follower = Follower(backend)
        try:
            await until(lambda: callbacks.push_watches == 1, "the push registration")
            assert backend.open_streams == 0
            await until(lambda: server.open_streams == 0, "the agent to see the stream closed")
            assert not follower.task.done()
            gets = follower.gets

            release.set()
            events = await follower.done()  # within LIMIT: only a push (or a poll) brings it
        finally:
            follower.task.cancel()
            await backend.aclose()

    assert finals(events) == [("completed", "done")]  # exactly one result, and it is the last
    assert events[-1].terminal and events[0].remote_task_id
    assert follower.gets - gets <= 3  # read on the push (no polling while waiting)
    assert callbacks.push_watches == 0


@pytest.mark.parametrize("why", ["agent-without-push", "no-callback-endpoint"])
async def test_without_push_a_long_task_is_polled_with_backoff(
    why: str, callbacks: CallbackServer
) -> None:
    release = asyncio.Event()
    push = why != "agent-without-push"
    async with AgentServer(
        "long", gated(release, Reply("done")), push_notifications=push
    ) as server:
        backend = A2ABackend(
            server.url,
            callbacks=callbacks if why != "no-callback-endpoint" else None,
            detach_after=DETACH,
            poll_interval=POLL,
            poll_max_interval=0.2,
            push_check_interval=NEVER,
        )
        follower = Follower(backend)
        try:
            await until(lambda: bool(follower.events), "the first event")
            await until(lambda: backend.open_streams == 0, "the stream to be given up")
            await until(lambda: server.open_streams == 0, "the agent to see the stream closed")
            gets = follower.gets
            # Still following it, by GetTask (awaited, not timed: a loaded machine polls late).
            await until(lambda: follower.gets - gets >= 3, "three more GetTask calls")
            assert callbacks.push_watches == 0
            assert not follower.task.done()

            release.set()
            events = await follower.done()  # within LIMIT: only a push (or a poll) brings it
        finally:
            follower.task.cancel()
            await backend.aclose()

    assert finals(events) == [("completed", "done")]


def test_push_is_only_offered_where_the_agent_can_reach_us() -> None:
    local = CallbackServer(b"k" * 32)
    assert local.reaches("http://127.0.0.1:9100")
    assert local.reaches("http://localhost:9100")
    assert not local.reaches("https://agents.example")
    assert CallbackServer(b"k" * 32, public_url="https://dispatch.example").reaches(
        "https://agents.example"
    )
    assert CallbackServer(b"k" * 32, host="10.0.0.5").reaches("https://agents.example")
    assert not CallbackServer(b"k" * 32, host="0.0.0.0").reaches("https://agents.example")


async def test_a_forged_or_unsigned_push_is_refused_and_changes_nothing(
    callbacks: CallbackServer,
) -> None:
    release = asyncio.Event()
    async with AgentServer("long", gated(release, Reply("real result"))) as server:
        backend = pushed_backend(server, callbacks)
        follower = Follower(backend)
        try:
            await until(lambda: callbacks.push_watches == 1, "the push registration")
            watch = only_watch(callbacks)
            # Registered, it reads the task once more and then waits for a push.
            await until(lambda: follower.gets >= 1, "the read after the registration")
            events_before, gets_before = len(follower.events), follower.gets
            base, _, signature = watch.url.partition("?")
            body = {
                "statusUpdate": {
                    "taskId": follower.task_id,
                    "contextId": "c",
                    "status": {
                        "state": "TASK_STATE_COMPLETED",
                        "message": {"role": "ROLE_AGENT", "parts": [{"text": "forged result"}]},
                    },
                }
            }
            token = {PUSH_TOKEN_HEADER: watch.token}
            async with httpx.AsyncClient() as http:
                refused = [
                    await http.post(base, json=body, headers=token),  # unsigned
                    await http.post(f"{base}?sig={'0' * 64}", json=body, headers=token),  # forged
                    await http.post(f"{base}x?{signature}", json=body, headers=token),  # other task
                    await http.post(watch.url, json=body),  # no token
                    await http.post(watch.url, json=body, headers={PUSH_TOKEN_HEADER: "guess"}),
                ]
                assert [r.status_code for r in refused] == [401] * 5
                other = {"statusUpdate": {**body["statusUpdate"], "taskId": "another-task"}}
                wrong_task = await http.post(watch.url, json=other, headers=token)
                assert wrong_task.status_code == 400
            await asyncio.sleep(0.3)
            assert not watch.pushed.is_set()
            assert (len(follower.events), follower.gets) == (events_before, gets_before)
            assert not follower.task.done()

            release.set()
            events = await follower.done()
        finally:
            follower.task.cancel()
            await backend.aclose()

    assert finals(events) == [("completed", "real result")]  # the agent's, not the forgery


async def test_150_concurrent_long_tasks_on_one_agent_hold_150_streams_at_once(
    callbacks: CallbackServer,
) -> None:
    """More streams than httpx's default pool (100): none waits for a connection."""
    release = asyncio.Event()
    async with AgentServer("busy", gated(release, Reply("done"))) as server:
        backend = A2ABackend(server.url, callbacks=callbacks, detach_after=NEVER)
        runs = [asyncio.create_task(_collect(backend, f"m{i}")) for i in range(150)]
        try:
            await until(lambda: server.open_streams == 150, "150 open streams", timeout=60)
            release.set()
            results = await asyncio.wait_for(asyncio.gather(*runs), 60)
        finally:
            for run in runs:
                run.cancel()
            await backend.aclose()
    assert all(finals(events) == [("completed", "done")] for events in results)


async def test_150_concurrent_long_tasks_on_one_agent_detach_and_all_complete_by_push(
    callbacks: CallbackServer,
) -> None:
    release = asyncio.Event()
    async with AgentServer("busy", gated(release, Reply("done"))) as server:
        backend = A2ABackend(
            server.url,
            callbacks=callbacks,
            detach_after=1.0,
            push_check_interval=NEVER,
            poll_max_interval=NEVER,
        )
        runs = [asyncio.create_task(_collect(backend, f"m{i}")) for i in range(150)]
        try:
            await until(lambda: callbacks.push_watches == 150, "150 push watches", timeout=60)
            assert backend.open_streams == 0
            await until(lambda: server.open_streams == 0, "every stream closed")
            release.set()
            results = await asyncio.wait_for(asyncio.gather(*runs), 60)
        finally:
            for run in runs:
                run.cancel()
            await backend.aclose()
    assert all(finals(events) == [("completed", "done")] for events in results)
    assert callbacks.push_watches == 0


async def _collect(backend: A2ABackend, message_id: str) -> list[AgentEvent]:
    return [event async for event in backend.send("job", message_id=message_id)]


# -- through the dispatcher -------------------------------------------------------------------


def a2a(h: Any, agent_id: str) -> A2ABackend:
    backend = h.dispatcher.backend(h.fleet.agent(agent_id))
    assert isinstance(backend, A2ABackend)
    return backend


async def relay_after_release(h: Any, release: asyncio.Event) -> None:
    """Let the held agent finish and wait for its result to be posted. The wait (LIMIT) ends
    well before the safety-net GetTask of a task followed by push (every 60 s), so with push
    on, a result that arrives came by push: no duration needs asserting."""
    assert LIMIT < PUSH_CHECK_INTERVAL * 0.9
    release.set()
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("result")), timeout=LIMIT)


async def ask_writer_until_detached(h: Any) -> tuple[Request, CallbackServer]:
    """Send the writer its task and wait until it is followed by push (stream given up)."""
    assert h.callbacks is not None
    callbacks: CallbackServer = h.callbacks
    request: Request = await h.say("Writer: draft the newsletter")
    await until(lambda: callbacks.push_watches == 1, "the push registration")
    return request, callbacks


async def test_a_pushed_result_is_relayed_once_promptly_and_a_late_push_is_a_no_op(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()
    h = await harness(
        {"writer": gated(release, Reply("newsletter drafted"))},
        backend={"detach_after": DETACH},
    )
    _, callbacks = await ask_writer_until_detached(h)
    watch = only_watch(callbacks)
    assert a2a(h, "writer").open_streams == 0
    await until(lambda: h.servers["writer"].open_streams == 0, "the agent to see no stream")
    [task] = await h.rows("SELECT state, brief FROM tasks")
    assert task["state"] == "running"

    await relay_after_release(h, release)
    await h.idle()
    assert callbacks.push_watches == 0

    # The agent pushes again (a retry, or a delayed duplicate): signed, with the token, and
    # nothing waits on the task any more, so nothing changes.
    [row] = await h.rows("SELECT remote_task_id FROM tasks")
    body = {"task": {"id": row["remote_task_id"], "status": {"state": "TASK_STATE_COMPLETED"}}}
    async with httpx.AsyncClient() as http:
        late = await http.post(watch.url, json=body, headers={PUSH_TOKEN_HEADER: watch.token})
    assert late.status_code == 200 and late.json() == {"ok": True, "duplicate": True}
    await asyncio.sleep(0.2)
    await h.idle()
    results = h.adapter.of_kind("result")
    assert len(results) == 1 and "newsletter drafted" in results[0].text
    assert [r["state"] for r in await h.rows("SELECT state FROM tasks")] == ["completed"]
    assert len(h.servers["writer"].calls) == 1


async def test_without_push_the_dispatcher_polls_and_relays_once(harness: HarnessFactory) -> None:
    release = asyncio.Event()
    h = await harness(
        {"writer": gated(release, Reply("newsletter drafted"))},
        backend={"detach_after": DETACH},
        server={"push_notifications": False},
    )
    await h.say("Writer: draft the newsletter")
    await until(lambda: bool(h.servers["writer"].calls), "the agent to start")
    await until(lambda: a2a(h, "writer").open_streams == 0, "the stream to be given up")
    await until(lambda: h.servers["writer"].open_streams == 0, "the agent to see no stream")
    assert h.callbacks is not None and h.callbacks.push_watches == 0

    await relay_after_release(h, release)  # by polling: the slowest poll is every 10 s
    await h.idle()
    assert len(h.adapter.of_kind("result")) == 1


async def test_a_detached_task_is_cancelled_at_the_agent(harness: HarnessFactory) -> None:
    h = await harness(
        {"writer": gated(asyncio.Event(), Reply("never"))}, backend={"detach_after": DETACH}
    )
    request, callbacks = await ask_writer_until_detached(h)
    await h.say("cancel all", thread=request.thread_key)
    await h.idle()
    assert len(h.servers["writer"].cancelled) == 1
    assert callbacks.push_watches == 0
    assert [r["state"] for r in await h.rows("SELECT state FROM tasks")] == ["cancelled"]
    assert not h.adapter.of_kind("result")


async def test_a_detached_task_still_times_out(harness: HarnessFactory) -> None:
    h = await harness(
        {"writer": gated(asyncio.Event(), Reply("never"))},
        backend={"detach_after": 0.2},
        timeouts={"writer": 1.5},
    )
    _, callbacks = await ask_writer_until_detached(h)
    await h.idle(LIMIT)
    assert h.adapter.of_kind("notice")[0].text.endswith("no result within 1.5s.")
    await until(lambda: bool(h.servers["writer"].cancelled), "the cancel at the agent")
    assert callbacks.push_watches == 0


async def test_a_question_after_a_long_time_arrives_by_push_and_the_answer_goes_back(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()

    async def writer(call: AgentCall) -> Outcome:
        if not call.history:
            await release.wait()
            return Ask("Formal or casual tone?")
        return Reply(f"newsletter in a {call.text} tone")

    h = await harness({"writer": writer}, backend={"detach_after": DETACH})
    request, _ = await ask_writer_until_detached(h)
    release.set()
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("question")), timeout=LIMIT)
    assert h.adapter.of_kind("question")[0].text == "Formal or casual tone?"
    await h.say("casual", thread=request.thread_key)
    await h.idle()
    results = h.adapter.of_kind("result")
    assert len(results) == 1 and "newsletter in a Answer from U1: casual tone" in results[0].text


async def test_a_restart_while_detached_follows_the_task_by_push_again(
    harness: HarnessFactory,
) -> None:
    release = asyncio.Event()
    h = await harness(
        {"writer": gated(release, Reply("newsletter drafted"))},
        backend={"detach_after": DETACH},
    )
    _, first = await ask_writer_until_detached(h)
    old = only_watch(first)

    await h.restart()  # a new process, a new callback port: it watches and registers again
    assert h.callbacks is not None and h.callbacks is not first
    second = h.callbacks
    await until(lambda: second.push_watches == 1, "the push registration after the restart")
    assert only_watch(second).token != old.token
    assert a2a(h, "writer").open_streams == 0

    await relay_after_release(h, release)
    await h.idle()
    assert len(h.adapter.of_kind("result")) == 1
    assert len(h.servers["writer"].calls) == 1


@pytest.mark.parametrize("partial", sorted(PARTIAL_REQUESTS))
async def test_the_callback_endpoint_closes_a_request_that_never_finishes(
    tmp_path: Path, partial: str
) -> None:
    server = CallbackServer(load_key(tmp_path / "key"), idle_timeout=0.2)
    await server.start()
    try:
        answer = await sent_and_left_open(server.port, PARTIAL_REQUESTS[partial])
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        # A finished request, then silence: the idle keep-alive connection is closed too.
        idle = b"POST /callbacks/t?sig=00 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
        answer = await sent_and_left_open(server.port, idle)
        assert answer.startswith(b"HTTP/1.1 401")
    finally:
        await server.stop()
