"""An in-process fake of an OpenClaw gateway (WebSocket protocol + OpenAI-compatible HTTP).

Serve it on 127.0.0.1 and point a backend at `fake.url`::

    async with FakeOpenClaw(token="t") as gateway:
        gateway.agent("dev", handler)          # handler(message, session_key) -> reply
        ...
        assert gateway.started("dev") == 1

It follows the documented wire shapes of openclaw/openclaw (docs/gateway/protocol.md and
the TypeBox schemas in packages/gateway-protocol/src/schema/): the connect.challenge ->
connect -> hello-ok handshake with the shared-token check (a wrong token gets an
INVALID_REQUEST res with details.code AUTH_TOKEN_MISMATCH, then close 1008), closed param
schemas, `agent` deduped by idempotencyKey (runId == idempotencyKey; a second `res` with
the final result follows the "accepted" one), `agent.wait` honouring timeoutMs (an
expired wait is `{runId, status:"timeout"}`, a queued run `status:"pending"`),
`chat.history`, `chat.abort`, `agents.list`, runs serialized per session key, and
/v1/responses, /v1/chat/completions and /v1/models behind toggles.

Restarts behave as openclaw 2026.9.6 does: while draining (`drain()`) every method answers
UNAVAILABLE "<method> unavailable during gateway restart"; after `restart()` the run
registry is gone, so `agent.wait` on an old run id answers `{runId, status:"timeout"}`
forever, and a main-session turn the restart interrupted is re-run under a new run id,
after a "[System] Your previous turn was interrupted by a gateway restart…" user turn
(src/gateway/main-session-restart-recovery.ts).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from tests.fakes.server import LocalServer

__all__ = ["FakeOpenClaw", "FakeRun", "Handler"]

Json = dict[str, Any]
Handler = Callable[[str, str], Awaitable[str]]
"""handler(message, session_key) -> reply text; raising makes the run fail."""

PROTOCOL = 4
CLIENT_IDS = frozenset(
    {
        "webchat-ui",
        "openclaw-control-ui",
        "openclaw-tui",
        "webchat",
        "cli",
        "gateway-client",
        "openclaw-macos",
        "openclaw-ios",
        "openclaw-android",
        "node-host",
        "test",
        "fingerprint",
        "openclaw-probe",
    }
)
CONNECT_PARAMS = frozenset(
    {
        "minProtocol",
        "maxProtocol",
        "client",
        "role",
        "scopes",
        "caps",
        "commands",
        "permissions",
        "auth",
        "locale",
        "userAgent",
        "device",
    }
)
AGENT_PARAMS = frozenset(
    {
        "message",
        "agentId",
        "provider",
        "model",
        "to",
        "replyTo",
        "sessionId",
        "sessionKey",
        "thinking",
        "deliver",
        "attachments",
        "channel",
        "replyChannel",
        "accountId",
        "replyAccountId",
        "threadId",
        "groupId",
        "groupChannel",
        "groupSpace",
        "timeout",
        "bestEffortDeliver",
        "lane",
        "extraSystemPrompt",
        "inputProvenance",
        "idempotencyKey",
        "label",
    }
)
METHOD_PARAMS: dict[str, frozenset[str]] = {
    "agent": AGENT_PARAMS,
    "agent.wait": frozenset({"runId", "timeoutMs"}),
    "chat.history": frozenset({"sessionKey", "agentId", "limit", "maxChars", "offset"}),
    "chat.message.get": frozenset({"sessionKey", "agentId", "messageId", "maxChars"}),
    "chat.abort": frozenset({"sessionKey", "agentId", "runId"}),
    "agents.list": frozenset(),
}
METHOD_SCOPE = {
    "agent": "operator.write",
    "chat.abort": "operator.write",
    "agent.wait": "operator.read",
    "chat.history": "operator.read",
    "chat.message.get": "operator.read",
    "agents.list": "operator.read",
}
RESERVED_HTTP_NAMESPACES = ("subagent:", "cron:", "acp:")
RECOVERY_MESSAGE = (
    "[System] Your previous turn was interrupted by a gateway restart while OpenClaw was "
    "waiting on tool/model work. Continue from the existing transcript and finish the "
    "interrupted response."
)


TERMINAL_REPLY_MAX = 4096
"""agent.wait's terminalReply is cut here (src/agents/agent-run-terminal-reply.ts)."""
HISTORY_MAX_CHARS = 8000
"""chat.history cuts each row's text here unless maxChars says otherwise."""


