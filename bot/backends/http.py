"""Plain HTTP agents: POST a JSON brief; the answer is the result, or a callback later.

The contract is in README.md ("HTTP agents"). An agent that answers 202 reports through
its task's signed callback URL; that report reaches the dispatcher through
`bot.callbacks.CallbackServer`, which records it before acknowledging.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bot.backends.base import BackendError
from bot.backends.config import HTTPBackendConfig
from bot.callbacks import CallbackServer, event_from_body
from bot.models import AgentEvent

MAX_RESPONSE = 20 * 1024 * 1024


class HTTPBackend:
    def __init__(self, config: HTTPBackendConfig, *, callbacks: CallbackServer | None) -> None:
        self.config = config
        self.callbacks = callbacks
        self._client = httpx.AsyncClient(timeout=config.request_timeout)

    async def send(
        self,
        text: str,
        *,
        message_id: str,
        context_id: str | None = None,
        remote_task_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> AsyncIterator[AgentEvent]:
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
            body["callback_url"] = self.callbacks.url_for(task_id)
        headers = {name: value.get_secret_value() for name, value in self.config.headers.items()}
        headers["Idempotency-Key"] = message_id
        try:
            response = await self._client.post(self.config.url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise BackendError(
                f"agent at {self.config.url} did not answer in {self.config.request_timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendError(
                f"agent at {self.config.url} is unreachable: {_reason(exc)}"
            ) from None
        if len(response.content) > MAX_RESPONSE:
            raise BackendError(
                f"agent at {self.config.url} answered with more than {MAX_RESPONSE} bytes"
            )
        if response.status_code >= 400:
            snippet = response.text[:300].strip()
            yield AgentEvent(
                state="failed",
                remote_task_id=remote_task_id,
                text=f"HTTP {response.status_code}: {snippet}",
            )
            return
        try:
            answer = response.json()
            event = event_from_body(answer if isinstance(answer, dict) else {})
        except (ValueError, json.JSONDecodeError) as exc:
            raise BackendError(f"agent at {self.config.url} broke the contract: {exc}") from None
        event = event.model_copy(
            update={"remote_task_id": event.remote_task_id or remote_task_id or task_id}
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

    async def watch(self, remote_task_id: str) -> AsyncIterator[AgentEvent]:
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


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower() or isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in text.lower() else text
    return text
