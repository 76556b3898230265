"""A2A backend: talks to any A2A v1.0 agent over JSON-RPC with the a2a-sdk client.

The agent card is fetched lazily (first call) and decides the mode: streaming agents get
SendStreamingMessage / SubscribeToTask, the others SendMessage(returnImmediately) + GetTask
polling. Either way a stream that ends early (network blip, read timeout, agent restart)
degrades to polling, because the dispatcher relies on `send`/`watch` only ending after a
terminal or input-required state.

Long tasks do not keep a stream: an open SSE stream costs tens of kilobytes and a pooled
connection for as long as the task runs. The stream is held for `detach_after` seconds (short
tasks finish inside it, and their results arrive at once); a task still running then is
followed without one. If its card offers push notifications and Dispatch's callback endpoint
can be reached from the agent, a push configuration is registered for the task
(CreateTaskPushNotificationConfig) with a signed per-task URL and a token; each push wakes the
waiting coroutine, which reads the task with GetTask (the pushed body is not trusted), and a
slow GetTask every `push_check_interval` covers a lost push. Otherwise GetTask is polled, backing
off from 1 s to `poll_max_interval`. `send()` and `watch()` look the same to the dispatcher
either way; in between events they wait on an asyncio.Event or a sleep, not on a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import posixpath
import random
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from contextlib import aclosing, contextmanager
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import aiohttp
import httpx
from a2a.client import (
    A2ACardResolver,
    A2AClientTimeoutError,
    AgentCardResolutionError,
    Client,
    ClientCallContext,
    ClientConfig,
    ClientFactory,
)
from a2a.types import (
    AgentCard,
    Artifact,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from a2a.utils.constants import TransportProtocol
from a2a.utils.errors import (
    A2AError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from google.protobuf import json_format
from httpx_aiohttp import AiohttpTransport

from bot import render
from bot.backends.base import MAX_RESULT_BYTES, BackendError, read_limit, without_endpoints
from bot.backends.config import DETACH_AFTER
from bot.models import AgentEvent, AgentState, Attachment

if TYPE_CHECKING:
    from bot.callbacks import CallbackServer, PushWatch

logger = logging.getLogger(__name__)

__all__ = ["A2ABackend"]

_STATES: dict[int, AgentState] = {
    TaskState.TASK_STATE_UNSPECIFIED: "submitted",
    TaskState.TASK_STATE_SUBMITTED: "submitted",
    TaskState.TASK_STATE_WORKING: "working",
    TaskState.TASK_STATE_INPUT_REQUIRED: "input_required",
    # The dispatcher has no auth flow of its own: a human has to act, same as a question.
    TaskState.TASK_STATE_AUTH_REQUIRED: "input_required",
    TaskState.TASK_STATE_COMPLETED: "completed",
    TaskState.TASK_STATE_FAILED: "failed",
    TaskState.TASK_STATE_CANCELED: "canceled",
    TaskState.TASK_STATE_REJECTED: "rejected",
}
_FINAL_STATES: frozenset[str] = frozenset(
    {"completed", "failed", "canceled", "rejected", "input_required"}
)
_ARTIFACT_SEPARATOR = "\n\n"
"""Between artifacts. Parts inside one artifact are concatenated as-is: appended chunks
(streamed tokens) must not get separators injected."""
_GET_HISTORY = 10
"""GetTask history to ask for: enough to find the agent's last message as a text fallback."""
# Our own client never needs a short read timeout: SSE streams stay quiet between events
# (sse-starlette pings every 15 s), and a timeout only demotes a stream to polling anyway.
_DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=60.0)
TRACE_HEADERS = ("traceparent", "tracestate")
"""W3C trace context: from the metadata a call is given (traces on), also sent as HTTP
headers, so the agent's own spans join Dispatch's trace."""
_KEEPALIVE_S = 2.0
"""Idle connections are closed after this: well before common servers close them (uvicorn
after 5 s), so a call never goes out on a connection the agent is closing at that moment."""


