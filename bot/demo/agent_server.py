"""A small in-process A2A agent server for the demo fleet, the tests and benchmarks.

Each `AgentServer` wraps a plain async handler (`AgentCall` in, `Reply | Ask | Fail` out) in
the a2a-sdk 1.x server stack: a JSON-RPC endpoint plus the agent card, served by uvicorn on a
socket we bind ourselves, inside the caller's event loop. Many servers can share one loop.

Why the handler survives a client disconnect: a2a-sdk 1.3's default request handler
(`DefaultRequestHandlerV2`) runs `AgentExecutor.execute` in a producer task owned by its
`ActiveTask`, not in the HTTP request task. Closing the SSE stream only detaches that
subscriber, so the handler keeps running and its result lands in the task store, where a
later GetTask / SubscribeToTask finds it.

Push notifications (on by default, `push_notifications=False` to leave them out of the card):
the SDK's in-memory push configuration store and `BasePushNotificationSender`, which POSTs each
task update (a StreamResponse as JSON, with the configuration's token in
`X-A2A-Notification-Token`) to every URL registered for the task. `open_streams` counts the
SSE responses in progress, so tests can see whether a client still holds one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn
from a2a.helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    TaskUpdater,
)
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Part,
)
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

__all__ = [
    "AgentCall",
    "AgentServer",
    "Ask",
    "Fail",
    "Handler",
    "Outcome",
    "Reply",
    "brief_task_line",
    "demo_handler",
]


@dataclass
class AgentCall:
    """One incoming message, as the handler sees it."""

    text: str
    task_id: str
    context_id: str
    message_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    """Earlier user texts of this same task (non-empty when answering an `Ask`)."""
    calls_in_context: int = 0
    """How many calls this server saw in this context before this one."""
    traceparent: str | None = None
    """The W3C `traceparent` HTTP header of the call, if the caller sent one."""


@dataclass
class Reply:
    """Finish the task with `text` (sent as an artifact) and optional (name, url) files."""

    text: str
    files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Ask:
    """Park the task in input-required with this question."""

    question: str


@dataclass
class Fail:
    """Finish the task as failed with this error text."""

    error: str


Outcome = Reply | Ask | Fail
Handler = Callable[[AgentCall], Awaitable[Outcome]]


@dataclass
class _Running:
    """A handler coroutine in flight, so CancelTask can stop it and wait for the write."""

    handler: asyncio.Task[Outcome]
    finished: asyncio.Event = field(default_factory=asyncio.Event)


async def _invoke(handler: Handler, call: AgentCall) -> Outcome:
    return await handler(call)


class _HandlerExecutor(AgentExecutor):
    """Adapts a plain `Handler` to the SDK's event-queue based `AgentExecutor`."""

    def __init__(self, server: AgentServer) -> None:
        self._server = server
        self._running: dict[str, _Running] = {}
        self._task_texts: dict[str, list[str]] = {}
        self._context_calls: dict[str, int] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        task_id = context.task_id
        context_id = context.context_id
        if message is None or not task_id or not context_id:
            raise ValueError("execute() needs a message with task and context ids")

        updater = TaskUpdater(event_queue, task_id, context_id)
        if context.current_task is None:
            # The SDK needs a Task before any status update for a new task.
            await event_queue.enqueue_event(new_task_from_user_message(message))
        await updater.start_work()

        text = context.get_user_input()
        earlier = self._task_texts.setdefault(task_id, [])
        metadata: dict[str, Any] = dict(context.metadata)
        if message.HasField("metadata"):
            metadata.update(json_format.MessageToDict(message.metadata))
        headers = context.call_context.state.get("headers") or {}
        call = AgentCall(
            text=text,
            task_id=task_id,
            context_id=context_id,
            message_id=message.message_id,
            metadata=metadata,
            history=list(earlier),
            calls_in_context=self._context_calls.get(context_id, 0),
            traceparent=headers.get("traceparent"),
        )
        earlier.append(text)
        self._context_calls[context_id] = call.calls_in_context + 1
        self._server.calls.append(call)

        # The handler gets its own task so CancelTask can stop exactly the handler while
        # this coroutine stays alive to record CANCELED in order.
        running = _Running(asyncio.create_task(_invoke(self._server.handler, call)))
        self._running[task_id] = running
        try:
            try:
                outcome = await running.handler
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the SDK is tearing the whole task down
                await updater.cancel()
                return
            except Exception as exc:
                logger.exception("agent %s: handler crashed", self._server.name)
                outcome = Fail(f"agent crashed: {type(exc).__name__}: {exc}")
            await self._publish(updater, outcome)
        finally:
            running.finished.set()
            if self._running.get(task_id) is running:
                del self._running[task_id]

    async def _publish(self, updater: TaskUpdater, outcome: Outcome) -> None:
        if isinstance(outcome, Reply):
            parts = [Part(text=outcome.text)]
            parts += [Part(url=url, filename=name) for name, url in outcome.files]
            await updater.add_artifact(parts, name="result", last_chunk=True)
            await updater.complete()
        elif isinstance(outcome, Ask):
            await updater.requires_input(updater.new_agent_message([Part(text=outcome.question)]))
        else:
            await updater.failed(updater.new_agent_message([Part(text=outcome.error)]))

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        self._server.cancelled.append(task_id)
        running = self._running.get(task_id)
        if running is None:
            # Parked (input-required): nothing runs, so the terminal state is written here.
            await TaskUpdater(event_queue, task_id, context.context_id or "").cancel()
            return
        if running.handler.cancel():
            # execute() sees the handler's CancelledError and writes CANCELED itself.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.finished.wait(), timeout=5)
        # else: the handler already finished and execute() is publishing its outcome.


