"""The callback endpoint HTTP agents answer to when they work asynchronously.

Each task gets its own URL, signed with Dispatch's callback key, so only the agent that
was handed the URL can report on that task. A callback is written to the database (through
the dispatcher) before it is acknowledged, and a repeated callback changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.models import AgentEvent

log = logging.getLogger(__name__)

Sink = Callable[[str, AgentEvent], Awaitable[bool]]
"""Applies an agent's report to a task; False when it changed nothing (a duplicate)."""

MAX_BODY = 20 * 1024 * 1024


def load_key(path: Path) -> bytes:
    """The signing key, created once (mode 0600) beside the database and kept across restarts."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


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


class CallbackServer:
    def __init__(
        self,
        key: bytes,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ) -> None:
        self._key = key
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.sink: Sink | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        return f"http://{self.host}:{self.port}"

    def sign(self, task_id: str) -> str:
        return hmac.new(self._key, task_id.encode(), hashlib.sha256).hexdigest()

    def url_for(self, task_id: str) -> str:
        return f"{self.base_url}/callbacks/{task_id}?sig={self.sign(task_id)}"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/callbacks/{task_id:.+}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
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
        signature = request.query.get("sig", "")
        if not hmac.compare_digest(signature, self.sign(task_id)):
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
        applied = await self.sink(task_id, event)
        return web.json_response({"ok": True, "duplicate": not applied})