def _terminal_text(text: str) -> str:
    return (
        text if len(text) <= TERMINAL_REPLY_MAX else f"{text[: TERMINAL_REPLY_MAX - 1].rstrip()}…"
    )


def _shortened(row: Json, cap: int) -> Json:
    """A transcript row as chat.history shows it: text blocks past `cap` cut and marked."""
    content = row.get("content")
    if not isinstance(content, list) or not any(
        len(str(block.get("text") or "")) > cap for block in content
    ):
        return row
    return {
        **row,
        "content": [
            {**block, "text": f"{block['text'][:cap]}\n...(truncated)..."}
            if len(str(block.get("text") or "")) > cap
            else block
            for block in content
        ],
    }


def _now_ms() -> int:
    return int(time.time() * 1000)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class _Agent:
    id: str
    handler: Handler
    name: str | None
    emoji: str | None
    theme: str | None
    allowed: bool


@dataclass
class FakeRun:
    """One agent run as the gateway tracks it."""

    run_id: str
    agent: str
    session_key: str
    message: str
    via: Literal["ws", "http"]
    status: Literal["queued", "running", "ok", "error", "aborted", "interrupted"] = "queued"
    started_at: int | None = None
    ended_at: int | None = None
    reply: str = ""
    error: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    final_listeners: list[tuple[web.WebSocketResponse, str]] = field(default_factory=list)
    resumes: str | None = None
    """For a restart-recovery run: the interrupted turn's message, which the agent finishes."""


class _RpcFailure(Exception):
    def __init__(self, code: str, message: str, details: Json | None = None) -> None:
        super().__init__(message)
        self.shape: Json = {"code": code, "message": message}
        if details is not None:
            self.shape["details"] = details


