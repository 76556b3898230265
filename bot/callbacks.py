"""The callback endpoint agents report to when they work asynchronously.

HTTP agents: each attempt at a task gets its own URL, signed with Dispatch's callback key, so
only the agent that was handed the URL can report on that task, and a report on an earlier
attempt of a retried task changes nothing. The signature may come in the URL (`sig=`) or in
the `X-Dispatch-Signature` header. A callback is written to the database (through the
dispatcher) before it is acknowledged, and a repeated callback changes nothing.

A2A agents: a long-running task is followed by push notifications instead of an open stream
(`bot.backends.a2a`). Its push URL is signed the same way, per agent and task, and the push
must also carry the token registered with it (`X-A2A-Notification-Token`). A push only wakes
the backend waiting on that task, which then reads the task with GetTask: the pushed body is
never taken as the result.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from pydantic import ValidationError

from bot import render
from bot.backends.base import MAX_RESULT_BYTES, read_limit
from bot.backends.config import is_loopback
from bot.models import AgentEvent

log = logging.getLogger(__name__)

Sink = Callable[[str, AgentEvent, int], Awaitable[bool]]
"""Applies an agent's report to attempt N of a task; False when it changed nothing (a
duplicate, or a report on an attempt that is no longer current)."""

PUSH_TOKEN_HEADER = "X-A2A-Notification-Token"
"""Where an A2A agent puts the token of the push configuration it is notifying."""
SIGNATURE_HEADER = "X-Dispatch-Signature"
"""Where an HTTP agent may put a callback's signature instead of the `sig` query parameter."""
IDLE_TIMEOUT = 15.0
"""Default seconds an HTTP listener waits for a request's headers or body, or for the next
request on a kept-alive connection, before it closes the connection."""


