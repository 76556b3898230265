"""OpenClaw backend: one agent behind an OpenClaw gateway.

Primary path: the gateway WebSocket protocol. `connect` (answering `connect.challenge`),
then `agent` to start a run, `agent.wait` to follow it, `chat.history` for the reply and
`chat.abort` to stop it. The run lives on the gateway, not in our socket: `agent.wait` only
ever stops *waiting*, so a wait that times out means "still running", and after a Dispatch
restart the run is picked up again from the remote task id `<runId>|<sessionKey>`.

Fallback: the OpenAI-compatible HTTP endpoints (`/v1/responses`, then
`/v1/chat/completions`), which answer synchronously and cannot be resumed after a restart.

Wire facts, all from openclaw/openclaw: frames and handshake (docs/gateway/protocol.md,
docs/gateway/protocol/handshake.md, docs/gateway/protocol/auth.md); `agent` params and the
closed schema (packages/gateway-protocol/src/schema/agent.ts); runId == idempotencyKey and
dedupe replay (src/gateway/agent-turn/agent-request-preflight.ts, agent-dedupe.ts);
`agent.wait` results (src/gateway/agent-turn/agent-turn-service.ts `waitForTurn`,
agent-job.ts, docs/gateway/external-apps.md); chat.history/chat.abort params
(packages/gateway-protocol/src/schema/logs-chat.ts); error codes
(packages/gateway-protocol/src/gateway-error-details.ts, connect-error-details.ts); device
signatures (packages/gateway-client/src/device-auth.ts); HTTP session routing
(src/gateway/http-utils.ts `resolveSessionKey`, docs/gateway/openai-http-api.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp

from bot import render
from bot.backends.base import BackendError
from bot.backends.config import GatewayDiscovery, OpenClawBackendConfig
from bot.models import AgentEvent

logger = logging.getLogger(__name__)

__all__ = ["DeviceIdentity", "OpenClawBackend", "main_session_key"]

Json = dict[str, Any]
SessionMode = Literal["persistent", "disposable"]

PROTOCOL_MIN = 3
PROTOCOL_MAX = 4
"""We speak protocol v4 (current) and accept v3 gateways; the frames we use are the same."""
CLIENT_ID = "gateway-client"
CLIENT_MODE = "backend"
"""Client ids are a closed set on the gateway (packages/gateway-protocol/src/client-info.ts)."""
SCOPES = ("operator.read", "operator.write")
CLIENT_VERSION = "0.1.0"

_HANDSHAKE_TIMEOUT = 15.0
_CHALLENGE_WAIT = 5.0
_RPC_TIMEOUT = 30.0
_HISTORY_LIMIT = 50
_MIN_FRAME = 32 * 1024 * 1024
"""Frames hold whole transcripts (chat.history), so they may be well over one result;
gateways send at most policy.maxPayload (25 MiB by default)."""
_HTTP_ENVELOPE = 64 * 1024
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10.0, sock_read=None)

_ABORT_REASONS = frozenset(
    {"rpc", "stop", "user", "abort", "aborted", "cancel", "cancelled", "canceled"}
)
_RUNNING_STATUSES = frozenset({"pending", "accepted", "in_flight", "queued", "running"})
_TOKEN_CODES = frozenset(
    {
        "AUTH_REQUIRED",
        "AUTH_UNAUTHORIZED",
        "AUTH_TOKEN_MISSING",
        "AUTH_TOKEN_MISMATCH",
        "AUTH_TOKEN_NOT_CONFIGURED",
        "AUTH_PASSWORD_MISSING",
        "AUTH_PASSWORD_MISMATCH",
        "AUTH_DEVICE_TOKEN_MISMATCH",
        "AUTH_RATE_LIMITED",
    }
)
_PAIRING_CODES = frozenset({"PAIRING_REQUIRED", "DEVICE_IDENTITY_REQUIRED", "NOT_PAIRED"})


# --- session keys and ids -----------------------------------------------------------------


def _agent_id(agent: str) -> str:
    """Gateways canonicalize agent ids and session keys to lower case; so do we."""
    return agent.strip().lower()


def main_session_key(agent: str) -> str:
    """The agent's persistent main session: what `sessions_send` to the agent targets."""
    return f"agent:{_agent_id(agent)}:main"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _disposable_session_key(agent: str, message_id: str) -> str:
    """A fresh session per task (never reused), stable across resends of the same message.

    Not under `subagent:`/`cron:`/`acp:`: those namespaces carry gateway semantics (spawn
    depth, collectors) and the HTTP API rejects them as explicit session keys.
    """
    return f"agent:{_agent_id(agent)}:dispatch:{_digest(_agent_id(agent), message_id)[:24]}"


def _idempotency_key(agent: str, message_id: str) -> str:
    """Derived from our message id, so a resend after a crash is deduped by the gateway."""
    return f"dispatch-{_digest('agent', _agent_id(agent), message_id)[:40]}"


def _ws_remote_id(run_id: str, session_key: str) -> str:
    return f"{run_id}|{session_key}"


def _http_remote_id(session_key: str) -> str:
    return f"http|{session_key}"


def _parse_remote_id(remote_task_id: str) -> tuple[Literal["ws", "http"], str, str]:
    """(kind, run id, session key) from what `send` reported as the remote task id."""
    head, sep, tail = remote_task_id.partition("|")
    if not sep or not head or not tail:
        raise BackendError(f"not an OpenClaw remote task id: {remote_task_id!r}")
    if head == "http":
        return "http", "", tail
    return "ws", head, tail


# --- device identity ----------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def device_auth_payload_v3(
    *,
    device_id: str,
    client_id: str,
    client_mode: str,
    role: str,
    scopes: list[str],
    signed_at_ms: int,
    token: str,
    nonce: str,
    platform: str,
    device_family: str,
) -> str:
    """The exact string a device signs (buildDeviceAuthPayloadV3 in gateway-client)."""
    return "|".join(
        [
            "v3",
            device_id,
            client_id,
            client_mode,
            role,
            ",".join(scopes),
            str(signed_at_ms),
            token,
            nonce,
            platform.strip().lower(),
            device_family.strip().lower(),
        ]
    )


