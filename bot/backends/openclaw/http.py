"""The HTTP fallback: the gateway's OpenAI-compatible `/v1/responses` and chat completions.

For gateways that offer no usable WebSocket (the upgrade refused, or no operator scopes
granted). Kept apart because it is a different contract: each request answers
synchronously, bodies are bounded by hand, and nothing can be resumed after a restart.
Session routing from openclaw/openclaw (src/gateway/http-utils.ts `resolveSessionKey`,
docs/gateway/openai-http-api.md).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from bot import render
from bot.backends.base import BackendError
from bot.backends.openclaw.errors import (
    Json,
    agent_error,
    connector_reason,
    mentions_agent,
    redact,
)
from bot.backends.openclaw.runs import content_text
from bot.backends.openclaw.sessions import http_remote_id
from bot.models import AgentEvent

logger = logging.getLogger(__name__)

_HTTP_ENVELOPE = 64 * 1024
_TEXT_FIELD = re.compile(r'"(?:text|content|output_text)"\s*:\s*"')

Endpoint = Literal["responses", "chat"]


@dataclass
class _HttpAnswer:
    ok: bool
    text: str
    cut: bool = False
    """Only the head of the answer was read."""


@dataclass(kw_only=True)
class HttpFallback:
    """One agent through the OpenAI-compatible API; remembers which endpoint worked."""

    base: str
    http_base: str
    agent: str
    token: str
    persistent: bool
    pinned: str
    max_result_bytes: int
    session: Callable[[], aiohttp.ClientSession]
    path: Endpoint | None = None

    async def send(self, text: str, session_key: str) -> AsyncGenerator[AgentEvent, None]:
        remote = http_remote_id(session_key)
        yield AgentEvent(state="working", remote_task_id=remote, context_id=session_key)
        answer = await self._post(text, session_key)
        yield AgentEvent(
            state="completed" if answer.ok else "failed",
            remote_task_id=remote,
            context_id=session_key,
            text=render.result_cut(answer.text, self.max_result_bytes, cut=answer.cut),
        )

    def lost_run(self, session_key: str) -> AgentEvent:
        return AgentEvent(
            state="failed",
            remote_task_id=http_remote_id(session_key),
            context_id=session_key,
            text=(
                "the result was lost: Dispatch restarted while waiting on the OpenClaw HTTP API, "
                "which cannot resume a request (enable the gateway WebSocket to avoid this)"
            ),
        )

    async def list_agents(self) -> list[dict[str, Any]]:
        try:
            async with self.session().get(
                f"{self.http_base}/v1/models", headers=self._headers("")
            ) as response:
                status = response.status
                data = _parse_json(await response.text())
        except aiohttp.ClientError as exc:
            raise self._failure(exc) from None
        if status in (401, 403):
            raise BackendError(
                f"the OpenClaw gateway at {self.base} refused the token (HTTP {status})"
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

    async def _post(self, text: str, session_key: str) -> _HttpAnswer:
        """POST /v1/responses, else /v1/chat/completions; remembers which one worked."""
        order: list[Endpoint] = [self.path] if self.path else ["responses", "chat"]
        for kind in order:
            answer = await self._post_one(kind, text, session_key)
            if answer is not None:
                if self.path != kind:
                    logger.info("OpenClaw gateway at %s: using /v1/%s", self.base, kind)
                self.path = kind
                return answer
        raise self._not_served()

    def _not_served(self) -> BackendError:
        """The HTTP API is off; a pinned endpoint names only itself."""
        if self.pinned == "responses":
            what, setting = "/v1/responses", "responses"
        elif self.pinned == "chat":
            what, setting = "/v1/chat/completions", "chatCompletions"
        else:
            return BackendError(
                f"the OpenClaw gateway at {self.base} offers neither the WebSocket protocol "
                "nor /v1/responses or /v1/chat/completions "
                "(enable gateway.http.endpoints.responses)"
            )
        return BackendError(
            f"the OpenClaw gateway at {self.base} does not serve {what} "
            f"(enable gateway.http.endpoints.{setting})"
        )

    def _headers(self, session_key: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "x-openclaw-agent-id": self.agent,
            # An explicit key is used as-is (http-utils.ts resolveSessionKey); `user` alone
            # would give agent:<id>:openai-user:<user>, not the main session.
            "x-openclaw-session-key": session_key,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def _post_one(self, kind: Endpoint, text: str, session_key: str) -> _HttpAnswer | None:
        """None when this endpoint is not served (disabled endpoints answer 404/405)."""
        model = f"openclaw/{self.agent}"
        body: Json
        if kind == "responses":
            url, body = f"{self.http_base}/v1/responses", {"model": model, "input": text}
        else:
            url = f"{self.http_base}/v1/chat/completions"
            body = {"model": model, "messages": [{"role": "user", "content": text}]}
        body["stream"] = False
        if self.persistent:
            body["user"] = f"dispatch-{self.agent}"
        try:
            async with self.session().post(
                url, json=body, headers=self._headers(session_key)
            ) as response:
                status = response.status
                limit = 2 * self.max_result_bytes + _HTTP_ENVELOPE
                raw, cut = await _read_capped(response, limit)
        except aiohttp.ClientError as exc:
            raise self._failure(exc) from None
        if cut and status < 400:
            # Only the head was read: it is no JSON document, but it starts the reply.
            return _HttpAnswer(True, _json_text_head(raw), cut=True)
        data = _parse_json(raw)
        message = redact(_http_error_message(data) or raw[:300].strip(), self.token)
        if status in (404, 405, 501) and not mentions_agent(message):
            return None
        if status in (401, 403) and not mentions_agent(message):
            raise BackendError(
                f"the OpenClaw gateway at {self.base} refused the token (HTTP {status})"
            )
        if status >= 400:
            if mentions_agent(message):
                raise agent_error(self.agent, self.base, message)
            if status >= 500:
                return _HttpAnswer(False, message or f"the gateway answered HTTP {status}")
            raise BackendError(
                f"the OpenClaw gateway at {self.base} rejected the request "
                f"(HTTP {status}): {message}"
            )
        if data is None:
            return None  # a 200 that is not JSON: not the OpenAI-compatible API
        return _responses_answer(data) if kind == "responses" else _chat_answer(data)

    def _failure(self, exc: aiohttp.ClientError) -> BackendError:
        if isinstance(exc, aiohttp.ClientConnectorError):
            reason = connector_reason(exc)
            return BackendError(
                f"the OpenClaw gateway at {self.base} is unreachable: {reason}", unreachable=True
            )
        return BackendError(
            f"the request to the OpenClaw gateway at {self.base} failed: {type(exc).__name__}"
        )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[str, bool]:
    """The body's first `limit` bytes, and whether there was more (left unread)."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            return bytes(data[:limit]).decode("utf-8", "ignore"), True
    return bytes(data).decode("utf-8", "replace"), False


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


def _responses_answer(data: Json) -> _HttpAnswer:
    """An OpenResponses object: output[].content[] of output_text, or `output_text`."""
    if data.get("status") == "failed" or isinstance(data.get("error"), dict):
        return _HttpAnswer(False, _http_error_message(data) or "the agent's run failed")
    texts: list[str] = []
    for item in data.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "message":
            text = content_text(item.get("content"))
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
    return _HttpAnswer(True, content_text(content).strip())
