"""An in-process fake of Slack (Web API + Socket Mode) for offline tests.

Serve it on 127.0.0.1 and point the real libraries at it::

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        app = AsyncApp(client=client, signing_secret="s")
        handler = AsyncSocketModeHandler(app, app_token="xapp-test")
        await handler.connect_async()          # apps.connections.open -> slack's /link
        await slack.push_socket_event(event_callback(app_mention("<@UBOT> hi")))
        await slack.wait_for(lambda: slack.messages)
        await handler.close_async()

Also here: `signed_request` for the HTTP Events API mode, payload builders
(`event_callback`, `app_mention`, `message`, `block_actions`) and `serve_app`.

How slack_sdk 3.47 sends requests (the fake merges all of these into `Call.params`):
JSON body for chat.postMessage/update/postEphemeral and views.publish; query string on
an empty form POST for auth.test, conversations.open, reactions.add and
apps.connections.open; GET with a query string for users.info and chat.getPermalink.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import WSCloseCode, WSMsgType, web

from tests.fakes.server import LocalServer, serve_app

__all__ = [
    "Call",
    "FakeSlack",
    "Hold",
    "app_mention",
    "block_actions",
    "event_callback",
    "message",
    "new_ts",
    "serve_app",
    "signed_request",
]

T = TypeVar("T")
JSON = dict[str, Any]

# Form-encoded fields that carry JSON (slack_sdk JSON-encodes them when it sends a form).
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "chunks", "user_auth_blocks", "files"}
)
_SEQ = itertools.count(1)


def new_ts(suffix: str = "000200") -> str:
    """A unique, increasing Slack timestamp such as "1700000123.000200"."""
    return f"{1_700_000_000 + next(_SEQ)}.{suffix}"


def _truthy(value: Any) -> bool | None:
    """Slack's loose booleans: True/"true"/"1" -> True; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