class _StreamCounter:
    """ASGI wrapper counting the server-sent-event responses in progress on `server`, and
    handing each response body chunk, once written, to `server.on_sent`."""

    def __init__(self, app: ASGIApp, server: AgentServer) -> None:
        self._app = app
        self._server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        counted = False

        async def counting_send(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    counted = True
                    self._server.open_streams += 1
            await send(message)
            if message["type"] == "http.response.body" and self._server.on_sent is not None:
                self._server.on_sent(message.get("body", b""))

        try:
            await self._app(scope, receive, counting_send)
        finally:
            if counted:
                self._server.open_streams -= 1


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without signal handling: an embedded server must not steal Ctrl+C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _skill(raw: dict[str, Any], index: int) -> AgentSkill:
    skill_id = str(raw.get("id") or raw.get("name") or f"skill-{index}")
    return AgentSkill(
        id=skill_id,
        name=str(raw.get("name") or skill_id),
        description=str(raw.get("description") or raw.get("name") or skill_id),
        # The spec requires at least one tag; the SDK warns on every card use otherwise.
        tags=[str(tag) for tag in raw.get("tags") or [skill_id]],
        examples=[str(example) for example in raw.get("examples", [])],
    )


class AgentServer:
    """An A2A agent on 127.0.0.1 backed by `handler`; records every call and cancellation."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        description: str = "",
        skills: list[dict[str, Any]] | None = None,
        streaming: bool = True,
        push_notifications: bool = True,
    ) -> None:
        self.name = name
        self.handler = handler
        self.description = description or f"Demo agent {name}"
        self.skills = skills
        self.streaming = streaming
        self.push_notifications = push_notifications
        self.calls: list[AgentCall] = []
        self.cancelled: list[str] = []
        self.open_streams = 0
        """SSE responses (SendStreamingMessage, SubscribeToTask) in progress right now."""
        self.on_sent: Callable[[bytes], None] | None = None
        """Called with each response body chunk once it is written: the benchmarks time
        when a result leaves the agent with it."""
        self._executor = _HandlerExecutor(self)
        self._request_handler: DefaultRequestHandler | None = None
        self._push_http: httpx.AsyncClient | None = None
        self._server: _EmbeddedServer | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL (card at `<url>/.well-known/agent-card.json`, JSON-RPC at `<url>/`)."""
        if self._url is None:
            raise RuntimeError(f"agent server {self.name!r} is not started")
        return self._url

    def agent_card(self) -> AgentCard:
        raw_skills = self.skills or [
            {"id": _slug(self.name), "name": self.name, "description": self.description}
        ]
        return AgentCard(
            name=self.name,
            description=self.description,
            version="1.0.0",
            supported_interfaces=[
                AgentInterface(url=self.url, protocol_binding="JSONRPC", protocol_version="1.0")
            ],
            capabilities=AgentCapabilities(
                streaming=self.streaming, push_notifications=self.push_notifications
            ),
            default_input_modes=["text/plain"],
            default_output_modes=["text/plain"],
            skills=[_skill(raw, i) for i, raw in enumerate(raw_skills)],
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind, serve in the current loop, and return once connections are accepted."""
        if self._serve_task is not None:
            raise RuntimeError(f"agent server {self.name!r} is already started")
        # IPPROTO_TCP, not the default 0: asyncio turns Nagle's algorithm off only on sockets
        # that say they are TCP, and with it on, an SSE event written after the response's
        # headers waits for the client's delayed ACK (40 ms) before it leaves.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(2048)  # as uvicorn does: a burst of calls must not overflow the queue
        except OSError:
            sock.close()
            raise
        bound_host, bound_port = sock.getsockname()[:2]
        self._url = f"http://{bound_host}:{bound_port}"

        card = self.agent_card()
        push: dict[str, Any] = {}
        if self.push_notifications:
            # Pushes go to whoever registered a URL; no connection cap, so a burst of
            # finishing tasks never waits for the pool.
            self._push_http = httpx.AsyncClient(
                timeout=10.0, limits=httpx.Limits(max_connections=None)
            )
            store = InMemoryPushNotificationConfigStore()
            push = {
                "push_config_store": store,
                "push_sender": BasePushNotificationSender(self._push_http, store),
            }
        self._request_handler = DefaultRequestHandler(
            agent_executor=self._executor,
            task_store=InMemoryTaskStore(),
            agent_card=card,
            **push,
        )
        app = Starlette(
            routes=[
                *create_agent_card_routes(card),
                *create_jsonrpc_routes(self._request_handler, rpc_url="/"),
            ]
        )
        config = uvicorn.Config(
            _StreamCounter(app, self),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._serve_task = asyncio.create_task(
            server.serve(sockets=[sock]), name=f"agent-server:{self.name}"
        )
        while not server.started:
            if self._serve_task.done():
                sock.close()
                self._serve_task.result()  # re-raise the startup error
                raise RuntimeError(f"agent server {self.name!r} exited during startup")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Cancel running handlers, end open streams, and close the socket."""
        if self._request_handler is not None:
            # Drains the SDK's active tasks: each producer is cancelled, which cancels the
            # execute() it awaits and so the handler; closing the subscriber queues ends any
            # open SSE stream, so uvicorn is not left waiting on it.
            await self._request_handler.aclose()
        if self._server is not None and self._serve_task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._serve_task), timeout=5)
            except TimeoutError:
                self._server.force_exit = True
                self._serve_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._serve_task
        if self._push_http is not None:
            await self._push_http.aclose()
            self._push_http = None
        self._server = None
        self._serve_task = None
        self._request_handler = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "agent"


def brief_task_line(text: str) -> str:
    """The one line of a brief that says what to do.

    Briefs are multi-line; the task is the text after a `Task:` label (on the same line, or
    the next non-empty line when the label stands alone), else the first non-empty line.
    """
    lines = [line.strip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        if line.lower().startswith("task:"):
            rest = line[len("task:") :].strip()
            if rest:
                return rest
            following = next((candidate for candidate in lines[i + 1 :] if candidate), "")
            if following:
                return following
    return next((line for line in lines if line), "")


def demo_handler(label: str, delay: float) -> Handler:
    """A handler that 'works' for `delay` seconds and returns a clearly labelled demo result."""

    async def handle(call: AgentCall) -> Outcome:
        await asyncio.sleep(delay)
        return Reply(f"[demo {label}] Done: {brief_task_line(call.text)}")

    return handle