class _TooLarge(httpx.ReadError):
    """An answer (or one event of a stream) passed the read limit; no more of it is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


class _CappedStream(httpx.AsyncByteStream):
    """A response body that stops with `_TooLarge` once it passes `limit` bytes; for an event
    stream the limit is per event (a blank line ends one), so a long task's stream of small
    updates goes on."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: int, events: bool) -> None:
        self._stream = stream
        self._limit = limit
        self._events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._stream:
            end = max(chunk.rfind(b"\n\n"), chunk.rfind(b"\r\n\r\n")) if self._events else -1
            size = len(chunk) - end if end >= 0 else size + len(chunk)
            if size > self._limit:
                raise _TooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _CappedTransport(httpx.AsyncBaseTransport):
    """Reads no answer past `limit` bytes, while it reads (see `_CappedStream`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise _TooLarge(self._limit)
        events = response.headers.get("content-type", "").startswith("text/event-stream")
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._limit, events),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def _default_http(limit: int | None = None) -> httpx.AsyncClient:
    """httpx's interface (the a2a-sdk client takes an httpx client) over aiohttp's transport.

    aiohttp parses HTTP in C, so an A2A call costs less CPU than through httpcore, most of
    all when hundreds run at once (bench/README.md has the figures). Its pool also
    closes idle connections on a timer; httpcore only looks at them on the next request, so a
    burst of tasks left hundreds of connections open for good. No cap on connections: every
    task in its first `detach_after` seconds holds one (its stream), and a cap would make the
    task after it wait for the pool and then fail.
    """

    # aiohttp's `trust_env` looks up the proxy variables and reads ~/.netrc on every request,
    # each in a worker thread: a few milliseconds of CPU per agent call. The environment is
    # read once here instead; only a proxy set at start turns that lookup on.
    proxied = bool(urllib.request.getproxies())

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=_KEEPALIVE_S)
        return aiohttp.ClientSession(connector=connector, trust_env=proxied)

    transport: httpx.AsyncBaseTransport = AiohttpTransport(client=session)
    if limit is not None:
        transport = _CappedTransport(transport, limit)
    return httpx.AsyncClient(timeout=_DEFAULT_TIMEOUT, transport=transport)


POLL_MAX_INTERVAL = 10.0
"""Polling a detached task without push backs off from 1 s to this."""
PUSH_CHECK_INTERVAL = 60.0
"""A task followed by push is also read this often (with jitter), in case a push is lost."""
_SLOW_POLL_START = 1.0
_PUSH_CONFIG_ID = "dispatch"
"""One push configuration per task: registering again (after a restart) replaces it."""


FOLLOW_CALLS = 8
"""GetTask and push registrations in progress at once, per agent. Tasks started together
detach together, and each then registers for pushes and reads its task: without a bound,
thousands of long tasks made twice as many calls at once, a herd for the agents and a memory
peak here that the allocator kept."""

DRAIN_TIMEOUT = 1.0
"""How long a stream that has given its final event may take to end by itself."""


async def _drain_and_close(
    stream: AsyncGenerator[StreamResponse, None], responses: AsyncGenerator[StreamResponse, None]
) -> None:
    try:
        # A stream that fails (or lingers) after its final event has nothing left for us.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(DRAIN_TIMEOUT):
                async for _ in responses:
                    pass
    finally:
        with contextlib.suppress(Exception):
            await responses.aclose()
        with contextlib.suppress(Exception):
            await stream.aclose()


def _generator(stream: AsyncIterator[StreamResponse]) -> AsyncGenerator[StreamResponse, None]:
    """The SDK's streams are async generators typed as iterators; we need `aclose()`.

    Closing them promptly (not at garbage collection) releases the HTTP connection as soon
    as we stop reading, e.g. after the final event or when the caller walks away.
    """
    return cast(AsyncGenerator[StreamResponse, None], stream)


def _is_final(event: AgentEvent) -> bool:
    return event.state in _FINAL_STATES


def _event_key(event: AgentEvent) -> tuple[str, str]:
    return (event.state, event.text)


def _part_text(part: Part) -> str | None:
    kind = part.WhichOneof("content")
    if kind == "text":
        return part.text
    if kind == "data":
        return json.dumps(json_format.MessageToDict(part.data), ensure_ascii=False)
    return None


def _part_file(part: Part) -> Attachment | None:
    kind = part.WhichOneof("content")
    if kind == "url":
        name = part.filename or posixpath.basename(urlsplit(part.url).path) or part.url
        return Attachment(name=name, url=part.url, mime=part.media_type or None)
    if kind == "raw":
        # Inline bytes are not forwarded (they could be megabytes); name and size still are.
        return Attachment(name=part.filename, mime=part.media_type or None, size=len(part.raw))
    return None


def _message_text(message: Message) -> str:
    return "\n".join(t for t in (_part_text(p) for p in message.parts) if t is not None)


def _files(parts: Iterable[Part]) -> list[Attachment]:
    return [f for f in (_part_file(p) for p in parts) if f is not None]


class _TaskView:
    """The client-side picture of one remote task, folded from Task snapshots and updates."""

    def __init__(self, max_result_bytes: int = MAX_RESULT_BYTES) -> None:
        self.task_id: str | None = None
        self.context_id: str | None = None
        self.state: AgentState = "submitted"
        self.status: TaskStatus = TaskStatus()
        self.artifacts: list[Artifact] = []
        self.last_agent_message: Message | None = None
        self.max_result_bytes = max_result_bytes
        self._appended: dict[str, int] = {}
        """Characters of text appended to each artifact: past the cap, chunks are dropped."""

    def apply(self, response: StreamResponse) -> None:
        kind = response.WhichOneof("payload")
        if kind == "task":
            self.apply_task(response.task)
        elif kind == "status_update":
            self._apply_status(response.status_update)
        elif kind == "artifact_update":
            self._apply_artifact(response.artifact_update)

    def apply_task(self, task: Task) -> None:
        self._ids(task.id, task.context_id)
        self._set_status(task.status)
        self.artifacts = [self._copy(a) for a in task.artifacts]
        # Only the current round counts: an agent message before the latest user message
        # (say, the question that user message answered) is not this round's result.
        self.last_agent_message = None
        for message in reversed(task.history):
            if message.role == Role.ROLE_USER:
                break
            if message.role == Role.ROLE_AGENT:
                self.last_agent_message = message
                break

    def _apply_status(self, update: TaskStatusUpdateEvent) -> None:
        self._ids(update.task_id, update.context_id)
        if self.status.HasField("message"):
            # The SDK moves a superseded status message into history; mirror that.
            self.last_agent_message = self.status.message
        self._set_status(update.status)

    def _apply_artifact(self, update: TaskArtifactUpdateEvent) -> None:
        self._ids(update.task_id, update.context_id)
        incoming = update.artifact
        for existing in self.artifacts:
            if incoming.artifact_id and existing.artifact_id == incoming.artifact_id:
                if update.append:
                    # Streamed tokens: what lies past the cap is cut anyway, so it is not kept.
                    kept = self._appended.get(incoming.artifact_id, 0)
                    if kept <= self.max_result_bytes:
                        existing.parts.extend(incoming.parts)
                        added = sum(len(p.text) for p in incoming.parts)
                        self._appended[incoming.artifact_id] = kept + added
                else:
                    existing.CopyFrom(incoming)  # a non-append chunk restarts the artifact
                    self._appended.pop(incoming.artifact_id, None)
                return
        # append=True for an unknown artifact (e.g. we joined mid-stream): keep what we have.
        self.artifacts.append(self._copy(incoming))

    def _ids(self, task_id: str, context_id: str) -> None:
        self.task_id = task_id or self.task_id
        self.context_id = context_id or self.context_id

    def _set_status(self, status: TaskStatus) -> None:
        self.status = TaskStatus()
        self.status.CopyFrom(status)
        self.state = _STATES.get(status.state, "working")

    @staticmethod
    def _copy(artifact: Artifact) -> Artifact:
        copy = Artifact()
        copy.CopyFrom(artifact)
        return copy

    def event(self) -> AgentEvent:
        """The dispatcher-facing event for the current picture."""
        state = self.state
        status_text = _message_text(self.status.message) if self.status.HasField("message") else ""
        status_files = _files(self.status.message.parts)
        if state == "completed":
            texts = ["".join(_part_text(p) or "" for p in a.parts) for a in self.artifacts]
            text = _ARTIFACT_SEPARATOR.join(t for t in texts if t)
            if not text:
                text = status_text
            if not text and self.last_agent_message is not None:
                text = _message_text(self.last_agent_message)
            files = [f for a in self.artifacts for f in _files(a.parts)] + status_files
        else:
            text = status_text
            if not text and state != "working" and self.last_agent_message is not None:
                text = _message_text(self.last_agent_message)
            files = status_files
        return AgentEvent(
            state=state,
            remote_task_id=self.task_id,
            context_id=self.context_id,
            text=render.result_cut(text, self.max_result_bytes),
            files=files,
        )


class _Progress:
    """What the stream phase of `send` leaves for the phase that follows it."""

    __slots__ = ("done", "last", "task_id")

    def __init__(self) -> None:
        self.task_id: str | None = None
        self.last: tuple[str, str] | None = None
        self.done = False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


class A2ABackend:
    """`Backend` for one A2A agent at `url` (the base URL that serves the agent card)."""

    def __init__(
        self,
        url: str,
        *,
        http: httpx.AsyncClient | None = None,
        poll_interval: float = 0.5,
        callbacks: CallbackServer | None = None,
        detach_after: float | None = DETACH_AFTER,
        poll_max_interval: float = POLL_MAX_INTERVAL,
        push_check_interval: float = PUSH_CHECK_INTERVAL,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ) -> None:
        """`poll_interval`: GetTask pace while a task is young (a stream just broke, or the
        agent does not stream). `callbacks`: where push notifications can be received.
        `detach_after`: seconds before a running task gives up its stream (None: never).
        `max_result_bytes`: a longer result is relayed cut to its head; an answer too big to
        hold one (`read_limit`) is not read past that."""
        self.url = url.rstrip("/")
        self.max_result_bytes = max_result_bytes
        self.poll_interval = poll_interval
        self.detach_after = detach_after
        self.poll_max_interval = poll_max_interval
        self.push_check_interval = push_check_interval
        self.open_streams = 0
        """SSE streams (SendStreamingMessage, SubscribeToTask) open right now."""
        self.follow_calls = 0
        """GetTask and push registrations in progress, or waiting for one of `FOLLOW_CALLS`."""
        self._follow_slots = asyncio.Semaphore(FOLLOW_CALLS)
        self._drains: set[asyncio.Task[None]] = set()
        self._callbacks = callbacks
        self._scope = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self._http = http
        self._owns_http = http is None
        self._client: Client | None = None
        self._card: AgentCard | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    # --- connection -------------------------------------------------------------------

    async def _connect(self) -> tuple[Client, AgentCard]:
        """Resolve the card once and build the SDK client; later calls reuse both."""
        async with self._lock:
            if self._closed:
                raise BackendError("the agent's backend is closed")
            if self._client is not None and self._card is not None:
                return self._client, self._card
            if self._http is None:
                self._http = _default_http(read_limit(self.max_result_bytes))
            with self._errors():
                card = await A2ACardResolver(self._http, self.url).get_agent_card()
            factory = ClientFactory(
                ClientConfig(
                    httpx_client=self._http,
                    streaming=True,
                    supported_protocol_bindings=[TransportProtocol.JSONRPC],
                )
            )
            try:
                client = factory.create(card)
            except ValueError as exc:
                logger.info("agent at %s: no usable interface: %s", self.url, exc)
                raise BackendError(
                    "the agent offers no JSON-RPC interface Dispatch can use"
                ) from exc
            self._client, self._card = client, card
            return client, card

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SDK / httpx failures into a BackendError with a message fit for users."""
        try:
            yield
        except BackendError:
            raise
        except (A2AError, httpx.HTTPError) as exc:
            raise self._backend_error(exc) from exc

    def _backend_error(self, exc: BaseException) -> BackendError:
        error = self._describe(exc)
        logger.info("agent at %s: %s (%s)", self.url, error, exc)
        return error

    def _describe(self, exc: BaseException) -> BackendError:
        """What went wrong, fit for chat: no URL or address of the agent (the log has it)."""
        for cause in _causes(exc):
            if isinstance(cause, _TooLarge):
                return BackendError(
                    f"the agent answered with more than {render.size(cause.limit)};"
                    " nothing of it was read"
                )
        for cause in _causes(exc):
            if isinstance(cause, ConnectionRefusedError) or (
                isinstance(cause, httpx.ConnectError) and "refused" in str(cause).lower()
            ):
                return BackendError(
                    "the agent is unreachable: connection refused", unreachable=True
                )
        for cause in _causes(exc):
            # httpx-aiohttp maps aiohttp's errors loosely (a dropped connection becomes a
            # ConnectTimeout), so aiohttp's own error, when there is one, says what happened.
            if isinstance(cause, aiohttp.ClientError) and not isinstance(cause, TimeoutError):
                reason = without_endpoints(str(cause) or type(cause).__name__)
                if isinstance(cause, aiohttp.ClientConnectorError):
                    return BackendError(f"the agent is unreachable: {reason}", unreachable=True)
                return BackendError(f"the connection to the agent failed: {reason}")
        for cause in _causes(exc):
            if isinstance(cause, httpx.TimeoutException) or isinstance(
                cause, A2AClientTimeoutError
            ):
                return BackendError("the agent timed out")
            if isinstance(cause, httpx.ConnectError):
                reason = without_endpoints(str(cause) or type(cause).__name__)
                return BackendError(f"the agent is unreachable: {reason}", unreachable=True)
            if isinstance(cause, httpx.TransportError):
                reason = without_endpoints(str(cause) or type(cause).__name__)
                return BackendError(f"the connection to the agent failed: {reason}")
        if isinstance(exc, AgentCardResolutionError):
            if exc.status_code is not None:
                return BackendError(f"the agent has no agent card (HTTP {exc.status_code})")
            return BackendError("the agent returned an unusable agent card")
        message = exc.message if isinstance(exc, A2AError) else str(exc)
        return BackendError(f"the agent returned an error: {without_endpoints(message)}")

    # --- Backend protocol -------------------------------------------------------------

    async def card(self) -> dict[str, Any]:
        """The agent card as plain data, for roster discovery."""
        _, card = await self._connect()
        return {
            "name": card.name,
            "description": card.description,
            "url": self.url,
            "streaming": card.capabilities.streaming,
            "skills": [
                {
                    "id": skill.id,
                    "name": skill.name,
                    "description": skill.description,
                    "tags": list(skill.tags),
                    "examples": list(skill.examples),
                }
                for skill in card.skills
            ],
        }

    async def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """Send one message; see `Backend.send`. Ends after a terminal/input-required event."""
        client, card = await self._connect()
        message = Message(role=Role.ROLE_USER, message_id=message_id, parts=[Part(text=text)])
        del text  # from here on the brief lives in the request only, which the stream phase drops
        if context_id:
            message.context_id = context_id
        if remote_task_id:
            message.task_id = remote_task_id
        if metadata:
            message.metadata.update(metadata)
        trace = {k: v for k in TRACE_HEADERS if (v := (metadata or {}).get(k))}
        request = SendMessageRequest(message=message)
        del message
        if not card.capabilities.streaming:
            # A blocking SendMessage could hold an HTTP request open for hours; poll instead.
            request.configuration.return_immediately = True

        detach_at = self._detach_at()
        progress = _Progress()
        call = ClientCallContext(service_parameters=trace) if trace else None
        stream = self._send_stream(client, request, context_id, progress, detach_at, call)
        del request
        # While a task waits, this frame holds no event, request or finished generator: the
        # `del`s below keep a long task's footprint to the follower's few objects.
        async with aclosing(stream) as events:
            async for event in events:
                yield event
                del event
        del stream, events
        if progress.done:
            return
        if progress.task_id is None:
            raise BackendError("the agent answered without a task or a message")
        following = self._follow(progress.task_id, progress.last, fast_until=detach_at)
        async with aclosing(following) as events:
            async for event in events:
                yield event
                del event

    async def _send_stream(
        self,
        client: Client,
        request: SendMessageRequest,
        context_id: str | None,
        progress: _Progress,
        detach_at: float | None,
        call: ClientCallContext | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """The SendMessage stream, until it ends, breaks, or the task outlives `detach_at`.
        `call` carries the trace headers, if any.

        Sets `progress.done` when it yielded the final event; otherwise the caller follows
        `progress.task_id` from `progress.last`. The request (the brief), the stream and the
        task snapshots it carried are all gone once this generator finishes.
        """
        view = _TaskView(self.max_result_bytes)
        try:
            stream = _generator(client.send_message(request, context=call))
            del request
            responses = self._until_detach(stream, view, detach_at)
            async with self._owned(stream, responses) as release:
                async for response in responses:
                    if response.WhichOneof("payload") == "message":
                        progress.done = True
                        release()
                        yield AgentEvent(
                            state="completed",
                            context_id=response.message.context_id or context_id,
                            text=render.result_cut(
                                _message_text(response.message), self.max_result_bytes
                            ),
                            files=_files(response.message.parts),
                        )
                        return
                    view.apply(response)
                    if view.task_id is None:
                        continue
                    progress.task_id = view.task_id
                    event = view.event()
                    if progress.last is None:
                        # Ids first, before anything else, so the caller can persist them.
                        first = event
                        if _is_final(event):
                            first = AgentEvent(
                                state="working",
                                remote_task_id=view.task_id,
                                context_id=view.context_id,
                            )
                        progress.last = _event_key(first)
                        yield first
                    if _is_final(event):
                        progress.done = True
                        release()
                        yield event
                        return
                    if _event_key(event) != progress.last:
                        progress.last = _event_key(event)
                        yield event
        except (A2AError, httpx.HTTPError) as exc:
            if view.task_id is None:
                raise self._backend_error(exc) from exc
            # The task exists, so its stored state is the truth: a dropped connection, a read
            # timeout or an agent-side stream error all end up as "ask GetTask instead".
            logger.info(
                "stream from %s for task %s broke (%s); polling instead",
                self.url,
                view.task_id,
                type(exc).__name__,
            )

    async def get(self, remote_task_id: str) -> AgentEvent:
        """Current state of the task (GetTask)."""
        client, _ = await self._connect()
        with self._errors():
            async with self._follow_slot():
                task = await client.get_task(
                    GetTaskRequest(id=remote_task_id, history_length=_GET_HISTORY)
                )
        view = _TaskView(self.max_result_bytes)
        view.apply_task(task)
        return view.event()

    async def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        """Follow a task until terminal/input-required; yields the current state first."""
        _, card = await self._connect()
        current = await self.get(remote_task_id)
        yield current
        if _is_final(current):
            return
        last = _event_key(current)
        del current
        detach_at = self._detach_at()
        if card.capabilities.streaming:
            async with aclosing(self._subscribe(remote_task_id, last, detach_at)) as events:
                async for event in events:
                    if _is_final(event):
                        yield event
                        return
                    last = _event_key(event)
                    yield event
                    del event
        following = self._follow(remote_task_id, last, fast_until=detach_at)
        async with aclosing(following) as events:
            async for event in events:
                yield event
                del event

    async def cancel(self, remote_task_id: str) -> None:
        """CancelTask; a task that already finished (or is unknown) is not an error."""
        client, _ = await self._connect()
        try:
            await client.cancel_task(CancelTaskRequest(id=remote_task_id))
        except (TaskNotCancelableError, UnsupportedOperationError, TaskNotFoundError) as exc:
            logger.debug("cancel of %s at %s ignored: %s", remote_task_id, self.url, exc.message)
        except (A2AError, httpx.HTTPError) as exc:
            raise self._backend_error(exc) from exc

    async def aclose(self) -> None:
        for drain in list(self._drains):
            drain.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)
        async with self._lock:
            self._closed = True
            client, self._client = self._client, None
            if client is not None:
                await client.close()  # shares our httpx client, so this closes nothing
            if self._owns_http and self._http is not None:
                await self._http.aclose()
            self._http = None

    # --- helpers ----------------------------------------------------------------------

    def _detach_at(self) -> float | None:
        if self.detach_after is None:
            return None
        return asyncio.get_running_loop().time() + self.detach_after

    @contextlib.asynccontextmanager
    async def _follow_slot(self) -> AsyncIterator[None]:
        """One of the `FOLLOW_CALLS` slots for a follow-up call, counted in `follow_calls`."""
        self.follow_calls += 1
        try:
            async with self._follow_slots:
                yield
        finally:
            self.follow_calls -= 1

    @contextlib.asynccontextmanager
    async def _owned(
        self,
        stream: AsyncGenerator[StreamResponse, None],
        responses: AsyncGenerator[StreamResponse, None],
    ) -> AsyncIterator[Callable[[], None]]:
        """Close a stream (and its reader) on the way out, unless `release()` was called
        at its final event: then it is read on to its end in the background first.

        Closing an HTTP response before its end closes its connection, so every call
        would open a new one, and leave a cycle of connection objects to the collector."""
        released = False

        def release() -> None:
            nonlocal released
            released = True
            drain = asyncio.create_task(_drain_and_close(stream, responses))
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)

        try:
            yield release
        finally:
            if not released:
                await responses.aclose()
                await stream.aclose()

    async def _until_detach(
        self,
        stream: AsyncGenerator[StreamResponse, None],
        view: _TaskView,
        detach_at: float | None,
    ) -> AsyncGenerator[StreamResponse, None]:
        """`stream`'s responses until it ends, or until `detach_at` has passed and the task
        has an id (without one there is nothing to follow, so the stream is read on).

        Detaching cancels the read in progress; the caller then closes the stream, which
        releases its connection, and reads the task with GetTask, so nothing is lost.
        Counted in `open_streams` while it reads.
        """
        self.open_streams += 1
        try:
            while True:
                try:
                    if detach_at is None or view.task_id is None:
                        response = await anext(stream)
                    else:
                        timer = asyncio.timeout_at(detach_at)
                        try:
                            async with timer:
                                response = await anext(stream)
                        except TimeoutError:
                            if timer.expired():
                                return
                            raise
                except StopAsyncIteration:
                    return
                yield response
        finally:
            self.open_streams -= 1

    async def _subscribe(
        self, remote_task_id: str, last: tuple[str, str], detach_at: float | None
    ) -> AsyncGenerator[AgentEvent, None]:
        """SubscribeToTask events that differ from `last`, until `detach_at`; ends quietly if
        the stream fails.

        The caller follows the task afterwards, so a failure here (task became terminal
        between GetTask and SubscribeToTask, dropped connection, ...) needs no handling.
        """
        client, _ = await self._connect()
        view = _TaskView(self.max_result_bytes)
        view.task_id = remote_task_id
        try:
            request = SubscribeToTaskRequest(id=remote_task_id)
            stream = _generator(client.subscribe(request))
            responses = self._until_detach(stream, view, detach_at)
            async with self._owned(stream, responses) as release:
                async for response in responses:
                    view.apply(response)
                    event = view.event()
                    if _is_final(event) or _event_key(event) != last:
                        last = _event_key(event)
                        if _is_final(event):
                            release()
                            yield event
                            return
                        yield event
        except (A2AError, httpx.HTTPError, NotImplementedError) as exc:
            logger.info(
                "subscribe to %s at %s ended (%s); polling instead",
                remote_task_id,
                self.url,
                type(exc).__name__,
            )

    async def _follow(
        self, remote_task_id: str, last: tuple[str, str] | None, *, fast_until: float | None
    ) -> AsyncGenerator[AgentEvent, None]:
        """GetTask until the task is final (yielded, then the end) or changes (yielded).

        Until `fast_until` (None: always) it asks every `poll_interval`. Later, a task still
        running waits for a push when the agent can send one (with a GetTask every
        `push_check_interval` anyway), else polls with a backoff from 1 s to
        `poll_max_interval`. Waiting holds no connection.
        """
        loop = asyncio.get_running_loop()
        watch: PushWatch | None = None
        push_tried = False
        slow = min(_SLOW_POLL_START, self.poll_max_interval)
        try:
            while True:
                if not push_tried and fast_until is not None and loop.time() >= fast_until:
                    push_tried = True
                    watch = await self._watch_push(remote_task_id)
                if watch is not None:
                    watch.pushed.clear()  # before GetTask: a push during it is not missed
                event = await self.get(remote_task_id)
                if _is_final(event):
                    yield event
                    return
                if _event_key(event) != last:
                    last = _event_key(event)
                    yield event
                del event
                if not push_tried:
                    if fast_until is None or loop.time() < fast_until:
                        await asyncio.sleep(self.poll_interval)
                    continue  # time to detach: register for pushes, then read once more
                if watch is not None:
                    check = self.push_check_interval * random.uniform(0.9, 1.1)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(check):
                            await watch.pushed.wait()
                else:
                    await asyncio.sleep(slow)
                    slow = min(slow * 2, self.poll_max_interval)
        finally:
            if watch is not None and self._callbacks is not None:
                self._callbacks.unwatch_push(watch)

    async def _watch_push(self, remote_task_id: str) -> PushWatch | None:
        """Register a push configuration for the task; None when the agent cannot push to us
        (no push capability, no endpoint it can reach, or the registration failed)."""
        callbacks = self._callbacks
        client, card = await self._connect()
        if (
            callbacks is None
            or not card.capabilities.push_notifications
            or not callbacks.reaches(self.url)
        ):
            return None
        watch = callbacks.watch_push(self._scope, remote_task_id)
        config = TaskPushNotificationConfig(
            task_id=remote_task_id, id=_PUSH_CONFIG_ID, url=watch.url, token=watch.token
        )
        try:
            async with self._follow_slot():
                await client.create_task_push_notification_config(config)
        except (A2AError, httpx.HTTPError) as exc:
            callbacks.unwatch_push(watch)
            logger.info(
                "push registration for %s at %s failed (%s); polling instead",
                remote_task_id,
                self.url,
                exc,
            )
            return None
        return watch