class FakeOpenClaw(LocalServer):
    """A fake gateway; see the module docstring. Everything it saw is recorded."""

    def __init__(
        self,
        *,
        token: str | None = "test-token",
        ws_enabled: bool = True,
        responses_enabled: bool = True,
        chat_enabled: bool = True,
        terminal_reply: bool = False,
        require_device: bool = False,
    ) -> None:
        self.token = token
        self.ws_enabled = ws_enabled
        self.responses_enabled = responses_enabled
        self.chat_enabled = chat_enabled
        self.terminal_reply = terminal_reply
        """Include `terminalReply` in agent.wait results (newer gateways do)."""
        self.require_device = require_device
        """Clear the scopes of device-less connections, as gateways do off loopback."""
        self.agents: dict[str, _Agent] = {}
        self.runs: dict[str, FakeRun] = {}
        self.runs_started: list[FakeRun] = []
        self.sessions: dict[str, list[str]] = {}
        """agent id -> the session key of every run started for it, in order."""
        self.transcripts: dict[str, list[Json]] = {}
        self.aborts: list[tuple[str, str | None]] = []
        self.http_calls: list[tuple[str, str]] = []
        """(path, session key) of every HTTP agent request."""
        self.calls: Counter[str] = Counter()
        self.wait_timeouts = 0
        self.draining = False
        """Answer every request UNAVAILABLE, as a gateway draining for a restart does."""
        self.recoveries: list[FakeRun] = []
        """Runs that restart recovery started for interrupted main-session turns."""
        self.connects: list[Json] = []
        """connect params received (auth removed)."""
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._sockets: set[web.WebSocketResponse] = set()

    # --- setup ------------------------------------------------------------------------

    def agent(
        self,
        agent_id: str,
        handler: Handler,
        *,
        name: str | None = None,
        emoji: str | None = None,
        theme: str | None = None,
        allowed: bool = True,
    ) -> None:
        """Register an agent; allowed=False makes the gateway refuse runs for it."""
        self.agents[agent_id] = _Agent(agent_id, handler, name, emoji, theme, allowed)

    @property
    def url(self) -> str:
        return self.base_url

    def started(self, agent: str) -> int:
        return sum(1 for run in self.runs_started if run.agent == agent)

    async def drop_connections(self) -> None:
        """Close every WebSocket (a gateway restart, as clients see it); runs go on."""
        for ws in list(self._sockets):
            await ws.close(code=1012, message=b"service restart")

    def drain(self) -> None:
        """Begin draining for a restart: requests are refused, runs go on."""
        self.draining = True

    async def restart(self) -> list[FakeRun]:
        """The gateway process restarting; returns the recovery runs it started.

        Sockets close, the in-memory run registry is lost, and every run still going is
        interrupted. An interrupted main-session turn is re-run under a new run id after
        the recovery turn; other sessions' turns are not resumed.
        """
        await self.drop_connections()
        interrupted = [run for run in self.runs.values() if not run.done.is_set()]
        for run in interrupted:
            run.status = "interrupted"
            if run.task is not None:
                run.task.cancel()
        for run in interrupted:
            await run.done.wait()
        self.runs = {}
        self.draining = False
        started = []
        for run in interrupted:
            if run.session_key.endswith(":main"):
                recovery = self._start_run(
                    uuid.uuid4().hex, run.agent, run.session_key, RECOVERY_MESSAGE, run.via
                )
                recovery.resumes = run.message
                started.append(recovery)
        self.recoveries += started
        return started

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._ws_route)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._models)

    async def closing(self) -> None:
        for run in self.runs.values():
            if run.task is not None and not run.task.done():
                run.task.cancel()
        for ws in list(self._sockets):
            await ws.close()

    # --- runs -------------------------------------------------------------------------

    def _start_run(
        self, run_id: str, agent: str, session_key: str, message: str, via: Literal["ws", "http"]
    ) -> FakeRun:
        run = FakeRun(run_id, agent, session_key, message, via)
        self.runs[run_id] = run
        self.runs_started.append(run)
        self.sessions.setdefault(agent, []).append(session_key)
        run.task = asyncio.create_task(self._execute(run), name=f"fake-run-{run_id}")
        return run

    async def _execute(self, run: FakeRun) -> None:
        lock = self._session_locks.setdefault(run.session_key, asyncio.Lock())
        try:
            async with lock:  # one active run per session key (lane session:<key>)
                run.status = "running"
                run.started_at = _now_ms()
                transcript = self.transcripts.setdefault(run.session_key, [])
                transcript.append(
                    {
                        "__openclaw": {"id": uuid.uuid4().hex},
                        "role": "user",
                        "content": [{"type": "text", "text": run.message}],
                        "timestamp": run.started_at,
                        "idempotencyKey": f"{run.run_id}:user",
                    }
                )
                try:
                    run.reply = await self.agents[run.agent].handler(
                        run.resumes or run.message, run.session_key
                    )
                except Exception as exc:
                    run.status = "error"
                    run.error = str(exc) or type(exc).__name__
                else:
                    run.status = "ok"
                    transcript.append(
                        {
                            "__openclaw": {"id": uuid.uuid4().hex},
                            "role": "assistant",
                            "content": [{"type": "text", "text": run.reply}],
                            "stopReason": "stop",
                            "timestamp": _now_ms(),
                        }
                    )
        except asyncio.CancelledError:
            if run.status == "interrupted":  # a restart: the turn stopped mid tool work
                self.transcripts[run.session_key].append(
                    {
                        "__openclaw": {"id": uuid.uuid4().hex},
                        "role": "assistant",
                        "content": [{"type": "text", "text": "Let me check that first."}],
                        "stopReason": "toolUse",
                        "timestamp": _now_ms(),
                    }
                )
            else:  # chat.abort (or the fake shutting down)
                run.status = "aborted"
                run.error = "aborted"
        finally:
            run.ended_at = _now_ms()
            run.done.set()
            await self._send_final(run)

    async def _send_final(self, run: FakeRun) -> None:
        """The second `res` for an `agent` request (what expectFinal callers wait for)."""
        for ws, frame_id in run.final_listeners:
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.send_json(
                        {"type": "res", "id": frame_id, "ok": True, "payload": self._final(run)}
                    )

    def _final(self, run: FakeRun) -> Json:
        return {
            "runId": run.run_id,
            "status": "ok" if run.status == "ok" else "error",
            "summary": "completed" if run.status == "ok" else run.error,
            "result": {"payloads": [{"text": run.reply}] if run.reply else []},
        }

    def _snapshot(self, run: FakeRun) -> Json:
        snapshot: Json = {
            "runId": run.run_id,
            "startedAt": run.started_at,
            "endedAt": run.ended_at,
        }
        if run.status == "ok":
            snapshot["status"] = "ok"
            if self.terminal_reply:
                snapshot["terminalReply"] = (
                    {"disposition": "visible", "text": _terminal_text(run.reply)}
                    if run.reply
                    else {"disposition": "empty"}
                )
        elif run.status == "aborted":
            snapshot.update(status="error", error="aborted", stopReason="rpc")
        else:
            snapshot.update(status="error", error=run.error)
        return snapshot

    def _resolve_agent(self, agent_id: str | None, session_key: str | None) -> tuple[str, str]:
        """(agent, session key) for a request, with the gateway's errors for bad targets."""
        from_key = None
        if session_key:
            parts = session_key.split(":")
            if len(parts) >= 3 and parts[0] == "agent":
                from_key = parts[1]
        agent = (agent_id or from_key or "main").lower()
        if from_key and from_key != agent:
            raise _RpcFailure(
                "INVALID_REQUEST",
                f'session key "{session_key}" belongs to agent "{from_key}", not "{agent}"',
            )
        if agent not in self.agents:
            raise _RpcFailure(
                "INVALID_REQUEST", f'invalid agent params: unknown agent id "{agent}"'
            )
        if not self.agents[agent].allowed:
            raise _RpcFailure("FORBIDDEN", f'agent "{agent}" is not allowed for this caller')
        return agent, (session_key or f"agent:{agent}:main").lower()

    # --- WebSocket --------------------------------------------------------------------

    async def _ws_route(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=25 * 1024 * 1024)
        if not self.ws_enabled or not ws.can_prepare(request).ok:
            raise web.HTTPNotFound()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            scopes = await self._handshake(ws)
            if scopes is not None:
                await self._serve(ws, scopes)
        finally:
            self._sockets.discard(ws)
            if not ws.closed:
                await ws.close()
        return ws

    async def _handshake(self, ws: web.WebSocketResponse) -> list[str] | None:
        nonce = uuid.uuid4().hex
        await ws.send_json(
            {
                "type": "event",
                "event": "connect.challenge",
                "payload": {"nonce": nonce, "ts": _now_ms()},
            }
        )
        message = await ws.receive()
        if message.type != WSMsgType.TEXT:
            return None
        frame = json.loads(message.data)
        if frame.get("type") != "req" or frame.get("method") != "connect":
            await ws.close(code=1008, message=b"invalid handshake: first frame must be connect")
            return None
        frame_id = frame.get("id")
        params: Json = frame.get("params") or {}

        async def reject(code: str, text: str, details: Json | None, close_code: int) -> None:
            error: Json = {"code": code, "message": text}
            if details is not None:
                error["details"] = details
            await ws.send_json({"type": "res", "id": frame_id, "ok": False, "error": error})
            await ws.close(code=close_code, message=text[:120].encode())

        self.connects.append({k: v for k, v in params.items() if k != "auth"})
        unknown = set(params) - CONNECT_PARAMS
        client = params.get("client") or {}
        if unknown or client.get("id") not in CLIENT_IDS or not client.get("mode"):
            await reject(
                "INVALID_REQUEST", f"invalid connect params: {sorted(unknown)}", None, 1008
            )
            return None
        if not (params.get("minProtocol", 0) <= PROTOCOL <= params.get("maxProtocol", 0)):
            await reject(
                "INVALID_REQUEST", "protocol mismatch", {"expectedProtocol": PROTOCOL}, 1002
            )
            return None
        given = (params.get("auth") or {}).get("token")
        if self.token is not None and given != self.token:
            reason = "token_missing" if not given else "token_mismatch"
            text = (
                "unauthorized: gateway token missing (set gateway.remote.token)"
                if not given
                else "unauthorized: gateway token mismatch "
                "(set gateway.remote.token to match gateway.auth.token)"
            )
            details = {
                "code": "AUTH_TOKEN_MISSING" if not given else "AUTH_TOKEN_MISMATCH",
                "authReason": reason,
                "canRetryWithDeviceToken": False,
                "recommendedNextStep": "update_auth_credentials",
            }
            await reject("INVALID_REQUEST", text, details, 1008)
            return None
        scopes = [str(s) for s in params.get("scopes") or []]
        device = params.get("device")
        if device:
            problem = self._verify_device(device, params, nonce, given or "")
            if problem:
                await reject(
                    "INVALID_REQUEST",
                    problem[1],
                    {"code": problem[0], "reason": problem[1]},
                    1008,
                )
                return None
        elif self.require_device:
            scopes = []  # device-less shared auth: self-declared scopes are cleared
        hello = {
            "type": "hello-ok",
            "protocol": PROTOCOL,
            "server": {"version": "fake", "connId": uuid.uuid4().hex},
            "features": {"methods": sorted(METHOD_PARAMS), "events": ["tick", "chat"]},
            "snapshot": {},
            "auth": {"role": "operator", "scopes": scopes},
            "policy": {
                "maxPayload": 26214400,
                "maxBufferedBytes": 52428800,
                "tickIntervalMs": 15000,
            },
        }
        await ws.send_json({"type": "res", "id": frame_id, "ok": True, "payload": hello})
        await ws.send_json(
            {"type": "event", "event": "tick", "payload": {"ts": _now_ms()}, "seq": 1}
        )
        return scopes

    def _verify_device(
        self, device: Json, params: Json, nonce: str, token: str
    ) -> tuple[str, str] | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        raw = _b64url_decode(str(device.get("publicKey") or ""))
        if hashlib.sha256(raw).hexdigest() != device.get("id"):
            return "DEVICE_AUTH_DEVICE_ID_MISMATCH", "device identity mismatch"
        if device.get("nonce") != nonce:
            return "DEVICE_AUTH_NONCE_MISMATCH", "device nonce mismatch"
        client = params.get("client") or {}
        payload = "|".join(
            [
                "v3",
                str(device["id"]),
                str(client.get("id")),
                str(client.get("mode")),
                str(params.get("role") or "operator"),
                ",".join(params.get("scopes") or []),
                str(device.get("signedAt")),
                token,
                nonce,
                str(client.get("platform") or "").strip().lower(),
                str(client.get("deviceFamily") or "").strip().lower(),
            ]
        )
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(
                _b64url_decode(str(device.get("signature") or "")), payload.encode()
            )
        except (InvalidSignature, ValueError):
            return "DEVICE_AUTH_SIGNATURE_INVALID", "device signature invalid"
        return None

    async def _serve(self, ws: web.WebSocketResponse, scopes: list[str]) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                if frame.get("type") != "req":
                    continue
                task = asyncio.create_task(self._answer(ws, frame, scopes))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()

    async def _answer(self, ws: web.WebSocketResponse, frame: Json, scopes: list[str]) -> None:
        frame_id = frame.get("id")
        method = str(frame.get("method"))
        params: Json = frame.get("params") or {}
        self.calls[method] += 1
        try:
            allowed = METHOD_PARAMS.get(method)
            if allowed is None:
                raise _RpcFailure("INVALID_REQUEST", f"unknown method: {method}")
            unexpected = set(params) - allowed
            if unexpected:
                raise _RpcFailure(
                    "INVALID_REQUEST",
                    f"invalid {method} params: unexpected property {sorted(unexpected)[0]!r}",
                )
            if self.draining:
                raise _RpcFailure(
                    "UNAVAILABLE",
                    f"{method} unavailable during gateway restart",
                    {"reason": "gateway-restarting"},
                )
            scope = METHOD_SCOPE[method]
            if scope not in scopes and not (
                scope == "operator.read" and "operator.write" in scopes
            ):
                raise _RpcFailure(
                    "FORBIDDEN",
                    f"missing scope: {scope}",
                    {"code": "MISSING_SCOPE", "missingScope": scope, "requiredScopes": [scope]},
                )
            payload = await getattr(self, "_m_" + method.replace(".", "_"))(ws, frame_id, params)
            reply: Json = {"type": "res", "id": frame_id, "ok": True, "payload": payload}
        except _RpcFailure as failure:
            reply = {"type": "res", "id": frame_id, "ok": False, "error": failure.shape}
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.send_json(reply)

    async def _m_agent(self, ws: web.WebSocketResponse, frame_id: str, params: Json) -> Json:
        key = params.get("idempotencyKey")
        if not key or not params.get("message"):
            raise _RpcFailure(
                "INVALID_REQUEST", "invalid agent params: message and idempotencyKey required"
            )
        existing = self.runs.get(str(key))
        if existing is not None:  # dedupe replay: same key, same run
            if not existing.done.is_set():
                return {
                    "runId": existing.run_id,
                    "status": "in_flight",
                    "sessionKey": existing.session_key,
                    "agentId": existing.agent,
                }
            if existing.status == "ok":
                return self._final(existing)
            raise _RpcFailure(
                "INVALID_REQUEST",
                existing.error,
                {"code": "CACHED_AGENT_RESULT", "runId": existing.run_id},
            )
        agent, session_key = self._resolve_agent(params.get("agentId"), params.get("sessionKey"))
        run = self._start_run(str(key), agent, session_key, str(params["message"]), "ws")
        run.final_listeners.append((ws, frame_id))
        return {"runId": run.run_id, "status": "accepted", "acceptedAt": _now_ms()}

    async def _m_agent_wait(self, ws: web.WebSocketResponse, frame_id: str, params: Json) -> Json:
        run_id = str(params.get("runId") or "")
        timeout = max(0, int(params.get("timeoutMs", 30_000))) / 1000
        run = self.runs.get(run_id)
        if run is not None and run.status == "queued":
            return {
                "runId": run_id,
                "status": "pending",
                "timeoutPhase": "queue",
                "providerStarted": False,
            }
        if run is None:
            await asyncio.sleep(timeout)  # an unknown run looks like one still going
            self.wait_timeouts += 1
            return {"runId": run_id, "status": "timeout"}
        try:
            async with asyncio.timeout(timeout):
                await run.done.wait()
        except TimeoutError:
            self.wait_timeouts += 1
            return {"runId": run_id, "status": "timeout"}
        return self._snapshot(run)

    async def _m_chat_history(self, ws: web.WebSocketResponse, frame_id: str, params: Json) -> Json:
        session_key = str(params.get("sessionKey") or "").lower()
        if not session_key:
            raise _RpcFailure("INVALID_REQUEST", "invalid chat.history params: sessionKey required")
        self._resolve_agent(params.get("agentId"), session_key)
        # A page of the latest rows, `offset` rows back from the newest, each row's text cut
        # at maxChars as the gateway cuts it (chat-display-projection.helpers).
        rows = self.transcripts.get(session_key, [])
        limit, offset = int(params.get("limit") or 200), int(params.get("offset") or 0)
        end = max(0, len(rows) - offset)
        start = max(0, end - limit)
        cap = int(params.get("maxChars") or HISTORY_MAX_CHARS)
        page = [_shortened(row, cap) for row in rows[start:end]]
        more = {"nextOffset": offset + len(page)} if start > 0 else {}
        return {
            "sessionKey": session_key,
            "sessionId": session_key,
            "messages": page,
            "hasMore": start > 0,
            "totalMessages": len(rows),
            **more,
        }

    async def _m_chat_message_get(
        self, ws: web.WebSocketResponse, frame_id: str, params: Json
    ) -> Json:
        session_key = str(params.get("sessionKey") or "").lower()
        wanted = params.get("messageId")
        for row in self.transcripts.get(session_key, []):
            if row["__openclaw"]["id"] == wanted:
                return {"ok": True, "message": row}
        return {"ok": False, "unavailableReason": "not_found"}

    async def _m_chat_abort(self, ws: web.WebSocketResponse, frame_id: str, params: Json) -> Json:
        session_key = str(params.get("sessionKey") or "").lower()
        run_id = params.get("runId")
        self.aborts.append((session_key, run_id))
        targets = [
            run
            for run in self.runs.values()
            if run.session_key == session_key
            and not run.done.is_set()
            and (run_id is None or run.run_id == run_id)
        ]
        for run in targets:
            if run.task is not None:
                run.task.cancel()
        for run in targets:
            await run.done.wait()
        return {"ok": True, "aborted": bool(targets), "runIds": [run.run_id for run in targets]}

    async def _m_agents_list(self, ws: web.WebSocketResponse, frame_id: str, params: Json) -> Json:
        rows = []
        for agent in self.agents.values():
            row: Json = {"id": agent.id}
            if agent.name:
                row["name"] = agent.name
            identity = {
                k: v
                for k, v in (("name", agent.name), ("emoji", agent.emoji), ("theme", agent.theme))
                if v
            }
            if identity:
                row["identity"] = identity
            rows.append(row)
        default = next(iter(self.agents), "main")
        return {"defaultId": default, "mainKey": "main", "scope": "per-sender", "agents": rows}

    # --- HTTP -----------------------------------------------------------------------

    def _http_auth(self, request: web.Request) -> web.Response | None:
        if self.token is None:
            return None
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {self.token}":
            return web.json_response(
                {"error": {"message": "Unauthorized", "type": "unauthorized"}}, status=401
            )
        return None

    async def _http_run(
        self, request: web.Request, body: Json, message: str, prefix: str
    ) -> FakeRun | web.Response:
        model = str(body.get("model") or "openclaw")
        agent = request.headers.get("x-openclaw-agent-id")
        if not agent:
            for lead in ("openclaw/", "openclaw:", "agent:"):
                if model.startswith(lead):
                    agent = model[len(lead) :]
        agent = (agent or "main").lower()
        explicit = request.headers.get("x-openclaw-session-key", "").strip()
        if explicit:
            rest = explicit.split(":", 2)[2] if explicit.startswith("agent:") else explicit
            if rest.startswith(RESERVED_HTTP_NAMESPACES):
                return web.json_response(
                    {"error": {"message": "reserved session key", "type": "invalid_request_error"}},
                    status=400,
                )
            session_key = explicit.lower()
        elif body.get("user"):
            session_key = f"agent:{agent}:{prefix}-user:{body['user']}"
        else:
            session_key = f"agent:{agent}:{prefix}:{uuid.uuid4()}"
        try:
            agent, session_key = self._resolve_agent(agent, session_key)
        except _RpcFailure as failure:
            return web.json_response(
                {"error": {"message": str(failure), "type": "invalid_request_error"}}, status=400
            )
        self.http_calls.append((request.path, session_key))
        run = self._start_run(uuid.uuid4().hex, agent, session_key, message, "http")
        await run.done.wait()
        if run.status != "ok":
            return web.json_response(
                {"error": {"message": run.error, "type": "api_error"}}, status=500
            )
        return run

    async def _responses(self, request: web.Request) -> web.Response:
        if not self.responses_enabled:
            raise web.HTTPNotFound()
        denied = self._http_auth(request)
        if denied is not None:
            return denied
        body: Json = await request.json()
        raw = body.get("input")
        message = raw if isinstance(raw, str) else json.dumps(raw)
        outcome = await self._http_run(request, body, message, "openresponses")
        if isinstance(outcome, web.Response):
            return outcome
        return web.json_response(
            {
                "id": f"resp_{outcome.run_id}",
                "object": "response",
                "created_at": int(time.time()),
                "status": "completed",
                "model": body.get("model"),
                "output": [
                    {
                        "type": "message",
                        "id": f"msg_{outcome.run_id}",
                        "role": "assistant",
                        "status": "completed",
                        "content": [
                            {"type": "output_text", "text": outcome.reply, "annotations": []}
                        ],
                    }
                ],
                "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
            }
        )

    async def _chat_completions(self, request: web.Request) -> web.Response:
        if not self.chat_enabled:
            raise web.HTTPNotFound()
        denied = self._http_auth(request)
        if denied is not None:
            return denied
        body: Json = await request.json()
        messages = [m for m in body.get("messages") or [] if m.get("role") == "user"]
        message = str(messages[-1].get("content") if messages else "")
        outcome = await self._http_run(request, body, message, "openai")
        if isinstance(outcome, web.Response):
            return outcome
        return web.json_response(
            {
                "id": f"chatcmpl_{outcome.run_id}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": outcome.reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        if not (self.responses_enabled or self.chat_enabled):
            raise web.HTTPNotFound()
        denied = self._http_auth(request)
        if denied is not None:
            return denied
        ids = ["openclaw", "openclaw/default", *(f"openclaw/{a}" for a in self.agents)]
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": i, "object": "model", "owned_by": "openclaw"} for i in ids],
            }
        )
