"""A fake model provider on 127.0.0.1: OpenAI Chat Completions and Embeddings, Anthropic Messages.

Replies are scripted per test (a plan, raw text, an HTTP error, a delay) and every request
is recorded, so tests can check what the planner sent and that no secret was in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import LocalServer

JSON = dict[str, Any]


@dataclass
class Reply:
    """One canned answer: a plan (dict) or raw text, or an HTTP error, after `delay`."""

    body: Any = None
    status: int = 200
    delay: float = 0.0
    input_tokens: int = 120
    output_tokens: int = 30


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    raw: str
    body: JSON


@dataclass
class FakeLLM(LocalServer):
    """OpenAI Chat Completions (POST /v1/chat/completions) and Anthropic Messages
    (POST /v1/messages) on 127.0.0.1; replies are consumed in order, the last one repeats."""

    replies: list[Reply] = field(default_factory=list)
    reject_json_schema: bool = False
    reject_json_mode: bool = False
    reject_params: set[str] = field(default_factory=set)
    """Chat parameters refused with OpenAI's own 400 (as its reasoning models do)."""
    requests: list[Recorded] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    """`time.monotonic()` when each reply was ready (its delay over): tests compare it with
    when Dispatch posted, to assert order rather than durations."""
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def openai_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.base_url

    def script(self, *replies: Reply | JSON | str) -> None:
        self.replies = [r if isinstance(r, Reply) else Reply(r) for r in replies]

    def bodies(self) -> list[JSON]:
        return [r.body for r in self.requests]

    async def _next(self, request: web.Request) -> tuple[JSON, Reply]:
        raw = await request.text()
        body = json.loads(raw)
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Recorded(request.path, headers, raw, body))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), reply.delay)
        self.answered.append(time.monotonic())
        return body, reply

    async def chat_completions(self, request: web.Request) -> web.Response:
        body, reply = await self._next(request)
        fmt = (body.get("response_format") or {}).get("type")
        if self.reject_json_schema and fmt == "json_schema":
            return _openai_error(400, "response_format 'json_schema' is not supported here")
        if self.reject_json_mode and fmt == "json_object":
            return _openai_error(400, "unknown field: response_format")
        if "max_tokens" in body and "max_tokens" in self.reject_params:
            return _openai_error(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model."
                " Use 'max_completion_tokens' instead.",
            )
        if "temperature" in body and "temperature" in self.reject_params:
            return _openai_error(
                400,
                "Unsupported value: 'temperature' does not support 0 with this model."
                " Only the default (1) value is supported.",
            )
        if fmt == "json_object" and "json" not in json.dumps(body["messages"]).lower():
            return _openai_error(400, "'messages' must contain the word 'json' to use json_object")
        if reply.status != 200:
            return _openai_error(reply.status, f"canned failure {reply.status}")
        content = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        return web.json_response(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": reply.input_tokens,
                    "completion_tokens": reply.output_tokens,
                    "total_tokens": reply.input_tokens + reply.output_tokens,
                },
            }
        )

    async def messages(self, request: web.Request) -> web.Response:
        body, reply = await self._next(request)
        if reply.status != 200:
            return web.json_response(
                {"type": "error", "error": {"type": "api_error", "message": "canned failure"}},
                status=reply.status,
            )
        choice = body["tool_choice"]
        assert choice["type"] == "tool"
        if isinstance(reply.body, dict):
            block = {
                "type": "tool_use",
                "id": f"toolu_{next(self._ids)}",
                "name": choice["name"],
                "input": reply.body,
            }
        else:
            block = {"type": "text", "text": str(reply.body)}
        return web.json_response(
            {
                "id": f"msg_{next(self._ids)}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [block],
                "stop_reason": "tool_use" if block["type"] == "tool_use" else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
            }
        )

    async def embeddings(self, request: web.Request) -> web.Response:
        """OpenAI Embeddings: a bag of hashed words, so texts sharing words are similar."""
        body = json.loads(await request.text())
        self.requests.append(Recorded(request.path, dict(request.headers), "", body))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for index, text in enumerate(inputs):
            vector = [0.0] * 64
            for word in str(text).lower().split():
                vector[zlib.crc32(word.strip(".,!?").encode()) % 64] += 1.0
            data.append({"object": "embedding", "index": index, "embedding": vector})
        return web.json_response({"object": "list", "data": data, "model": body["model"]})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/v1/messages", self.messages)

    async def closing(self) -> None:
        self._release.set()  # let slow handlers finish at once


def _openai_error(status: int, message: str) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": None}}, status=status
    )
