"""Plain HTTP agents: POST a JSON brief; the answer is the result, or a callback later.

The contract is in README.md ("HTTP agents"). An agent that answers 202 reports through
its task's signed callback URL; that report reaches the dispatcher through
`bot.callbacks.CallbackServer`, which records it before acknowledging.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from bot import render
from bot.backends.base import MAX_RESULT_BYTES, BackendError, read_limit, without_endpoints
from bot.backends.config import HTTPBackendConfig
from bot.callbacks import CallbackServer, event_from_body
from bot.models import AgentEvent

log = logging.getLogger(__name__)


class HTTPBackend:
    def __init__(
        self,
        config: HTTPBackendConfig,
        *,
        callbacks: CallbackServer | None,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ) -> None:
        """`max_result_bytes`: a longer result is relayed cut to its head; an answer too big
        to hold such a result (`read_limit`) is not read past that."""
        self.config = config
        self.callbacks = callbacks
        self.max_result_bytes = max_result_bytes
        self._client = httpx.AsyncClient(timeout=config.request_timeout)

    async def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        task_id = (metadata or {}).get("dispatch_task_id", message_id)
        body: dict[str, Any] = {
            "task_id": task_id,
            "message_id": message_id,
            "text": text,
            "context_id": context_id,
            "continue_id": remote_task_id,
            "metadata": metadata or {},
        }
        if self.callbacks is not None:
            attempt = int((metadata or {}).get("dispatch_attempt") or 0)
            body["callback_url"] = self.callbacks.url_for(task_id, attempt)
        headers = {name: value.get_secret_value() for name, value in self.config.headers.items()}
        headers["Idempotency-Key"] = message_id
        for name in ("traceparent", "tracestate"):  # the trace (W3C), when traces are on
            if value := (metadata or {}).get(name):
                headers[name] = value
        limit = read_limit(self.max_result_bytes)
        try:
            async with self._client.stream(
                "POST", self.config.url, json=body, headers=headers
            ) as response:
                content = await _read_at_most(response, limit)
        except httpx.TimeoutException:
            raise BackendError(
                f"the agent did not answer in {self.config.request_timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            log.warning("HTTP agent at %s: %s", self.config.url, exc)
            raise BackendError(
                f"the agent is unreachable: {_reason(exc)}", unreachable=True
            ) from None
        if content is None:
            raise BackendError(
                f"the agent answered with more than {render.size(limit)}; nothing of it was read"
            )
        if response.status_code >= 400:
            snippet = content[:300].decode("utf-8", "replace").strip()
            yield AgentEvent(
                state="failed",
                remote_task_id=remote_task_id,
                text=f"HTTP {response.status_code}: {snippet}",
            )
            return
        try:
            answer = json.loads(content)
            del content
            event = event_from_body(answer if isinstance(answer, dict) else {})
        except ValueError as exc:
            raise BackendError(f"the agent broke the contract: {exc}") from None
        event = event.model_copy(
            update={
                "remote_task_id": event.remote_task_id or remote_task_id or task_id,
                "text": render.result_cut(event.text, self.max_result_bytes),
            }
        )
        if response.status_code != 202 and event.state != "working":
            yield event
            return
        if self.callbacks is None:
            raise BackendError(
                "this agent answers by callback, but Dispatch has no callback server"
            )
        yield event.model_copy(update={"state": "working"})
        # The report comes to the callback server, which hands it to the dispatcher; the
        # dispatcher then ends this stream. Until then there is nothing to read here.
        await asyncio.Event().wait()

    async def get(self, remote_task_id: str) -> AgentEvent:
        """HTTP agents report by callback; until one arrives the task is still working."""
        return AgentEvent(state="working", remote_task_id=remote_task_id)

    async def watch(self, remote_task_id: str) -> AsyncGenerator[AgentEvent, None]:
        # After a restart the callback is recorded by the dispatcher directly; nothing to poll.
        await asyncio.Event().wait()
        yield AgentEvent(state="working", remote_task_id=remote_task_id)  # pragma: no cover

    async def cancel(self, remote_task_id: str) -> None:
        """Best effort: DELETE <url>/<id> if the agent supports it; ignored otherwise."""
        headers = {name: value.get_secret_value() for name, value in self.config.headers.items()}
        try:
            await self._client.delete(f"{self.config.url}/{remote_task_id}", headers=headers)
        except httpx.HTTPError:
            pass

    async def aclose(self) -> None:
        await self._client.aclose()


async def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes (the rest is never read)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower() or isinstance(exc, httpx.ConnectError):
        text = "connection refused" if "refused" in text.lower() else text
    return without_endpoints(text)