@dataclass(frozen=True, slots=True)
class Call:
    """One Web API request the fake received."""

    method: str
    params: JSON
    token: str | None
    at: float
    status: int
    http_method: str = "POST"
    content_type: str = ""
    response: JSON = field(default_factory=dict)
    peer: str = ""
    """The client's address and port: calls on one kept-alive connection share it."""

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ok: true."""
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass(slots=True)
class _Fault:
    remaining: int
    status: int
    body: JSON
    headers: dict[str, str]


@dataclass(slots=True)
class Hold:
    """Calls to one Web API method kept waiting, unanswered and not yet taken, until
    `release()`: a call in flight whose outcome its caller does not know yet."""

    remaining: int
    waiting: int = 0
    """Calls being held now."""
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class FakeSlack(LocalServer):
    """A fake Slack Web API + Socket Mode server on 127.0.0.1 (random port)."""

    def __init__(
        self,
        *,
        bot_token: str | None = None,
        app_token: str | None = None,
        url: str = "https://dispatch-test.slack.com/",
        team: str = "Test",
        team_id: str = "T1",
        user: str = "dispatch",
        user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_id: str = "A1",
    ) -> None:
        """`bot_token`/`app_token`: when set, only that exact token is accepted."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.url = url
        self.team = team
        self.team_id = team_id
        self.user = user
        self.user_id = user_id
        self.bot_id = bot_id
        self.app_id = app_id

        self.calls: list[Call] = []
        self.messages: list[JSON] = []
        self.ephemerals: list[JSON] = []
        self.reactions: list[JSON] = []
        self.files: dict[str, JSON] = {}
        """Uploads (files upload v2) by file id: name, length, data, and where it was shared."""
        self.views: dict[str, JSON] = {}
        self.users: dict[str, JSON] = {}
        self.responses: list[JSON] = []
        self.socket_acks: list[str] = []
        self.socket_ack_payloads: dict[str, JSON | None] = {}
        self.socket_envelopes: list[JSON] = []
        self.socket_connections = 0

        self._faults: dict[str, list[_Fault]] = {}
        self._holds: dict[str, list[Hold]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Event()
        self._envelope_seq = itertools.count(1)
        self._response_seq = itertools.count(1)

    # ----------------------------------------------------------------- lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)

    @property
    def api_url(self) -> str:
        """The `base_url` for `AsyncWebClient`, ending in "/api/"."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        """The Socket Mode websocket URL that apps.connections.open hands out."""
        return f"ws://127.0.0.1:{self.port}/link?ticket=fake-ticket&app_id={self.app_id}"

    # ------------------------------------------------------------ configuration

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls to `method` get HTTP 429 with `Retry-After`."""
        self._add_fault(
            method,
            _Fault(
                times, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            ),
        )

    def fail(
        self, method: str, error: str = "channel_not_found", *, times: int = 1, status: int = 200
    ) -> None:
        """The next `times` calls to `method` answer `{"ok": false, "error": error}`."""
        self._add_fault(method, _Fault(times, status, {"ok": False, "error": error}, {}))

    def hold(self, method: str, *, times: int = 1) -> Hold:
        """The next `times` calls to `method` wait, before the fake takes them, until the
        returned hold is released."""
        hold = Hold(times)
        self._holds.setdefault(method, []).append(hold)
        return hold

    def go_down(self, *, times: int = 1) -> None:
        """The next `times` calls to any method answer HTTP 503."""
        self._add_fault("*", _Fault(times, 503, {"ok": False, "error": "service_unavailable"}, {}))

    def add_user(
        self, user_id: str, *, name: str, real_name: str | None = None, display_name: str = ""
    ) -> JSON:
        """Register a user for users.info; returns the stored user object."""
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name,
            "is_bot": False,
            "deleted": False,
            "tz": "UTC",
            "profile": {"display_name": display_name, "real_name": real_name or name},
        }
        self.users[user_id] = user
        return user

    def new_response_url(self) -> str:
        """A response_url served by the fake; posts to it land in `responses`."""
        return f"{self.base_url}/respond/{next(self._response_seq)}"

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining > 0:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, key: str) -> _Fault | None:
        queue = self._faults.get(key, [])
        while queue and queue[0].remaining <= 0:
            queue.pop(0)
        if not queue:
            return None
        queue[0].remaining -= 1
        return queue[0]

    # ------------------------------------------------------------------ queries

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to one Web API method, oldest first."""
        return [c for c in self.calls if c.method == method]

    def thread(self, thread_ts: str, channel: str | None = None) -> list[JSON]:
        """Posted messages in a thread (the root too, if the bot posted it)."""
        return [
            m
            for m in self.messages
            if (m["thread_ts"] == thread_ts or m["ts"] == thread_ts)
            and (channel is None or m["channel"] == channel)
        ]

    def find_message(self, channel: str, ts: str) -> JSON | None:
        """The stored message posted at (channel, ts), if any."""
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10) -> T:
        """Wait until `predicate()` is truthy and return its value.

        Raises TimeoutError listing the calls seen so far.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            changed = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s\n{self.describe()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.25))

    async def wait_socket_connected(self, timeout: float = 10) -> None:
        """Wait until a Socket Mode client is connected (and has been sent hello)."""
        await self.wait_for(lambda: any(not ws.closed for ws in self._sockets), timeout)

    async def wait_socket_ack(self, envelope_id: str, timeout: float = 10) -> JSON | None:
        """Wait for the client to ack `envelope_id`; returns the ack's payload (or None)."""
        await self.wait_for(lambda: envelope_id in self.socket_ack_payloads, timeout)
        return self.socket_ack_payloads[envelope_id]

    def describe(self) -> str:
        """A readable dump of what the fake has seen (for failure messages)."""
        lines = [f"{len(self.calls)} call(s):"]
        for c in self.calls:
            params = json.dumps(c.params, default=str)
            if len(params) > 300:
                params = params[:300] + "…"
            lines.append(
                f"  {c.at:.3f} {c.method} -> {c.status} {c.response.get('error', '')} {params}"
            )
        lines.append(f"{len(self.messages)} message(s), socket acks: {self.socket_acks}")
        return "\n".join(lines)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ----------------------------------------------------------------- Web API

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        token = _bearer(request.headers.get("Authorization")) or params.pop("token", None)
        params.pop("token", None)
        hold = next((h for h in self._holds.get(method, []) if h.remaining > 0), None)
        if hold is not None:
            hold.remaining -= 1
            hold.waiting += 1
            self._notify()
            try:
                await hold.released.wait()
            finally:
                hold.waiting -= 1

        status, body, headers = self._answer(method, params, token)
        self.calls.append(
            Call(
                method=method,
                params=params,
                token=token,
                at=time.monotonic(),
                status=status,
                http_method=request.method,
                content_type=request.content_type,
                response=body,
                peer=str(request.transport.get_extra_info("peername") if request.transport else ""),
            )
        )
        self._notify()
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, params: JSON, token: str | None
    ) -> tuple[int, JSON, dict[str, str]]:
        fault = self._take_fault("*")
        if fault:
            return fault.status, dict(fault.body), dict(fault.headers)
        auth_error = self._check_token(method, token)
        if auth_error:
            return 200, {"ok": False, "error": auth_error}, {}
        fault = self._take_fault(method)
        if fault:
            return fault.status, dict(fault.body), dict(fault.headers)

        builtin = _METHODS.get(method)
        body = builtin(self, params) if builtin else {"ok": False, "error": "unknown_method"}
        return 200, body, {}

    def _check_token(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if method == "apps.connections.open":
            valid = token == self.app_token if self.app_token else token.startswith("xapp-")
        else:
            valid = token == self.bot_token if self.bot_token else token.startswith("xoxb-")
        return None if valid else "invalid_auth"

    def _auth_test(self, params: JSON) -> JSON:
        return {
            "ok": True,
            "url": self.url,
            "team": self.team,
            "user": self.user,
            "team_id": self.team_id,
            "user_id": self.user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _resolve_channel(self, channel: str) -> str:
        """Posting to a user id lands in the bot's DM with that user."""
        return f"D{channel}" if channel[:1] in {"U", "W"} else channel

    def _post_message(self, params: JSON) -> JSON:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        error = _message_error(params)
        if error:
            return {"ok": False, "error": error}
        channel = self._resolve_channel(channel)
        ts = new_ts("000100")
        msg: JSON = {
            "channel": channel,
            "ts": ts,
            "thread_ts": params.get("thread_ts"),
            "text": params.get("text"),
            "blocks": params.get("blocks"),
            "attachments": params.get("attachments"),
            "metadata": params.get("metadata"),
            "username": params.get("username"),
            "icon_emoji": params.get("icon_emoji"),
            "icon_url": params.get("icon_url"),
            "mrkdwn": _truthy(params.get("mrkdwn")),
            "unfurl_links": _truthy(params.get("unfurl_links")),
            "unfurl_media": _truthy(params.get("unfurl_media")),
            "reply_broadcast": _truthy(params.get("reply_broadcast")),
            "user": self.user_id,
            "bot_id": self.bot_id,
            "params": params,
            "updates": [],
        }
        self.messages.append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": self._message_view(msg)}

    def _message_view(self, msg: JSON) -> JSON:
        view: JSON = {
            "type": "message",
            "subtype": "bot_message" if msg.get("username") else None,
            "text": msg["text"] or "",
            "user": self.user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": msg["ts"],
            "thread_ts": msg["thread_ts"],
            "username": msg.get("username"),
            "icon_emoji": msg.get("icon_emoji"),
            "blocks": msg["blocks"],
            "attachments": msg["attachments"],
        }
        return {k: v for k, v in view.items() if v is not None}

    def _read_back(self, params: JSON, *, replies: bool) -> JSON:
        """conversations.replies (a thread, its parent first) or conversations.history (a
        channel, newest first): what the bot posted, with metadata when asked for it."""
        channel = self._resolve_channel(str(params.get("channel") or ""))
        thread = params.get("ts")
        found = [
            m
            for m in self.messages
            if m["channel"] == channel
            and (m["thread_ts"] == thread or m["ts"] == thread if replies else True)
        ]
        if not replies:
            found = list(reversed(found))
        limit = int(params.get("limit") or 100)
        metadata = _truthy(params.get("include_all_metadata"))
        views = []
        for msg in found[:limit]:
            view = self._message_view(msg)
            if metadata and msg.get("metadata"):
                view["metadata"] = msg["metadata"]
            views.append(view)
        return {"ok": True, "messages": views, "has_more": len(found) > limit}

    def _update(self, params: JSON) -> JSON:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        msg = self.find_message(channel, ts)
        if msg is None:
            return {"ok": False, "error": "message_not_found" if channel else "channel_not_found"}
        error = _message_error(params)
        if error:
            return {"ok": False, "error": error}
        msg["updates"].append(params)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                msg[key] = params[key]
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": msg["text"] or "",
            "message": self._message_view(msg),
        }

    def _post_ephemeral(self, params: JSON) -> JSON:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        error = _message_error(params)
        if error:
            return {"ok": False, "error": error}
        ts = new_ts("000100")
        self.ephemerals.append({**params, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def _permalink(self, params: JSON) -> JSON:
        channel = str(params.get("channel") or "")
        ts = str(params.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        link = f"{self.url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
        stored = self.find_message(channel, ts)
        thread_ts = params.get("thread_ts") or (stored or {}).get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _conversations_open(self, params: JSON) -> JSON:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        cid = f"D{users[0]}" if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": cid}}

    def _reactions_add(self, params: JSON) -> JSON:
        item = {k: params.get(k) for k in ("channel", "timestamp", "name")}
        if not item["name"]:
            return {"ok": False, "error": "invalid_name"}
        if item in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(item)
        return {"ok": True}

    def _users_info(self, params: JSON) -> JSON:
        uid = str(params.get("user") or "")
        if not uid:
            return {"ok": False, "error": "user_not_found"}
        if uid in self.users:
            return {"ok": True, "user": self.users[uid]}
        if uid == self.user_id:
            user = {
                "id": uid,
                "team_id": self.team_id,
                "name": self.user,
                "real_name": self.user,
                "is_bot": True,
                "profile": {
                    "display_name": self.user,
                    "real_name": self.user,
                    "bot_id": self.bot_id,
                },
            }
            return {"ok": True, "user": user}
        name = uid.lower()
        user = {
            "id": uid,
            "team_id": self.team_id,
            "name": name,
            "real_name": f"User {uid}",
            "is_bot": False,
            "deleted": False,
            "tz": "UTC",
            "profile": {"display_name": name, "real_name": f"User {uid}"},
        }
        return {"ok": True, "user": user}

    def _apps_connections_open(self, params: JSON) -> JSON:
        return {"ok": True, "url": self.socket_url}

    def _views_publish(self, params: JSON) -> JSON:
        user_id = str(params.get("user_id") or "")
        view = params.get("view")
        if not user_id or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        stored = {"id": f"V{len(self.views) + 1:05d}", "team_id": self.team_id, **view}
        self.views[user_id] = stored
        return {"ok": True, "view": stored}

    # --------------------------------------------------------------- response_url

    async def _respond(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            payload: Any = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw}
        self.responses.append({"url": str(request.url), "payload": payload})
        self._notify()
        return web.Response(text="ok", content_type="text/plain")

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files upload v2: the bytes, posted to the URL step 1 handed out."""
        entry = self.files.get(request.match_info["file_id"])
        if entry is None or entry["completed"]:
            return web.Response(status=404, text="not found")
        entry["data"] = await request.read()
        self._notify()
        return web.Response(text=f"OK - {len(entry['data'])}", content_type="text/plain")

    def _get_upload_url(self, params: JSON) -> JSON:
        """Step 1: a file id and a one-off URL for the bytes; nothing is shared yet."""
        filename, length = params.get("filename"), params.get("length")
        if not filename or length is None or int(length) <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(_SEQ):08d}"
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": int(length),
            "data": None,
            "completed": False,
            "shares": [],
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: JSON) -> JSON:
        """Step 3: share the uploaded files in a channel (and thread), with the comment as a
        message there. A file completes once; its bytes must have arrived in full."""
        wanted = params.get("files")
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        entries = [self.files.get(str(f.get("id"))) for f in wanted if isinstance(f, dict)]
        if len(entries) != len(wanted) or any(e is None for e in entries):
            return {"ok": False, "error": "file_not_found"}
        for entry, spec in zip(entries, wanted, strict=True):
            assert entry is not None
            if entry["completed"]:
                return {"ok": False, "error": "file_already_completed"}
            if entry["data"] is None or len(entry["data"]) != entry["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            entry["title"] = spec.get("title") or entry["name"]
        channel = params.get("channel_id")
        ts = new_ts("000100")
        for entry in entries:
            assert entry is not None
            entry["completed"] = True
            if channel:
                entry["shares"].append({"channel": channel, "ts": ts})
        if channel:
            self.messages.append(
                {
                    "channel": channel,
                    "ts": ts,
                    "thread_ts": params.get("thread_ts"),
                    "text": params.get("initial_comment") or "",
                    "blocks": None,
                    "files": [e["id"] for e in entries if e is not None],
                    "username": None,
                    "user": self.user_id,
                    "bot_id": self.bot_id,
                    "params": params,
                    "updates": [],
                }
            )
        return {
            "ok": True,
            "files": [
                {"id": e["id"], "name": e["name"], "title": e["title"]} for e in entries if e
            ],
        }

    # ---------------------------------------------------------------- Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket_connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": sum(1 for s in self._sockets if not s.closed) + 1,
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        self._sockets.append(ws)
        self._notify()
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(frame.data)
                except ValueError:
                    continue
                if isinstance(data, dict) and "envelope_id" in data:
                    eid = str(data["envelope_id"])
                    self.socket_acks.append(eid)
                    self.socket_ack_payloads[eid] = data.get("payload")
                    self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
            self._notify()
        return ws

    async def push_socket_event(
        self,
        payload: JSON,
        *,
        type: Literal["events_api", "interactive", "slash_commands"] = "events_api",
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
        to_all: bool = False,
        connect_timeout: float = 5,
    ) -> str:
        """Send an envelope to the newest connected client (or all); returns its envelope_id.

        Waits up to `connect_timeout` for a client to be connected first.
        """
        await self.wait_socket_connected(connect_timeout)
        envelope_id = f"fake-envelope-{next(self._envelope_seq)}"
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": type,
            "accepts_response_payload": (
                type != "events_api"
                if accepts_response_payload is None
                else accepts_response_payload
            ),
            "payload": payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        open_sockets = [ws for ws in self._sockets if not ws.closed]
        for ws in open_sockets if to_all else open_sockets[-1:]:
            await ws.send_json(envelope)
        self.socket_envelopes.append(envelope)
        return envelope_id

    async def closing(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self._sockets.clear()


def _message_error(params: JSON) -> str | None:
    """Slack's validation of message content, as far as the fake checks it."""
    text, blocks = params.get("text"), params.get("blocks")
    if not text and not blocks and not params.get("attachments"):
        return "no_text"
    if isinstance(text, str) and len(text) > 40_000:
        return "msg_too_long"
    if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50):
        return "invalid_blocks"
    return None


_METHODS: dict[str, Callable[[FakeSlack, JSON], JSON]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.getPermalink": FakeSlack._permalink,
    "conversations.open": FakeSlack._conversations_open,
    "conversations.replies": lambda fake, params: fake._read_back(params, replies=True),
    "conversations.history": lambda fake, params: fake._read_back(params, replies=False),
    "reactions.add": FakeSlack._reactions_add,
    "users.info": FakeSlack._users_info,
    "apps.connections.open": FakeSlack._apps_connections_open,
    "views.publish": FakeSlack._views_publish,
    "files.getUploadURLExternal": FakeSlack._get_upload_url,
    "files.completeUploadExternal": FakeSlack._complete_upload,
}


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


async def _read_params(request: web.Request) -> JSON:
    """Merge query string, form body and JSON body; decode JSON-in-form fields."""
    params: JSON = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.text()
            if raw.strip():
                body = json.loads(raw)
                if isinstance(body, dict):
                    params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.lstrip()[:1] in {"[", "{"}:
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


# ---------------------------------------------------------------------------- HTTP mode


def signed_request(
    secret: str,
    body: str | Mapping[str, Any],
    *,
    timestamp: int | None = None,
    form: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers of a request signed the way Slack signs them.

    `form=True` encodes the body as interactivity does: `payload=<json>` form-urlencoded.
    The signature is `v0=hex(hmac_sha256(secret, f"v0:{ts}:{raw_body}"))`.
    """
    text = body if isinstance(body, str) else json.dumps(body)
    if form:
        text = urllib.parse.urlencode({"payload": text})
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{text}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    return text.encode(), headers


# ------------------------------------------------------------------------ payload builders


def event_callback(
    event: JSON,
    *,
    event_id: str | None = None,
    team_id: str = "T1",
    api_app_id: str = "A1",
    bot_user_id: str = "UBOT",
) -> JSON:
    """Wrap an event in an Events API `event_callback` envelope (unique event_id by default)."""
    return {
        "token": "fake-verification-token",
        "team_id": team_id,
        "context_team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_SEQ):010d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_mention(
    text: str,
    *,
    user: str = "U1",
    channel: str = "C1",
    ts: str | None = None,
    thread_ts: str | None = None,
    team: str = "T1",
) -> JSON:
    """An `app_mention` event; put the mention in `text`, e.g. "<@UBOT> do the thing"."""
    ts = ts or new_ts()
    event: JSON = {
        "type": "app_mention",
        "client_msg_id": f"cm-{ts}",
        "user": user,
        "text": text,
        "ts": ts,
        "team": team,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    *,
    user: str | None = "U1",
    channel: str = "C1",
    channel_type: Literal["channel", "im", "group", "mpim"] = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    team: str = "T1",
) -> JSON:
    """A `message` event (channel, DM or private channel; optionally in a thread)."""
    ts = ts or new_ts()
    event: JSON = {
        "type": "message",
        "text": text,
        "ts": ts,
        "team": team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if user is not None:
        event["user"] = user
    if subtype is None and bot_id is None:
        event["client_msg_id"] = f"cm-{ts}"
    if thread_ts:
        event["thread_ts"] = thread_ts
    if subtype:
        event["subtype"] = subtype
    if bot_id:
        event["bot_id"] = bot_id
    return event


def block_actions(
    action_id: str,
    value: str,
    *,
    user: str = "U1",
    channel: str = "C1",
    message_ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = "T1",
    response_url: str | None = None,
    block_id: str = "actions",
    api_app_id: str = "A1",
) -> JSON:
    """A `block_actions` payload for a button click on a bot message.

    Pass `response_url=slack.new_response_url()` to capture bolt's `respond()`.
    """
    message_ts = message_ts or new_ts("000100")
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    msg: JSON = {"type": "message", "ts": message_ts, "user": "UBOT", "bot_id": "BBOT", "text": ""}
    if thread_ts:
        container["thread_ts"] = thread_ts
        msg["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "fake-verification-token",
        "container": container,
        "trigger_id": f"{next(_SEQ)}.1.fake-trigger",
        "team": {"id": team_id, "domain": "dispatch-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel.lower()},
        "message": msg,
        "state": {"values": {}},
        "response_url": response_url or f"https://hooks.slack.com/actions/{team_id}/0/fake",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": value, "emoji": True},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