class DeviceIdentity:
    """An Ed25519 device key: what current gateways want before they honour operator scopes.

    Device-less token connections are only trusted on direct loopback; elsewhere the
    gateway accepts the token but clears the scopes (docs/gateway/protocol/auth.md), and
    a new device id has to be approved once (`openclaw devices approve`). Keep the key in
    a file (`load_or_create`) so the approval survives restarts.
    """

    def __init__(self, private_key: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if len(private_key) != 32:
            raise ValueError("an Ed25519 private key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self._raw_private = private_key
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(os.urandom(32))

    @classmethod
    def load_or_create(cls, path: str | Path) -> DeviceIdentity:
        """Read the key from `path`, or create it there (mode 0600)."""
        file = Path(path)
        if file.exists():
            data = json.loads(file.read_text())
            return cls(_b64url_decode(str(data["privateKey"])))
        identity = cls.generate()
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "version": 1,
                    "deviceId": identity.device_id,
                    "publicKey": identity.public_key_b64url,
                    "privateKey": _b64url(identity._raw_private),
                },
                handle,
            )
        return identity

    @property
    def device_id(self) -> str:
        """sha256 of the raw public key, hex (deriveDeviceIdFromPublicKey)."""
        return hashlib.sha256(self.public_key).hexdigest()

    @property
    def public_key_b64url(self) -> str:
        return _b64url(self.public_key)

    def sign(self, payload: str) -> str:
        return _b64url(self._key.sign(payload.encode()))

    def __repr__(self) -> str:
        return f"DeviceIdentity(device_id={self.device_id[:12]}…)"


# --- wire errors ------------------------------------------------------------------------------


class _RpcError(Exception):
    """A `res` frame with ok:false."""

    def __init__(self, error: Any) -> None:
        error = error if isinstance(error, dict) else {}
        self.code = str(error.get("code") or "")
        self.message = str(error.get("message") or "request failed")
        details = error.get("details")
        self.details: Json = details if isinstance(details, dict) else {}
        self.detail_code = str(self.details.get("code") or "")
        super().__init__(f"{self.code}: {self.message}")


class _ConnectionLost(Exception):
    """The socket went away or an answer never came; the run itself is unaffected."""


class _FrameTooLarge(Exception):
    """The gateway sent a frame over our limit; aiohttp stopped reading it part way."""