def load_key(path: Path) -> bytes:
    """The signing key, created once (mode 0600) beside the database and kept across restarts;
    a key file others can read (an earlier version's) is made owner-only."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def listener(app: web.Application, idle_timeout: float, **options: Any) -> web.AppRunner:
    """A runner for one of Dispatch's HTTP listeners that closes slow or idle connections.

    aiohttp's keep-alive timer also runs from the moment a connection opens, so it bounds how
    long the headers of a first request may take; the middleware bounds the body. Without
    these, a client that never finishes a request holds its connection open for an hour.
    """

    @web.middleware
    async def read_in_time(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(idle_timeout):
                    await request.read()  # kept by the request: handlers read it again
            except TimeoutError:
                raise web.HTTPRequestTimeout() from None  # then closed: the body is unread
        return await handler(request)

    app.middlewares.append(read_in_time)
    return web.AppRunner(
        app,
        keepalive_timeout=idle_timeout,
        lingering_time=min(idle_timeout, 10.0),  # what is left of an unread body
        **options,
    )


def event_from_body(body: dict[str, Any]) -> AgentEvent:
    """The HTTP agent contract (README): status + result | question | error."""
    status = str(body.get("status", "")).lower()
    files = body.get("files") or []
    mapping = {
        "completed": ("completed", body.get("result")),
        "input_required": ("input_required", body.get("question")),
        "failed": ("failed", body.get("error")),
        "rejected": ("rejected", body.get("error")),
        "canceled": ("canceled", body.get("error")),
        "cancelled": ("canceled", body.get("error")),
        "accepted": ("working", body.get("note")),
        "working": ("working", body.get("note")),
    }
    if status not in mapping:
        raise ValueError(f"unknown status {status!r}")
    state, text = mapping[status]
    if state == "completed" and not isinstance(text, str):
        raise ValueError("a completed answer needs a 'result' string")
    return AgentEvent.model_validate(
        {
            "state": state,
            "remote_task_id": body.get("id"),
            "context_id": body.get("context_id"),
            "text": text if isinstance(text, str) else "",
            "files": files,
        }
    )


def _pushed_task_id(body: dict[str, Any]) -> str | None:
    """The task an A2A push is about: a StreamResponse (`task`, `statusUpdate`,
    `artifactUpdate`), or a bare Task or update event; None if the body names none."""
    for name in ("task", "statusUpdate", "status_update", "artifactUpdate", "artifact_update"):
        inner = body.get(name)
        if isinstance(inner, dict):
            body = inner
            break
    for name in ("taskId", "task_id", "id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class PushWatch:
    """One A2A task followed by push: the URL and token registered with the agent, and the
    flag a valid push raises (the backend waiting on it clears it before each GetTask)."""

    __slots__ = ("key", "pushed", "token", "url")

    def __init__(self, key: str, url: str) -> None:
        self.key = key
        self.url = url
        self.token = secrets.token_urlsafe(24)
        self.pushed = asyncio.Event()


class CallbackServer:
    def __init__(
        self,
        key: bytes,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        max_result_bytes: int = MAX_RESULT_BYTES,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        """`max_result_bytes`: a longer reported result is relayed cut (a body too big to
        hold one is refused while it is read); `idle_timeout`: see `listener`."""
        self._key = key
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.max_result_bytes = max_result_bytes
        self.idle_timeout = idle_timeout
        self.sink: Sink | None = None
        self.relay: Callable[[str], Awaitable[None]] | None = None
        """With replicas: pass a push for a task another replica follows on to it (`poke`)."""
        self._runner: web.AppRunner | None = None
        self._watches: dict[str, PushWatch] = {}

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        return f"http://{self.host}:{self.port}"

    def sign(self, task_id: str, attempt: int = 0) -> str:
        """The signature of attempt `attempt` at a task (attempt 0 signs the bare task id, as
        URLs handed out before attempts were signed did)."""
        message = task_id if attempt == 0 else f"{task_id}\nattempt {attempt}"
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def url_for(self, task_id: str, attempt: int = 0) -> str:
        retry = f"attempt={attempt}&" if attempt else ""
        return f"{self.base_url}/callbacks/{task_id}?{retry}sig={self.sign(task_id, attempt)}"

    # -- A2A push notifications -----------------------------------------------------------

    def reaches(self, agent_url: str) -> bool:
        """Whether an agent at `agent_url` can post to this endpoint: always through a public
        URL; a listener on a loopback address only serves agents on this machine."""
        if self.public_url:
            return True
        if is_loopback(self.host):
            return is_loopback(urlsplit(agent_url).hostname or "")
        return self.host not in ("", "0.0.0.0", "::")  # a bind-all address makes no URL

    def _sign_push(self, scope: str, task_id: str) -> str:
        message = f"a2a-push:{scope}:{task_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def watch_push(self, scope: str, task_id: str) -> PushWatch:
        """Start accepting pushes for A2A task `task_id` of the agent `scope` names.

        The URL is stable for the task (a restart signs the same one); the token is new for
        every watch, so only the latest registration can wake it.
        """
        key = f"{scope}/{task_id}"
        url = (
            f"{self.base_url}/a2a/{scope}/{quote(task_id, safe='')}"
            f"?sig={self._sign_push(scope, task_id)}"
        )
        watch = PushWatch(key, url)
        self._watches[key] = watch
        return watch

    def unwatch_push(self, watch: PushWatch) -> None:
        """Stop accepting pushes for this watch; later ones are acknowledged and ignored."""
        if self._watches.get(watch.key) is watch:
            del self._watches[watch.key]

    def poke(self, key: str) -> None:
        """A push another replica received for a task this one follows: look now. Only a
        wake-up (the backend reads the task with GetTask), so a relayed push needs no token."""
        watch = self._watches.get(key)
        if watch is not None:
            watch.pushed.set()

    @property
    def push_watches(self) -> int:
        """A2A tasks waiting for a push right now."""
        return len(self._watches)

    async def start(self) -> None:
        app = web.Application(client_max_size=read_limit(self.max_result_bytes))
        app.router.add_post("/callbacks/{task_id:.+}", self._handle)
        app.router.add_post("/a2a/{scope}/{task_id:.+}", self._handle_push)
        self._runner = listener(app, self.idle_timeout, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("agent callbacks at %s/callbacks/…", self.base_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        attempt = request.query.get("attempt", "0")
        signature = request.headers.get(SIGNATURE_HEADER) or request.query.get("sig", "")
        if not attempt.isdigit() or not hmac.compare_digest(
            signature.encode(), self.sign(task_id, int(attempt)).encode()
        ):
            return web.json_response({"ok": False, "error": "bad signature"}, status=401)
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            event = event_from_body(body)
        except (ValueError, ValidationError) as exc:
            return web.json_response({"ok": False, "error": f"bad callback: {exc}"}, status=400)
        if self.sink is None:
            return web.json_response({"ok": False, "error": "not ready"}, status=503)
        event = event.model_copy(
            update={"text": render.result_cut(event.text, self.max_result_bytes)}
        )
        applied = await self.sink(task_id, event, int(attempt))
        return web.json_response({"ok": True, "duplicate": not applied})

    async def _handle_push(self, request: web.Request) -> web.Response:
        scope, task_id = request.match_info["scope"], request.match_info["task_id"]
        signature = request.headers.get(SIGNATURE_HEADER) or request.query.get("sig", "")
        if not hmac.compare_digest(signature.encode(), self._sign_push(scope, task_id).encode()):
            return web.json_response({"ok": False, "error": "bad signature"}, status=401)
        watch = self._watches.get(f"{scope}/{task_id}")
        if watch is None:
            # Nobody here waits on this task. Another replica may: it is told. Otherwise (it
            # finished, or is followed some other way) a late push has nothing to change.
            if self.relay is not None:
                await self.relay(f"{scope}/{task_id}")
            return web.json_response({"ok": True, "duplicate": True})
        token = request.headers.get(PUSH_TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), watch.token.encode()):
            return web.json_response({"ok": False, "error": "bad token"}, status=401)
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as exc:
            return web.json_response({"ok": False, "error": f"bad push: {exc}"}, status=400)
        pushed = _pushed_task_id(body)
        if pushed is not None and pushed != task_id:
            return web.json_response(
                {"ok": False, "error": "the push is about another task"}, status=400
            )
        watch.pushed.set()
        return web.json_response({"ok": True, "duplicate": False})
