"""The `Backend` for one OpenClaw agent: WebSocket or HTTP, session keys, starting runs.

The one module the rest of Dispatch sees. Primary path: the gateway WebSocket protocol.
`connect` (answering `connect.challenge`), then `agent` to start a run, `agent.wait` to
follow it (`runs.py`), `chat.history` for the reply and `chat.abort` to stop it. After a
Dispatch restart the run is picked up again from the remote task id `<runId>|<sessionKey>`.
Fallback: the OpenAI-compatible HTTP API (`http.py`), which cannot be resumed.

Wire facts from openclaw/openclaw: `agent` params and the closed schema
(packages/gateway-protocol/src/schema/agent.ts); runId == idempotencyKey and dedupe replay
(src/gateway/agent-turn/agent-request-preflight.ts, agent-dedupe.ts); chat.history and
chat.abort params (packages/gateway-protocol/src/schema/logs-chat.ts).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any, Literal

import aiohttp

from bot.backends.base import BackendError
from bot.backends.config import GatewayDiscovery, OpenClawBackendConfig
from bot.backends.openclaw.client import GatewayClient
from bot.backends.openclaw.errors import ConnectionLost, Json, RpcError, WsUnavailable, redact
from bot.backends.openclaw.http import HttpFallback
from bot.backends.openclaw.identity import DeviceIdentity
from bot.backends.openclaw.runs import RunFollower
from bot.backends.openclaw.sessions import agent_id, idempotency_key, parse_remote_id, session_key
from bot.backends.openclaw.wire import MIN_FRAME, Connection, open_connection
from bot.models import AgentEvent, SessionKind

logger = logging.getLogger(__name__)

_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10.0, sock_read=None)


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
        session: SessionKind,
        poll_interval: float = 1.0,
        wait_ms: int | None = None,
        reconnect_window: float = 60.0,
        identity: DeviceIdentity | None = None,
        http: aiohttp.ClientSession | None = None,
        max_result_bytes: int = 1_048_576,
    ) -> None:
        self.config = config
        self.session = session
        self.agent = agent_id(config.agent)
        self.identity = identity
        self.max_result_bytes = max_result_bytes
        """Most bytes of a reply relayed; frames and HTTP bodies are bounded from it too."""
        self._max_frame = max(MIN_FRAME, 8 * max_result_bytes)
        self._token = config.token.get_secret_value() if config.token else ""
        self._base = config.url.rstrip("/")
        http_base = self._base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        self._ws_url = http_base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self._http = http
        self._owns_http = http is None
        self._path: Literal["ws", "http"] | None = None
        self._client = GatewayClient(
            self._dial,
            base=self._base,
            agent=self.agent,
            token=self._token,
            reconnect_window=reconnect_window,
        )
        self._runs = RunFollower(
            self._client,
            base=self._base,
            token=self._token,
            wait_ms=wait_ms if wait_ms is not None else config.wait_ms,
            poll_interval=poll_interval,
            max_result_bytes=max_result_bytes,
        )
        self._fallback = HttpFallback(
            base=self._base,
            http_base=http_base,
            agent=self.agent,
            token=self._token,
            persistent=session == "persistent",
            pinned=config.endpoint,
            max_result_bytes=max_result_bytes,
            session=self._session_http,
        )

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
            return self._fallback.path
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
        key = session_key(
            self.agent,
            self.session == "persistent",
            message_id,
            context_id,
            (metadata or {}).get("dispatch_session"),
        )
        path = await self._resolve_path()
        if path == "http":
            async for event in self._fallback.send(text, key):
                yield event
            return
        idempotency = idempotency_key(self.agent, message_id)
        params: Json = {
            "message": text,
            "agentId": self.agent,
            "sessionKey": key,
            "deliver": False,
            "idempotencyKey": idempotency,
        }
        try:
            accepted = await self._client.call("agent", params, raise_rpc=True)
        except RpcError as exc:
            if exc.detail_code != "CACHED_AGENT_RESULT":
                raise self._client.rpc_error(exc, "agent") from None
            # A resend of a run that already failed: the gateway replays the failure and
            # names the run; agent.wait below reports it like any other terminal run.
            accepted = {"runId": exc.details.get("runId"), "status": "replayed"}
        run_id = str(accepted.get("runId") or idempotency)
        logger.info(
            "OpenClaw run %s for %s in %s (%s)",
            run_id,
            self.agent,
            key,
            accepted.get("status") or "accepted",
        )
        yield self._runs.working(run_id, key)
        async for event in self._runs.follow(run_id, key):
            yield event

    async def get(self, remote_task_id: str) -> AgentEvent:
        """The run's state now: one zero-length agent.wait, plus the reply if it finished."""
        kind, run_id, key = parse_remote_id(remote_task_id)
        if kind == "http":
            return self._fallback.lost_run(key)
        return await self._runs.now(run_id, key)

    async def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        """Follow a run we started earlier (e.g. before a restart) until it is terminal."""
        current = await self.get(remote_task_id)
        yield current
        if current.terminal or current.remote_task_id is None:
            return
        _, run_id, key = parse_remote_id(current.remote_task_id)
        # A new process cannot know whether the gateway restarted meanwhile.
        async for event in self._runs.follow(run_id, key, reconcile=True):
            yield event

    async def cancel(self, remote_task_id: str) -> None:
        """chat.abort for the run; a run that already finished is not an error."""
        kind, run_id, key = parse_remote_id(remote_task_id)
        if kind == "http":
            logger.info("cannot cancel an HTTP request to %s after the fact", self._base)
            return
        try:
            result = await self._client.call(
                "chat.abort",
                {"sessionKey": key, "runId": run_id},
                retry_window=min(self._client.reconnect_window, 5.0),
                raise_rpc=True,
            )
        except RpcError as exc:
            logger.debug("chat.abort of %s ignored: %s", run_id, redact(exc.message, self._token))
            return
        logger.info("chat.abort of %s at %s: aborted=%s", run_id, self._base, result.get("aborted"))

    async def aclose(self) -> None:
        """Close our sockets. Never aborts a run: runs belong to the gateway."""
        await self._client.aclose()
        if self._owns_http and self._http is not None:
            await self._http.close()
        self._http = None

    async def probe(self) -> None:
        """Sign in and find our agent, the way a call would; raises BackendError if not.

        Reachable is not enough: a wrong token or an unknown agent id would fail every
        task. A pinned `endpoint` is the only one tried, and the only one an error names.
        """
        listed = await self.list_agents()
        if self.agent not in {agent_id(str(a["id"])) for a in listed}:
            raise BackendError(f"agent '{self.agent}' is not on the gateway at {self._base}")

    async def list_agents(self) -> list[dict[str, Any]]:
        """The gateway's agents (agents.list), for roster discovery.

        Each: id, name, description (the identity theme, if any), emoji, default.
        Without the WebSocket protocol, falls back to GET /v1/models.
        """
        if await self._resolve_path() == "http":
            return await self._fallback.list_agents()
        payload = await self._client.call("agents.list", {})
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

    # --- reaching the gateway -------------------------------------------------------------

    async def _dial(self) -> Connection:
        return await open_connection(
            self._session_http(),
            self._ws_url,
            base=self._base,
            token=self._token,
            identity=self.identity,
            max_frame=self._max_frame,
        )

    def _session_http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=_HTTP_TIMEOUT)
        return self._http

    # --- choosing WebSocket or HTTP --------------------------------------------------------

    async def _resolve_path(self) -> Literal["ws", "http"]:
        if self._path is not None:
            return self._path
        endpoint = self.config.endpoint
        if endpoint in ("responses", "chat"):
            self._path, self._fallback.path = "http", endpoint
            return "http"
        try:
            await self._client.connection()
        except WsUnavailable as exc:
            if endpoint == "ws":
                raise BackendError(
                    self._unavailable_message(exc), unreachable=exc.reason == "connection refused"
                ) from None
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
        except ConnectionLost as exc:
            raise BackendError(
                f"the OpenClaw gateway at {self._base} is unreachable: {exc}", unreachable=True
            ) from None
        self._path = "ws"
        return "ws"

    def _unavailable_message(self, exc: WsUnavailable) -> str:
        if exc.reason == "connection refused":
            return f"the OpenClaw gateway at {self._base} is unreachable: connection refused"
        return f"the OpenClaw gateway at {self._base} has no usable WebSocket: {exc.reason}"