class _WsUnavailable(Exception):
    """The gateway does not offer a usable WebSocket; `sticky` means don't try again."""

    def __init__(self, reason: str, *, sticky: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sticky = sticky


class _HandshakeClosed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- one gateway WebSocket ---------------------------------------------------------------------


class _Connection:
    """A handshaken gateway socket; requests are multiplexed by frame id.

    The gateway may answer one request twice (`agent` sends "accepted", then the final
    result): only the first answer counts, later ones are dropped.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, hello: Json, max_frame: int) -> None:
        self._ws = ws
        self._max_frame = max_frame
        self.hello = hello
        self._pending: dict[str, asyncio.Future[Json]] = {}
        self.closed = False
        self._reader = asyncio.create_task(self._read(), name="openclaw-ws-reader")

    @property
    def scopes(self) -> list[str]:
        auth = self.hello.get("auth")
        scopes = auth.get("scopes") if isinstance(auth, dict) else None
        return [str(s) for s in scopes] if isinstance(scopes, list) else list(SCOPES)

    async def request(self, method: str, params: Json, timeout: float = _RPC_TIMEOUT) -> Json:
        if self.closed:
            raise _ConnectionLost("the gateway connection is closed")
        frame_id = uuid.uuid4().hex
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._pending[frame_id] = future
        try:
            frame = {"type": "req", "id": frame_id, "method": method, "params": params}
            await self._ws.send_str(json.dumps(frame))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise _ConnectionLost(f"no answer to {method} within {timeout:.0f}s") from None
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise _ConnectionLost(f"{type(exc).__name__} while sending {method}") from None
        finally:
            self._pending.pop(frame_id, None)

    async def _read(self) -> None:
        reason = "the gateway closed the connection"
        too_large = False
        try:
            async for message in self._ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._dispatch(message.data)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    reason = f"connection error: {type(self._ws.exception()).__name__}"
                    break
            if self._ws.close_code is not None:
                reason = f"the gateway closed the connection ({self._ws.close_code})"
            # aiohttp stops reading a frame over max_msg_size and closes with 1009.
            too_large = self._ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        except Exception as exc:  # the reader must always release waiters
            reason = f"connection error: {type(exc).__name__}"
        finally:
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        _FrameTooLarge(f"a message was over the {self._max_frame}-byte limit")
                        if too_large
                        else _ConnectionLost(reason)
                    )

    def _dispatch(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            logger.debug("ignoring a non-JSON frame from the gateway")
            return
        if not isinstance(frame, dict) or frame.get("type") != "res":
            return  # events (tick, health, chat, ...) are not needed to follow a run
        future = self._pending.get(str(frame.get("id")))
        if future is None or future.done():
            return
        if frame.get("ok"):
            payload = frame.get("payload")
            future.set_result(payload if isinstance(payload, dict) else {})
        else:
            future.set_exception(_RpcError(frame.get("error")))

    async def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


def _json_frame(message: aiohttp.WSMessage) -> Json | None:
    if message.type != aiohttp.WSMsgType.TEXT:
        return None
    try:
        frame = json.loads(message.data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


# --- replies ------------------------------------------------------------------------------------


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(block.get("text"))
            for block in content
            if isinstance(block, dict)
            and block.get("type") in (None, "text", "output_text")
            and isinstance(block.get("text"), str)
        ]
        return "\n".join(t for t in texts if t)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return str(content["text"])
    return ""


def _message_text(message: Json) -> str:
    text = _content_text(message.get("content"))
    if not text and isinstance(message.get("text"), str):
        text = str(message["text"])
    return text.strip()


def _turn_run_id(row: Json) -> str:
    """The run a user turn started: the gateway tags it with idempotencyKey "<runId>:user"."""
    key = str(row.get("idempotencyKey") or row.get("runId") or "")
    return key.split(":")[0] if row.get("role") == "user" else ""


def _turn_index(rows: list[Json], run_id: str) -> int | None:
    found = None
    for index, row in enumerate(rows):
        if _turn_run_id(row) == run_id:
            found = index
    return found


def _reply_from_history(messages: list[Any], run_id: str) -> str:
    """The run's final assistant text from a `chat.history` transcript.

    The gateway tags the run's user message with idempotencyKey "<runId>:user"; the reply
    is the last assistant text after it and before the next user message. Untagged
    transcripts fall back to the last assistant text after the last user message.
    """
    rows = [m for m in messages if isinstance(m, dict)]
    start = _turn_index(rows, run_id)
    if start is not None:
        reply = ""
        for row in rows[start + 1 :]:
            if row.get("role") == "user":
                break
            if row.get("role") == "assistant" and _message_text(row):
                reply = _message_text(row)
        return reply
    for row in reversed(rows):
        if row.get("role") == "user":
            break
        if row.get("role") == "assistant" and _message_text(row):
            return _message_text(row)
    return ""


RECOVERY_TURN = "[System] Your previous turn was interrupted by a gateway restart"
"""How the gateway's restart recovery starts the turn that re-runs an interrupted one
(src/gateway/main-session-restart-recovery.ts); it runs under a new run id."""
_UNFINISHED_STOPS = frozenset({"toolUse", "tool_use", "tool_calls"})
_FAILED_STOPS = frozenset({"error", "aborted"})


@dataclass
class _TurnOutcome:
    """What a session's transcript says became of a run's turn."""

    run_id: str
    """The run now carrying the turn: ours, or the recovery run that re-ran it."""
    state: Literal["running", "completed", "failed"]
    text: str = ""


def _turn_outcome(messages: list[Any], run_id: str) -> _TurnOutcome | None:
    """Reconcile a run from `chat.history` when `agent.wait` can no longer speak for it.

    After a gateway restart `agent.wait` answers "timeout" for an old run id forever. The
    transcript still knows: our tagged user turn followed by a final assistant message is
    the result; followed by the recovery turn, the work goes on under that turn's run id
    (and so on, if that one was interrupted too). None if our turn is not in the history.
    """
    rows = [m for m in messages if isinstance(m, dict)]
    start = _turn_index(rows, run_id)
    if start is None:
        return None
    outcome = _TurnOutcome(run_id, "running")
    for row in rows[start + 1 :]:
        if row.get("role") == "user":
            if outcome.state == "completed" or not _message_text(row).startswith(RECOVERY_TURN):
                break  # the turn was answered; what follows is someone else's
            outcome = _TurnOutcome(_turn_run_id(row) or outcome.run_id, "running")
        elif row.get("role") == "assistant":
            stop = str(row.get("stopReason") or "")
            if stop in _FAILED_STOPS:
                error = str(row.get("errorMessage") or "") or _message_text(row)
                outcome = _TurnOutcome(outcome.run_id, "failed", error)
            elif stop not in _UNFINISHED_STOPS and _message_text(row):
                outcome = _TurnOutcome(outcome.run_id, "completed", _message_text(row))
    return outcome


WaitState = Literal["running", "ok", "error", "timeout", "canceled", "superseded"]


def _wait_state(payload: Json) -> WaitState:
    """Classify an `agent.wait` result.

    Verified in agent-turn-service.ts: an expired wait is `{runId, status:"timeout"}` with
    no terminal metadata, a queued run is `status:"pending"`, and a gateway shutting down
    answers `timeoutPhase:"gateway_draining"`: all of those mean the run is still alive.
    """
    status = str(payload.get("status") or "")
    stop = str(payload.get("stopReason") or "").lower()
    if status == "ok":
        return "ok"
    if status in _RUNNING_STATUSES or not status:
        return "running"
    terminal = any(payload.get(k) not in (None, "") for k in ("endedAt", "stopReason", "error"))
    if status == "timeout" and (not terminal or payload.get("timeoutPhase") == "gateway_draining"):
        return "running"
    if stop == "superseded":
        return "superseded"
    if stop in _ABORT_REASONS:
        return "canceled"
    if status == "timeout":
        return "timeout"
    if status == "error":
        return "error"
    return "running"


# --- the backend ------------------------------------------------------------------------------


@dataclass
class _HttpAnswer:
    ok: bool
    text: str
    cut: bool = False
    """Only the head of the answer was read."""


class OpenClawBackend:
    """`Backend` for one OpenClaw agent (config.agent) behind a gateway (config.url).

    session="persistent" targets the agent's main session `agent:<id>:main` (the
    equivalent of `sessions_send`); "disposable" gives every task a fresh session key
    (the equivalent of `sessions_spawn`). The session key is reported as `context_id`.
    """

    def __init__(
        self,
        config: OpenClawBackendConfig,
        *,
        session: SessionMode,
        poll_interval: float = 1.0,
        wait_ms: int | None = None,
        reconnect_window: float = 60.0,
        identity: DeviceIdentity | None = None,
        http: aiohttp.ClientSession | None = None,
        max_result_bytes: int = 1_048_576,
    ) -> None:
        self.config = config
        self.session = session
        self.agent = _agent_id(config.agent)
        self.poll_interval = poll_interval
        self.wait_ms = wait_ms if wait_ms is not None else config.wait_ms
        """One agent.wait's length. Tests may go below the config minimum here."""
        self.reconnect_window = reconnect_window
        self.identity = identity
        self.max_result_bytes = max_result_bytes
        """Most bytes of a reply relayed; frames and HTTP bodies are bounded from it too."""
        self._max_frame = max(_MIN_FRAME, 8 * max_result_bytes)
        self._token = config.token.get_secret_value() if config.token else ""
        self._base = config.url.rstrip("/")
        self._http_base = self._base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        self._ws_url = self._http_base.replace("http://", "ws://", 1).replace(
            "https://", "wss://", 1
        )
        self._http = http
        self._owns_http = http is None
        self._conn: _Connection | None = None
        self._conn_lock = asyncio.Lock()
        self._generation = 0
        """Connections opened so far: a change while following a run means a reconnect."""
        self._path: Literal["ws", "http"] | None = None
        self._http_path: Literal["responses", "chat"] | None = None
        self._closed = False

    @classmethod
    def from_discovery(
        cls, discovery: GatewayDiscovery, agent: str = "main", **options: Any
    ) -> OpenClawBackend:
        """A backend for one agent of a `discover: true` gateway (or for `list_agents`)."""
        config = OpenClawBackendConfig(
            kind="openclaw", url=discovery.url, token=discovery.token, agent=agent
        )
        return cls(config, session=discovery.session, **options)

    def __repr__(self) -> str:
        return (
            f"OpenClawBackend(url={self._base!r}, agent={self.agent!r}, "
            f"session={self.session!r}, path={self._path or 'unknown'})"
        )

    @property
    def path(self) -> str | None:
        """Which way worked: "ws", "responses" or "chat" (None until the first call)."""
        if self._path == "http":
            return self._http_path
        return self._path

    # --- Backend protocol -----------------------------------------------------------------

    async def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """Start a run (or join it, if this message id was sent before) and follow it.

        First event: `working` with the remote task id and the session key. Cancelling the
        consumer only stops our waiting; the run keeps going on the gateway.
        """
        session_key = self._session_key(
            message_id, context_id, (metadata or {}).get("dispatch_session")
        )
        path = await self._resolve_path()
        if path == "http":
            async for event in self._send_http(text, session_key):
                yield event
            return
        idempotency_key = _idempotency_key(self.agent, message_id)
        params: Json = {
            "message": text,
            "agentId": self.agent,
            "sessionKey": session_key,
            "deliver": False,
            "idempotencyKey": idempotency_key,
        }
        try:
            accepted = await self._call("agent", params, raise_rpc=True)
        except _RpcError as exc:
            if exc.detail_code != "CACHED_AGENT_RESULT":
                raise self._rpc_backend_error(exc, "agent") from None
            # A resend of a run that already failed: the gateway replays the failure and
            # names the run; agent.wait below reports it like any other terminal run.
            accepted = {"runId": exc.details.get("runId"), "status": "replayed"}
        run_id = str(accepted.get("runId") or idempotency_key)
        logger.info(
            "OpenClaw run %s for %s in %s (%s)",
            run_id,
            self.agent,
            session_key,
            accepted.get("status") or "accepted",
        )
        yield AgentEvent(
            state="working",
            remote_task_id=_ws_remote_id(run_id, session_key),
            context_id=session_key,
        )
        async for event in self._follow(run_id, session_key):
            yield event

    async def get(self, remote_task_id: str) -> AgentEvent:
        """The run's state now: one zero-length agent.wait, plus the reply if it finished."""
        kind, run_id, session_key = _parse_remote_id(remote_task_id)
        if kind == "http":
            return self._lost_http_run(session_key)
        payload = await self._call("agent.wait", {"runId": run_id, "timeoutMs": 0})
        if _wait_state(payload) != "running":
            return await self._final_event(run_id, session_key, payload)
        # "Running" is also all a restarted gateway says about a run it has forgotten.
        outcome = await self._history_outcome(run_id, session_key)
        if outcome is None or (outcome.run_id == run_id and outcome.state == "running"):
            return self._working(run_id, session_key)
        if outcome.state == "running":
            return await self.get(_ws_remote_id(outcome.run_id, session_key))
        return self._outcome_event(outcome, session_key)

    async def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        """Follow a run we started earlier (e.g. before a restart) until it is terminal."""
        current = await self.get(remote_task_id)
        yield current
        if current.terminal or current.remote_task_id is None:
            return
        _, run_id, session_key = _parse_remote_id(current.remote_task_id)
        # A new process cannot know whether the gateway restarted meanwhile.
        async for event in self._follow(run_id, session_key, reconcile=True):
            yield event

    async def cancel(self, remote_task_id: str) -> None:
        """chat.abort for the run; a run that already finished is not an error."""
        kind, run_id, session_key = _parse_remote_id(remote_task_id)
        if kind == "http":
            logger.info("cannot cancel an HTTP request to %s after the fact", self._base)
            return
        try:
            result = await self._call(
                "chat.abort",
                {"sessionKey": session_key, "runId": run_id},
                retry_window=min(self.reconnect_window, 5.0),
                raise_rpc=True,
            )
        except _RpcError as exc:
            logger.debug("chat.abort of %s ignored: %s", run_id, self._redact(exc.message))
            return
        logger.info("chat.abort of %s at %s: aborted=%s", run_id, self._base, result.get("aborted"))

    async def aclose(self) -> None:
        """Close our sockets. Never aborts a run: runs belong to the gateway."""
        self._closed = True
        async with self._conn_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
        if self._owns_http and self._http is not None:
            await self._http.close()
        self._http = None

    async def probe(self) -> None:
        """Sign in and find our agent, the way a call would; raises BackendError if not.

        Reachable is not enough: a wrong token or an unknown agent id would fail every
        task. A pinned `endpoint` is the only one tried, and the only one an error names.
        """
        listed = await self.list_agents()
        if self.agent not in {_agent_id(str(a["id"])) for a in listed}:
            raise BackendError(f"agent '{self.agent}' is not on the gateway at {self._base}")

    async def list_agents(self) -> list[dict[str, Any]]:
        """The gateway's agents (agents.list), for roster discovery.

        Each: id, name, description (the identity theme, if any), emoji, default.
        Without the WebSocket protocol, falls back to GET /v1/models.
        """
        if await self._resolve_path() == "http":
            return await self._list_agents_http()
        payload = await self._call("agents.list", {})
        default_id = payload.get("defaultId")
        agents: list[dict[str, Any]] = []
        for row in payload.get("agents") or []:
            if not isinstance(row, dict) or not row.get("id"):
                continue
            raw_identity = row.get("identity")
            identity: Json = raw_identity if isinstance(raw_identity, dict) else {}
            agents.append(
                {
                    "id": str(row["id"]),
                    "name": str(row.get("name") or identity.get("name") or row["id"]),
                    "description": str(identity.get("theme") or ""),
                    "emoji": identity.get("emoji"),
                    "identity": identity,
                    "default": row.get("id") == default_id,
                }
            )
        return agents

    # --- sessions -------------------------------------------------------------------------

    def _session_key(self, message_id: str, context_id: str | None, scope: str | None) -> str:
        """`scope`: Dispatch's session key for a channel's or a user's own persistent
        session (the manifest's `session_scope`); without it, the agent's main session."""
        if self.session == "persistent":
            if scope:
                digest = _digest("scope", _agent_id(self.agent), scope)[:24]
                return f"agent:{_agent_id(self.agent)}:dispatch:{digest}"
            return main_session_key(self.agent)
        if context_id:
            return context_id  # continuing the same disposable conversation
        return _disposable_session_key(self.agent, message_id)

    def _working(self, run_id: str, session_key: str) -> AgentEvent:
        return AgentEvent(
            state="working",
            remote_task_id=_ws_remote_id(run_id, session_key),
            context_id=session_key,
        )

    # --- following a run -----------------------------------------------------------------

    async def _follow(
        self, run_id: str, session_key: str, *, reconcile: bool = False
    ) -> AsyncGenerator[AgentEvent, None]:
        """agent.wait until terminal; every expired wait yields a `working` heartbeat.

        After a reconnect or an UNAVAILABLE answer (a gateway draining for a restart) the
        gateway may have restarted, and then `agent.wait` says "timeout" for our run id
        forever. From then on every round also reads the session's history: it holds the
        reply, or the recovery turn whose new run carries on the work (`reconcile`).
        """
        loop = asyncio.get_running_loop()
        wait_s = self.wait_ms / 1000
        backoff = self.poll_interval
        while True:
            started = loop.time()
            if reconcile:
                outcome = await self._history_outcome(run_id, session_key)
                if outcome is not None and outcome.state != "running":
                    yield self._outcome_event(outcome, session_key)
                    return
                if outcome is not None and outcome.run_id != run_id:
                    logger.info(
                        "OpenClaw run %s in %s was resumed as run %s after a gateway restart",
                        run_id,
                        session_key,
                        outcome.run_id,
                    )
                    run_id, reconcile = outcome.run_id, False
                    yield self._working(run_id, session_key)
                    continue
            generation = self._generation
            try:
                payload = await self._call(
                    "agent.wait",
                    {"runId": run_id, "timeoutMs": self.wait_ms},
                    timeout=wait_s + _RPC_TIMEOUT,
                    retry_unavailable=False,
                )
            except _RpcError as exc:  # UNAVAILABLE: draining for a restart; the run goes on
                logger.info("OpenClaw gateway at %s: %s", self._base, self._redact(exc.message))
                reconcile = True
                yield self._working(run_id, session_key)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max(wait_s, self.poll_interval))
                continue
            backoff = self.poll_interval
            reconcile = reconcile or self._generation != generation
            if _wait_state(payload) != "running":
                yield await self._final_event(run_id, session_key, payload)
                return
            yield self._working(run_id, session_key)
            if loop.time() - started < min(self.poll_interval, wait_s):
                await asyncio.sleep(self.poll_interval)  # e.g. "pending" answers at once

    async def _history_outcome(self, run_id: str, session_key: str) -> _TurnOutcome | None:
        """What the session's history says of the run; None while it cannot be read."""
        try:
            history = await self._call(
                "chat.history",
                {"sessionKey": session_key, "limit": _HISTORY_LIMIT},
                retry_unavailable=False,
            )
        except _RpcError:
            return None  # still draining; ask again next round
        messages = history.get("messages")
        return _turn_outcome(messages if isinstance(messages, list) else [], run_id)

    def _outcome_event(self, outcome: _TurnOutcome, session_key: str) -> AgentEvent:
        return AgentEvent(
            state="completed" if outcome.state == "completed" else "failed",
            remote_task_id=_ws_remote_id(outcome.run_id, session_key),
            context_id=session_key,
            text=self._capped(
                self._redact(outcome.text) if outcome.state == "failed" else outcome.text
            ),
        )

    def _capped(self, text: str, *, cut: bool = False) -> str:
        """At most max_result_bytes of a result, and a note where it was cut."""
        return render.result_cut(text, self.max_result_bytes, cut=cut)

    async def _final_event(self, run_id: str, session_key: str, payload: Json) -> AgentEvent:
        state = _wait_state(payload)
        remote = _ws_remote_id(run_id, session_key)
        error = self._redact(str(payload.get("error") or ""))
        if state == "ok":
            return AgentEvent(
                state="completed",
                remote_task_id=remote,
                context_id=session_key,
                text=self._capped(await self._reply(run_id, session_key, payload)),
            )
        if state == "canceled":
            return AgentEvent(
                state="canceled", remote_task_id=remote, context_id=session_key, text=error
            )
        if state == "superseded":
            text = f"the run was superseded by a newer message in OpenClaw session {session_key}"
        elif state == "timeout":
            text = error or "the agent's run timed out on the OpenClaw gateway"
        else:
            text = error or "the agent's run failed on the OpenClaw gateway"
        return AgentEvent(state="failed", remote_task_id=remote, context_id=session_key, text=text)

    async def _reply(self, run_id: str, session_key: str, payload: Json) -> str:
        """The final assistant text: agent.wait's terminalReply, else chat.history."""
        reply = payload.get("terminalReply")
        if isinstance(reply, dict):
            if reply.get("disposition") == "visible" and isinstance(reply.get("text"), str):
                return str(reply["text"])
            if reply.get("disposition") in ("silent", "empty"):
                return ""
        history = await self._call(
            "chat.history", {"sessionKey": session_key, "limit": _HISTORY_LIMIT}
        )
        messages = history.get("messages")
        return _reply_from_history(messages if isinstance(messages, list) else [], run_id)

    # --- calls with reconnects -----------------------------------------------------------

    async def _call(
        self,
        method: str,
        params: Json,
        *,
        timeout: float = _RPC_TIMEOUT,
        retry_window: float | None = None,
        raise_rpc: bool = False,
        retry_unavailable: bool = True,
    ) -> Json:
        """One RPC; reconnects and retries transient failures for `retry_window` seconds.

        Retrying is safe for everything we call: `agent` carries an idempotency key, the
        rest only read or abort. With retry_unavailable=False an UNAVAILABLE answer is
        raised as `_RpcError` at once, for callers that have something better to do.
        """
        window = self.reconnect_window if retry_window is None else retry_window
        deadline = time.monotonic() + window
        delay = 0.25
        while True:
            conn: _Connection | None = None
            try:
                conn = await self._connection()
                return await conn.request(method, params, timeout)
            except _RpcError as exc:
                if exc.code == "UNAVAILABLE" and not retry_unavailable:
                    raise
                if exc.code != "UNAVAILABLE":
                    if raise_rpc:
                        raise
                    raise self._rpc_backend_error(exc, method) from None
                problem = f"the gateway is busy ({self._redact(exc.message)})"
            except _ConnectionLost as exc:
                problem = str(exc)
                if conn is not None:
                    await self._discard(conn)
            except _WsUnavailable as exc:
                problem = exc.reason
            except _FrameTooLarge as exc:
                if conn is not None:
                    await self._discard(conn)
                raise BackendError(
                    f"the OpenClaw gateway at {self._base} sent more than Dispatch reads "
                    f"for {method}: {exc}"
                ) from None
            if time.monotonic() + delay > deadline:
                raise BackendError(
                    f"the OpenClaw gateway at {self._base} is unreachable: {problem}"
                )
            logger.info("OpenClaw %s at %s: %s; retrying", method, self._base, problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _discard(self, conn: _Connection) -> None:
        """Forget a connection that failed us (a silent socket is as bad as a closed one)."""
        async with self._conn_lock:
            if self._conn is conn:
                self._conn = None
        await conn.close()

    async def _connection(self) -> _Connection:
        async with self._conn_lock:
            if self._closed:
                raise BackendError(f"the backend for {self._base} is closed")
            if self._conn is not None and not self._conn.closed:
                return self._conn
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
            self._conn = await self._open()
            self._generation += 1
            return self._conn

    def _session_http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=_HTTP_TIMEOUT)
        return self._http

    async def _open(self) -> _Connection:
        """Connect and handshake: connect.challenge -> connect -> hello-ok."""
        try:
            ws = await self._session_http().ws_connect(
                self._ws_url + "/", max_msg_size=self._max_frame, autoping=True
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise _WsUnavailable(
                f"the WebSocket upgrade was refused (HTTP {exc.status})", sticky=True
            ) from None
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            reason = "connection refused" if refused else type(exc.os_error).__name__
            raise _WsUnavailable(reason, sticky=False) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _WsUnavailable(f"{type(exc).__name__}", sticky=False) from None
        try:
            async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
                hello = await self._handshake(ws)
        except TimeoutError:
            await ws.close()
            raise _ConnectionLost("the gateway did not complete the handshake") from None
        except _HandshakeClosed as exc:
            await ws.close()
            raise self._closed_handshake_error(exc) from None
        except _RpcError as exc:
            await ws.close()
            raise self._connect_error(exc) from None
        except BaseException:
            await ws.close()
            raise
        conn = _Connection(ws, hello, self._max_frame)
        if "operator.write" not in conn.scopes:
            await conn.close()
            raise _WsUnavailable(
                "the gateway accepted the token but granted no operator.write scope "
                "(a device identity and pairing approval are needed off loopback)",
                sticky=True,
            )
        return conn

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> Json:
        nonce, challenge_ts = await self._await_challenge(ws)
        frame_id = uuid.uuid4().hex
        await ws.send_str(
            json.dumps(
                {
                    "type": "req",
                    "id": frame_id,
                    "method": "connect",
                    "params": self._connect_params(nonce, challenge_ts),
                }
            )
        )
        while True:
            message = await ws.receive()
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                raise _HandshakeClosed(ws.close_code, str(message.extra or ""))
            frame = _json_frame(message)
            if frame is None or frame.get("type") != "res" or frame.get("id") != frame_id:
                continue
            if not frame.get("ok"):
                raise _RpcError(frame.get("error"))
            payload = frame.get("payload")
            return payload if isinstance(payload, dict) else {}

    async def _await_challenge(
        self, ws: aiohttp.ClientWebSocketResponse
    ) -> tuple[str | None, int | None]:
        """The pre-connect nonce; gateways older than connect.challenge never send one."""
        try:
            async with asyncio.timeout(_CHALLENGE_WAIT):
                while True:
                    message = await ws.receive()
                    if message.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                    ):
                        raise _HandshakeClosed(ws.close_code, str(message.extra or ""))
                    frame = _json_frame(message)
                    if frame and frame.get("event") == "connect.challenge":
                        payload = frame.get("payload") or {}
                        nonce = payload.get("nonce")
                        ts = payload.get("ts")
                        return (
                            str(nonce) if nonce else None,
                            int(ts) if isinstance(ts, int | float) else None,
                        )
        except TimeoutError:
            return None, None

    def _connect_params(self, nonce: str | None, challenge_ts: int | None) -> Json:
        client: Json = {
            "id": CLIENT_ID,
            "displayName": "Dispatch",
            "version": CLIENT_VERSION,
            "platform": sys.platform,
            "mode": CLIENT_MODE,
            "instanceId": uuid.uuid4().hex,
        }
        params: Json = {
            "minProtocol": PROTOCOL_MIN,
            "maxProtocol": PROTOCOL_MAX,
            "client": client,
            "role": "operator",
            "scopes": list(SCOPES),
            "caps": [],
            "auth": {"token": self._token} if self._token else {},
            "userAgent": f"dispatch/{CLIENT_VERSION}",
        }
        if self.identity is not None and nonce:
            signed_at = challenge_ts if challenge_ts is not None else int(time.time() * 1000)
            payload = device_auth_payload_v3(
                device_id=self.identity.device_id,
                client_id=CLIENT_ID,
                client_mode=CLIENT_MODE,
                role="operator",
                scopes=list(SCOPES),
                signed_at_ms=signed_at,
                token=self._token,
                nonce=nonce,
                platform=sys.platform,
                device_family="",
            )
            params["device"] = {
                "id": self.identity.device_id,
                "publicKey": self.identity.public_key_b64url,
                "signature": self.identity.sign(payload),
                "signedAt": signed_at,
                "nonce": nonce,
            }
        return params

    # --- choosing WebSocket or HTTP --------------------------------------------------------

    async def _resolve_path(self) -> Literal["ws", "http"]:
        if self._path is not None:
            return self._path
        endpoint = self.config.endpoint
        if endpoint in ("responses", "chat"):
            self._path, self._http_path = "http", endpoint
            return "http"
        try:
            await self._connection()
        except _WsUnavailable as exc:
            if endpoint == "ws":
                raise BackendError(self._unavailable_message(exc)) from None
            if exc.sticky:
                self._path = "http"
                logger.warning(
                    "OpenClaw gateway at %s: WebSocket unusable (%s); using the HTTP API",
                    self._base,
                    exc.reason,
                )
            else:
                logger.info("OpenClaw gateway at %s: WebSocket %s", self._base, exc.reason)
            return "http"
        except _ConnectionLost as exc:
            raise BackendError(
                f"the OpenClaw gateway at {self._base} is unreachable: {exc}"
            ) from None
        self._path = "ws"
        return "ws"

    def _unavailable_message(self, exc: _WsUnavailable) -> str:
        if exc.reason == "connection refused":
            return f"the OpenClaw gateway at {self._base} is unreachable: connection refused"
        return f"the OpenClaw gateway at {self._base} has no usable WebSocket: {exc.reason}"

    # --- HTTP fallback ---------------------------------------------------------------------

    async def _send_http(self, text: str, session_key: str) -> AsyncGenerator[AgentEvent, None]:
        remote = _http_remote_id(session_key)
        yield AgentEvent(state="working", remote_task_id=remote, context_id=session_key)
        answer = await self._post(text, session_key)
        yield AgentEvent(
            state="completed" if answer.ok else "failed",
            remote_task_id=remote,
            context_id=session_key,
            text=self._capped(answer.text, cut=answer.cut),
        )

    async def _post(self, text: str, session_key: str) -> _HttpAnswer:
        """POST /v1/responses, else /v1/chat/completions; remembers which one worked."""
        order: list[Literal["responses", "chat"]] = (
            [self._http_path] if self._http_path else ["responses", "chat"]
        )
        for kind in order:
            answer = await self._post_one(kind, text, session_key)
            if answer is not None:
                if self._http_path != kind:
                    logger.info("OpenClaw gateway at %s: using /v1/%s", self._base, kind)
                self._http_path = kind
                return answer
        raise self._not_served()

    def _not_served(self) -> BackendError:
        """The HTTP API is off; a pinned endpoint names only itself."""
        pinned = self.config.endpoint
        if pinned == "responses":
            what, setting = "/v1/responses", "responses"
        elif pinned == "chat":
            what, setting = "/v1/chat/completions", "chatCompletions"
        else:
            return BackendError(
                f"the OpenClaw gateway at {self._base} offers neither the WebSocket protocol "
                "nor /v1/responses or /v1/chat/completions "
                "(enable gateway.http.endpoints.responses)"
            )
        return BackendError(
            f"the OpenClaw gateway at {self._base} does not serve {what} "
            f"(enable gateway.http.endpoints.{setting})"
        )

    def _http_headers(self, session_key: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "x-openclaw-agent-id": self.agent,
            # An explicit key is used as-is (http-utils.ts resolveSessionKey); `user` alone
            # would give agent:<id>:openai-user:<user>, not the main session.
            "x-openclaw-session-key": session_key,
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _post_one(
        self, kind: Literal["responses", "chat"], text: str, session_key: str
    ) -> _HttpAnswer | None:
        """None when this endpoint is not served (disabled endpoints answer 404/405)."""
        model = f"openclaw/{self.agent}"
        body: Json
        if kind == "responses":
            url, body = f"{self._http_base}/v1/responses", {"model": model, "input": text}
        else:
            url = f"{self._http_base}/v1/chat/completions"
            body = {"model": model, "messages": [{"role": "user", "content": text}]}
        body["stream"] = False
        if self.session == "persistent":
            body["user"] = f"dispatch-{self.agent}"
        try:
            async with self._session_http().post(
                url, json=body, headers=self._http_headers(session_key)
            ) as response:
                status = response.status
                raw, cut = await _read_capped(response, 2 * self.max_result_bytes + _HTTP_ENVELOPE)
        except aiohttp.ClientError as exc:
            raise self._http_failure(exc) from None
        if cut and status < 400:
            # Only the head was read: it is no JSON document, but it starts the reply.
            return _HttpAnswer(True, _json_text_head(raw), cut=True)
        data = _parse_json(raw)
        message = self._redact(_http_error_message(data) or raw[:300].strip())
        if status in (404, 405, 501) and not _mentions_agent(message):
            return None
        if status in (401, 403) and not _mentions_agent(message):
            raise BackendError(
                f"the OpenClaw gateway at {self._base} refused the token (HTTP {status})"
            )
        if status >= 400:
            if _mentions_agent(message):
                raise self._agent_error(message)
            if status >= 500:
                return _HttpAnswer(False, message or f"the gateway answered HTTP {status}")
            raise BackendError(
                f"the OpenClaw gateway at {self._base} rejected the request "
                f"(HTTP {status}): {message}"
            )
        if data is None:
            return None  # a 200 that is not JSON: not the OpenAI-compatible API
        return _responses_answer(data) if kind == "responses" else _chat_answer(data)

    async def _list_agents_http(self) -> list[dict[str, Any]]:
        try:
            async with self._session_http().get(
                f"{self._http_base}/v1/models", headers=self._http_headers("")
            ) as response:
                status = response.status
                data = _parse_json(await response.text())
        except aiohttp.ClientError as exc:
            raise self._http_failure(exc) from None
        if status in (401, 403):
            raise BackendError(
                f"the OpenClaw gateway at {self._base} refused the token (HTTP {status})"
            )
        if status in (404, 405, 501) or data is None:
            raise self._not_served()
        rows = data.get("data")
        agents = []
        for row in rows if isinstance(rows, list) else []:
            model = str(row.get("id") or "") if isinstance(row, dict) else ""
            if model.startswith("openclaw/") and model != "openclaw/default":
                agent = model.removeprefix("openclaw/")
                agents.append({"id": agent, "name": agent, "description": "", "default": False})
        return agents

    def _http_failure(self, exc: aiohttp.ClientError) -> BackendError:
        if isinstance(exc, aiohttp.ClientConnectorError):
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            reason = "connection refused" if refused else type(exc.os_error).__name__
            return BackendError(f"the OpenClaw gateway at {self._base} is unreachable: {reason}")
        return BackendError(
            f"the request to the OpenClaw gateway at {self._base} failed: {type(exc).__name__}"
        )

    def _lost_http_run(self, session_key: str) -> AgentEvent:
        return AgentEvent(
            state="failed",
            remote_task_id=_http_remote_id(session_key),
            context_id=session_key,
            text=(
                "the result was lost: Dispatch restarted while waiting on the OpenClaw HTTP API, "
                "which cannot resume a request (enable the gateway WebSocket to avoid this)"
            ),
        )

    # --- error messages -------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        if self._token and len(self._token) >= 4:
            text = text.replace(self._token, "***")
        return text

    def _connect_error(self, exc: _RpcError) -> Exception:
        message = self._redact(exc.message)
        if exc.detail_code in _TOKEN_CODES or message.lower().startswith("unauthorized"):
            why = {
                "AUTH_TOKEN_MISSING": "no token was sent",
                "AUTH_TOKEN_MISMATCH": "token mismatch",
                "AUTH_RATE_LIMITED": "too many failed attempts; wait and retry",
            }.get(exc.detail_code, message)
            return BackendError(f"the OpenClaw gateway at {self._base} refused the token ({why})")
        if exc.detail_code in _PAIRING_CODES or exc.code == "NOT_PAIRED":
            request_id = exc.details.get("requestId")
            hint = (
                f"approve it with `openclaw devices approve {request_id}`"
                if request_id
                else "approve the pending device with `openclaw devices list`/`approve`"
            )
            return BackendError(
                f"the OpenClaw gateway at {self._base} requires this client to be paired: {hint}"
            )
        if exc.detail_code == "PROTOCOL_MISMATCH" or "protocol mismatch" in message:
            return BackendError(
                f"the OpenClaw gateway at {self._base} speaks an unsupported protocol version"
            )
        if exc.code == "UNAVAILABLE":
            return _ConnectionLost(f"the gateway is not ready ({message})")
        return BackendError(
            f"the OpenClaw gateway at {self._base} refused the connection: {message}"
        )

    def _closed_handshake_error(self, exc: _HandshakeClosed) -> Exception:
        reason = self._redact(exc.reason)
        lowered = reason.lower()
        if "unauthorized" in lowered or "token" in lowered:
            return BackendError(
                f"the OpenClaw gateway at {self._base} refused the token ({reason})"
            )
        if "pairing" in lowered or "device identity" in lowered:
            return BackendError(
                f"the OpenClaw gateway at {self._base} requires this client to be paired ({reason})"
            )
        return _ConnectionLost(
            f"the gateway closed the connection during the handshake ({exc.code}: {reason})"
        )

    def _agent_error(self, message: str) -> BackendError:
        return BackendError(
            f"agent '{self.agent}' is not allowed on the gateway at {self._base}: {message}"
        )

    def _rpc_backend_error(self, exc: _RpcError, method: str) -> BackendError:
        message = self._redact(exc.message)
        if exc.detail_code == "MISSING_SCOPE" or "missing scope" in message.lower():
            return BackendError(
                f"the OpenClaw gateway at {self._base} did not grant the scope {method} needs "
                f"({message}); give Dispatch a paired device identity or use the HTTP API"
            )
        if method in ("agent", "chat.history", "chat.abort") and (
            exc.code == "FORBIDDEN" or _mentions_agent(message)
        ):
            return self._agent_error(message)
        return BackendError(
            f"the OpenClaw gateway at {self._base} rejected {method}: {exc.code or 'error'}: "
            f"{message}"
        )


# --- HTTP helpers ------------------------------------------------------------------------------


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[str, bool]:
    """The body's first `limit` bytes, and whether there was more (left unread)."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            return bytes(data[:limit]).decode("utf-8", "ignore"), True
    return bytes(data).decode("utf-8", "replace"), False


_TEXT_FIELD = re.compile(r'"(?:text|content|output_text)"\s*:\s*"')


def _json_text_head(raw: str) -> str:
    """The reply's opening words from the head of a JSON answer too long to read whole.

    The first text field (output_text of /v1/responses, message content of
    /v1/chat/completions) is decoded as far as it goes; a half escape at the cut is dropped.
    """
    match = _TEXT_FIELD.search(raw)
    if match is None:
        return ""
    end = index = match.end()
    while index < len(raw) and raw[index] != '"':
        index += 2 if raw[index] == "\\" else 1
    fragment = raw[end:index]
    for trim in range(7):  # the longest half escape is \uXXX
        try:
            return str(json.loads(f'"{fragment[: len(fragment) - trim]}"'))
        except ValueError:
            continue
    return ""


def _parse_json(raw: str) -> Json | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _http_error_message(data: Json | None) -> str:
    if not data:
        return ""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "")
    if isinstance(error, str):
        return error
    return ""


def _mentions_agent(message: str) -> bool:
    lowered = message.lower()
    return "agent" in lowered and any(
        word in lowered for word in ("unknown", "not allowed", "forbidden", "not found", "invalid")
    )


def _responses_answer(data: Json) -> _HttpAnswer:
    """An OpenResponses object: output[].content[] of output_text, or `output_text`."""
    if data.get("status") == "failed" or isinstance(data.get("error"), dict):
        return _HttpAnswer(False, _http_error_message(data) or "the agent's run failed")
    texts: list[str] = []
    for item in data.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "message":
            text = _content_text(item.get("content"))
            if text:
                texts.append(text)
    if not texts and isinstance(data.get("output_text"), str):
        texts.append(str(data["output_text"]))
    return _HttpAnswer(True, "\n\n".join(texts).strip())


def _chat_answer(data: Json) -> _HttpAnswer:
    if isinstance(data.get("error"), dict):
        return _HttpAnswer(False, _http_error_message(data))
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return _HttpAnswer(False, "the gateway answered without a choice")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return _HttpAnswer(True, _content_text(content).strip())
