"""An in-process fake of Discord (REST API v10 + gateway websocket) for offline tests.

It drives the REAL `discord.Client` / `app_commands.CommandTree`; only the network is fake::

    async with FakeDiscord() as fake:
        with fake.patched():                  # Route.BASE + DEFAULT_GATEWAY -> 127.0.0.1
            client = discord.Client(intents=intents, guild_ready_timeout=0.05)
            task = asyncio.create_task(client.start("fake-token"))
            ...                               # wait for on_ready
            pushed = await fake.message_create("<@BOT> hi", author="alice", channel="general")
            await fake.wait_for(lambda: fake.messages_in("general"))
            await client.close()
            await task

What discord.py 2.7 does against it (all checked against the installed library):

- `Client.login` calls `GET /users/@me` then `GET /oauth2/applications/@me`; a plain
  `Client` never calls `/gateway` (it uses `DEFAULT_GATEWAY`), so the fake serves neither
  it nor `/gateway/bot`. `on_ready` fires `guild_ready_timeout` (default 2 s) after the last
  GUILD_CREATE, so tests pass `guild_ready_timeout=0.05`.
- Responses are parsed as JSON only when Content-Type is exactly "application/json".
- A 429 is retried only if the response has a `Via` header and a JSON body with
  `retry_after`; otherwise discord.py assumes a Cloudflare ban and raises HTTPException.
  500/502/504 are retried after 1 + 2*tries seconds; anything else raises.
- Interaction callbacks are sent with `?with_response=1` and discord.py parses the 200 body
  `{"interaction": {...}, "resource": {...}}`; interaction payloads need
  `attachment_size_limit`. Followups are webhook executions with `?wait=1`; the first one
  after a deferred (type 5) response replaces the loading message, as on Discord.
- Webhook `wait`/`with_components` are sent as 0/1; `thread=` becomes `?thread_id=`.
- A thread created from a message has the message's id.

It serves only the routes the suite calls (an unknown one answers 404, as Discord does); add
a route here when a test needs it.

Ids in the JSON state (users, channels, roles) are strings, as on the wire; `StoredMessage`
and the `*_id` properties use ints, like discord.py objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import re
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self, TypeVar

import discord
import discord.abc
import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web

from tests.fakes.server import LocalServer

__all__ = [
    "EPHEMERAL",
    "INTENT_GUILD_MEMBERS",
    "INTENT_MESSAGE_CONTENT",
    "LOADING",
    "Call",
    "ChannelRef",
    "FakeDiscord",
    "GatewaySession",
    "MessageRef",
    "StoredMessage",
    "UserRef",
    "new_snowflake",
]

T = TypeVar("T")
JSON = dict[str, Any]
UserRef = JSON | int | str | discord.abc.Snowflake
"""A user: JSON object, id, discord.py object, or username ("bot" is the bot user)."""
ChannelRef = JSON | int | str | discord.abc.Snowflake
"""A channel, thread or DM: JSON object, id, discord.py object, or name."""
MessageRef = JSON | int | discord.abc.Snowflake
"""A message: pushed payload, id, `StoredMessage` or discord.py message."""

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
HAS_THREAD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Gateway intents.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Application flags (the "_LIMITED" ones: an unverified app with the portal toggles on).
_APP_PRESENCE = 1 << 13
_APP_MEMBERS = 1 << 15
_APP_MESSAGE_CONTENT = 1 << 19

_EVERYONE_PERMS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
    use_external_emojis=True,
    change_nickname=True,
).value
_BOT_PERMS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    manage_threads=True,
    manage_messages=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
).value
_ALL_PERMS = discord.Permissions.all().value
_ADMINISTRATOR = discord.Permissions(administrator=True).value
_MANAGE_WEBHOOKS = discord.Permissions(manage_webhooks=True).value
_SEND_MESSAGES = discord.Permissions(send_messages=True).value
_SEND_IN_THREADS = discord.Permissions(send_messages_in_threads=True).value

_THREAD_TYPES = frozenset({10, 11, 12})
_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")

_last_snowflake = 0


def new_snowflake() -> int:
    """A unique, increasing snowflake whose timestamp is now (`discord.utils.time_snowflake`)."""
    global _last_snowflake
    value = discord.utils.time_snowflake(dt.datetime.now(dt.UTC))
    _last_snowflake = max(value, _last_snowflake + 1)
    return _last_snowflake


def _timestamp(snowflake: int) -> str:
    return discord.utils.snowflake_time(snowflake).isoformat()


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in {"1", "true", "yes"}


@functools.cache
def _compile(template: str) -> re.Pattern[str]:
    """`/channels/{channel_id}/messages` -> regex; `{name}` and `*` match one segment, `**` any."""
    parts: list[str] = []
    for segment in template.split("/"):
        named = re.fullmatch(r"\{(\w+)\}", segment)
        if named:
            parts.append(f"(?P<{named.group(1)}>[^/]+)")
        elif segment == "*":
            parts.append("[^/]+")
        elif segment == "**":
            parts.append(".*")
        else:
            parts.append(re.escape(segment))
    return re.compile("/".join(parts))


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A route pattern such as "POST /channels/{channel_id}/messages" (method optional)."""

    method: str | None
    regex: re.Pattern[str]
    text: str

    @classmethod
    def parse(cls, pattern: str) -> _Pattern:
        method, _, path = pattern.strip().rpartition(" ")
        method = method.strip().upper()
        return cls(None if method in {"", "*"} else method, _compile(path), pattern)

    def matches(self, method: str, path: str) -> bool:
        """True if `method path` matches."""
        return (self.method is None or self.method == method) and bool(self.regex.fullmatch(path))


@dataclass(frozen=True, slots=True)
class Call:
    """One REST request the fake received (`path` is relative to /api/v10, without query)."""

    method: str
    path: str
    json: Any
    at: float
    status: int
    query: Mapping[str, str] = field(default_factory=dict)
    response: Any = None
    files: tuple[str, ...] = ()
    token: str | None = None


@dataclass(slots=True)
class StoredMessage:
    """A message created through the REST API (bot, webhook or interaction)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    message_reference: JSON | None = None
    allowed_mentions: JSON | None = None
    username: str | None = None
    avatar_url: str | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    via: Literal["bot", "webhook", "interaction", "followup"] = "bot"
    thread: JSON | None = None
    edits: list[JSON] = field(default_factory=list)
    edited_at: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    body: JSON = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        """True for an ephemeral interaction message (flag 64)."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True for a deferred interaction's "thinking" placeholder not yet resolved."""
        return bool(self.flags & LOADING)

    @property
    def reply_to(self) -> int | None:
        """The id of the message this one replies to."""
        ref = self.message_reference
        return int(ref["message_id"]) if ref and ref.get("message_id") else None


@dataclass(slots=True)
class GatewaySession:
    """One identified gateway session; survives disconnects until the client ends it."""

    id: str
    intents: int
    identify: JSON
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)
    resumes: int = 0
    ended: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def connected(self) -> bool:
        """True while a websocket is attached and open."""
        return self.ws is not None and not self.ws.closed


@dataclass(slots=True)
class _Fault:
    pattern: _Pattern
    remaining: int
    status: int
    body: JSON
    retry_after: float | None = None
    is_global: bool = False

    def headers(self, bucket: str) -> dict[str, str]:
        """Headers of the answer; for a 429 the ones discord.py reads (computed now)."""
        if self.retry_after is None:
            return {}
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(self.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if self.is_global else "user",
        }
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        return headers


@dataclass(slots=True)
class _Interaction:
    id: int
    token: str
    type: int
    payload: JSON
    channel_id: int
    guild_id: int | None
    message_id: int | None = None
    response_type: int | None = None
    original_id: int | None = None
    created: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: dict[str, tuple[str, bytes]]


_Reply = tuple[int, Any]
_Handler = Callable[[_Request], Awaitable[_Reply]]


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> _Reply:
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return status, body


def _form_error(field_name: str, code: str, message: str) -> _Reply:
    errors = {field_name: {"_errors": [{"code": code, "message": message}]}}
    return _error(400, 50035, "Invalid Form Body", errors)


class FakeDiscord(LocalServer):
    """A fake Discord REST API v10 + gateway on 127.0.0.1 (random port), one bot, one guild."""

    def __init__(
        self,
        *,
        bot_name: str = "Dispatch",
        guild_name: str = "Dispatch HQ",
        channels: Sequence[str] = ("general", "design"),
        manage_webhooks: bool = True,
        allow_message_content: bool = True,
        allow_members: bool = True,
        allow_presences: bool = True,
        token: str | None = None,
        heartbeat_interval: int = 41_250,
        echo_own_messages: bool = True,
        ack_deadline: float | None = 3.0,
    ) -> None:
        """Build the state: bot, application, guild with roles, alice (owner) and bob.

        `token`: when set, only that bot token is accepted. `manage_webhooks`: whether the
        bot's role has MANAGE_WEBHOOKS. `allow_*`: the privileged intents enabled in the
        "developer portal" (requesting another one closes the gateway with 4014).
        `echo_own_messages`: send MESSAGE_CREATE/UPDATE for what the bot posts, as Discord does.
        `ack_deadline`: an interaction callback later than this (seconds) gets 404 "Unknown
        interaction" (10062), like Discord's 3 s rule; None disables it.
        """
        self.token = token
        self.allow_message_content = allow_message_content
        self.allow_members = allow_members
        self.allow_presences = allow_presences
        self.heartbeat_interval = heartbeat_interval
        self.echo_own_messages = echo_own_messages
        self.ack_deadline = ack_deadline

        self.users: dict[int, JSON] = {}
        self.members: dict[int, JSON] = {}
        self.roles: dict[int, JSON] = {}
        self.channels: dict[int, JSON] = {}
        self.webhooks: dict[int, JSON] = {}
        self.commands: dict[int | None, list[JSON]] = {}
        self.calls: list[Call] = []
        self.messages: list[StoredMessage] = []
        self.pushed: list[JSON] = []
        self.interaction_responses: dict[int, list[JSON]] = {}
        self.followups: dict[int, list[JSON]] = {}
        self.sessions: list[GatewaySession] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.gateway_received: list[JSON] = []
        self.gateway_closes: list[tuple[int, str]] = []
        self.connections = 0
        self.resumes = 0

        self._dm_by_user: dict[int, int] = {}
        self._by_id: dict[int, StoredMessage] = {}
        self._pushed_by_id: dict[int, JSON] = {}
        self._attachment_data: dict[int, bytes] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()
        self._server_closed: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._routes = self._route_table()

        self.application_id = new_snowflake()
        self.bot_user = self.add_user(bot_name, bot=True, id=self.application_id)
        self.guild_id = new_snowflake()
        self.owner = self.add_user("alice", global_name="Alice")
        self.guild: JSON = {
            "id": str(self.guild_id),
            "name": guild_name,
            "owner_id": self.owner["id"],
            "joined_at": _now_iso(),
        }
        self.add_role("@everyone", permissions=_EVERYONE_PERMS, id=self.guild_id)
        self.add_role("Admin", permissions=_ADMINISTRATOR)
        self.add_role("Member")
        self.bot_role = self.add_role(bot_name, permissions=_BOT_PERMS, managed=True)
        self.bot_role["tags"] = {"bot_id": self.bot_user["id"]}
        self.set_manage_webhooks(manage_webhooks)
        self.add_member(self.bot_user, roles=[self.bot_role["id"]])
        self.add_member(self.owner, roles=["Admin"])
        self.add_member(self.add_user("bob", global_name="Bob"), roles=["Member"])
        for name in channels:
            self.add_channel(name)

    # ----------------------------------------------------------------- lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._rest)
        app.router.add_get("/gw", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{name}", self._cdn)

    @property
    def rest_base(self) -> str:
        """ "http://127.0.0.1:PORT/api/v10" (what `Route.BASE` is set to)."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """ "ws://127.0.0.1:PORT/gw" (`DEFAULT_GATEWAY` and `resume_gateway_url`)."""
        return f"ws://127.0.0.1:{self.port}/gw"

    @property
    def bot_id(self) -> int:
        """The bot user's id."""
        return int(self.bot_user["id"])

    @contextlib.contextmanager
    def patched(self) -> Iterator[Self]:
        """Point discord.py's process-global `Route.BASE` and `DEFAULT_GATEWAY` here.

        Both are restored on exit. Calling `discord.http._set_api_version()` inside the
        block would reset `Route.BASE` to discord.com.
        """
        route, socket = discord.http.Route, discord.gateway.DiscordWebSocket
        old_base, old_gateway = route.BASE, socket.DEFAULT_GATEWAY
        route.BASE = self.rest_base
        socket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            route.BASE = old_base
            socket.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------ configuration

    def add_user(
        self, username: str, *, bot: bool = False, global_name: str | None = None, id: int = 0
    ) -> JSON:
        """Register a user (not a guild member: see `add_member`); returns its JSON object."""
        uid = id or new_snowflake()
        user: JSON = {
            "id": str(uid),
            "username": username,
            "discriminator": "0",
            "global_name": None if bot else (global_name or username),
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
            "flags": 0,
        }
        self.users[uid] = user
        return user

    def add_role(
        self, name: str, *, permissions: int = 0, managed: bool = False, id: int = 0
    ) -> JSON:
        """Add a guild role; returns its JSON object."""
        rid = id or new_snowflake()
        role: JSON = {
            "id": str(rid),
            "name": name,
            "permissions": str(permissions),
            "position": len(self.roles),
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        self.roles[rid] = role
        return role

    def add_member(
        self,
        user: UserRef,
        roles: Sequence[str | int | JSON | discord.abc.Snowflake] = (),
        *,
        nick: str | None = None,
    ) -> JSON:
        """Make a user a guild member with roles (names, ids or role objects)."""
        user_obj = self.user(user)
        member: JSON = {
            "user": user_obj,
            "roles": [self.role(r)["id"] for r in roles],
            "nick": nick,
            "avatar": None,
            "banner": None,
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        self.members[int(user_obj["id"])] = member
        return member

    def add_channel(
        self, name: str, *, type: int = 0, topic: str | None = None, parent_id: int | None = None
    ) -> JSON:
        """Add a guild text channel (type 0) or category (4); returns its JSON object."""
        cid = new_snowflake()
        channel: JSON = {
            "id": str(cid),
            "type": type,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": sum(1 for c in self.channels.values() if "guild_id" in c),
            "parent_id": None if parent_id is None else str(parent_id),
            "topic": topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 1440,
            "permission_overwrites": [],
            "flags": 0,
        }
        self.channels[cid] = channel
        return channel

    def add_thread(
        self,
        name: str,
        parent: ChannelRef = "general",
        *,
        owner: UserRef | None = None,
        message_id: int | None = None,
        type: int = 11,
    ) -> JSON:
        """Add a thread (public 11, private 12); with `message_id` it is that message's thread.

        Not announced over the gateway: use it before the client connects (it is then part
        of GUILD_CREATE), or see `thread_create`.
        """
        parent_obj = self.channel(parent)
        tid = message_id or new_snowflake()
        now = _now_iso()
        thread: JSON = {
            "id": str(tid),
            "type": type,
            "guild_id": str(self.guild_id),
            "parent_id": parent_obj["id"],
            "owner_id": self.user(owner)["id"] if owner is not None else self.bot_user["id"],
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": now,
                "locked": False,
                "create_timestamp": now,
                **({"invitable": True} if type == 12 else {}),
            },
        }
        self.channels[tid] = thread
        return thread

    def set_manage_webhooks(self, allowed: bool) -> None:
        """Grant or revoke MANAGE_WEBHOOKS on the bot's role."""
        perms = int(self.bot_role["permissions"])
        perms = perms | _MANAGE_WEBHOOKS if allowed else perms & ~_MANAGE_WEBHOOKS
        self.bot_role["permissions"] = str(perms)

    def rate_limit(
        self,
        route_pattern: str,
        times: int = 1,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
    ) -> None:
        """The next `times` matching requests get a 429 that discord.py sleeps on and retries.

        `route_pattern` is "METHOD /path" or "/path" relative to /api/v10, where `{name}` and
        `*` match one segment and `**` anything: "POST /channels/{channel_id}/messages".
        The answer has `Via` (without it discord.py assumes a Cloudflare ban and raises),
        `Retry-After`, `X-RateLimit-*` and the body `{"message", "retry_after", "global"}`.
        """
        body: JSON = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        fault = _Fault(_Pattern.parse(route_pattern), times, 429, body, retry_after, is_global)
        self._faults.append(fault)

    def fail(
        self,
        route_pattern: str,
        status: int = 500,
        times: int = 1,
        *,
        code: int = 0,
        message: str | None = None,
    ) -> None:
        """The next `times` matching requests answer `status` with `{"message", "code"}`.

        discord.py retries 500/502/504 itself (after 1 s, 3 s...), so use 503 or a 4xx for
        a fast failure.
        """
        text = message or {403: "Missing Permissions", 404: "Unknown"}.get(status, f"{status}")
        self._faults.append(
            _Fault(_Pattern.parse(route_pattern), times, status, {"message": text, "code": code})
        )

    # ------------------------------------------------------------------ lookups

    def user(self, ref: UserRef) -> JSON:
        """Resolve a user (see `UserRef`)."""
        uid = _ref_id(ref)
        if uid is not None:
            return self.users[uid]
        if ref == "bot":
            return self.bot_user
        for user in self.users.values():
            if user["username"] == ref:
                return user
        raise KeyError(f"unknown user {ref!r}")

    def role(self, ref: str | int | JSON | discord.abc.Snowflake) -> JSON:
        """Resolve a role by JSON object, id or name."""
        rid = _ref_id(ref)
        if rid is not None:
            return self.roles[rid]
        for role in self.roles.values():
            if role["name"] == ref:
                return role
        raise KeyError(f"unknown role {ref!r}")

    def channel(self, ref: ChannelRef) -> JSON:
        """Resolve a channel, thread or DM (see `ChannelRef`)."""
        cid = _ref_id(ref)
        if cid is not None:
            return self.channels[cid]
        name = str(ref).removeprefix("#")
        for channel in self.channels.values():
            if channel.get("name") == name:
                return channel
        raise KeyError(f"unknown channel {ref!r}")

    def channel_id(self, ref: ChannelRef) -> int:
        """The id of a channel, thread or DM."""
        return int(self.channel(ref)["id"])

    def dm_channel(self, user: UserRef) -> JSON:
        """The bot's DM channel with `user` (created on demand)."""
        uid = int(self.user(user)["id"])
        if uid not in self._dm_by_user:
            cid = new_snowflake()
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[uid]],
            }
            self._dm_by_user[uid] = cid
        return self.channels[self._dm_by_user[uid]]

    @property
    def threads(self) -> list[JSON]:
        """All threads, oldest first."""
        return [c for c in self.channels.values() if c["type"] in _THREAD_TYPES]

    def permissions_for(self, user: UserRef) -> int:
        """A member's guild permissions (roles only; no channel overwrites)."""
        uid = int(self.user(user)["id"])
        member = self.members.get(uid)
        if member is None:
            return 0
        if str(uid) == self.guild["owner_id"]:
            return _ALL_PERMS
        perms = int(self.roles[self.guild_id]["permissions"])
        for rid in member["roles"]:
            perms |= int(self.roles[int(rid)]["permissions"])
        return _ALL_PERMS if perms & _ADMINISTRATOR else perms

    def mention(self, user: UserRef) -> str:
        """ "<@id>" for a user."""
        return f"<@{self.user(user)['id']}>"

    def command(self, name: str, guild: bool | None = None) -> JSON | None:
        """A synced application command by name (guild commands first unless `guild=False`)."""
        keys: list[int | None] = [self.guild_id, None]
        if guild is not None:
            keys = [self.guild_id if guild else None]
        for key in keys:
            for cmd in self.commands.get(key, []):
                if cmd["name"] == name:
                    return cmd
        return None

    # ------------------------------------------------------------------ queries

    def calls_to(self, method: str, path_pattern: str) -> list[Call]:
        """Recorded calls matching `method` ("*" for any) and a path pattern (see rate_limit)."""
        pattern = _Pattern.parse(f"{method} {path_pattern}")
        return [c for c in self.calls if pattern.matches(c.method, c.path)]

    def find_message(self, message: MessageRef) -> StoredMessage | None:
        """A stored (REST-created) message by id or object."""
        return self._by_id.get(_message_id(message))

    def messages_in(self, channel: ChannelRef) -> list[StoredMessage]:
        """Messages created in one channel, thread or DM, oldest first (ephemeral ones too)."""
        cid = self.channel_id(channel)
        return [m for m in self.messages if m.channel_id == cid]

    def message_payload(self, message: StoredMessage) -> JSON:
        """The Discord message object for a stored message (as the REST API returns it)."""
        payload: JSON = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": message.author,
            "content": message.content,
            "timestamp": _timestamp(message.id),
            "edited_timestamp": message.edited_at,
            "tts": False,
            "mention_everyone": False,
            "mentions": self._mentions(message.content, message.guild_id is not None),
            "mention_roles": _ROLE_MENTION.findall(message.content),
            "attachments": message.attachments,
            "embeds": message.embeds,
            "components": message.components,
            "reactions": [],
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
        if message.via in {"interaction", "followup", "webhook"}:
            payload["application_id"] = str(self.application_id)
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
            referenced = self._message_json(int(message.message_reference["message_id"]))
            if referenced is not None:
                payload["referenced_message"] = referenced
        if message.thread is not None:
            payload["thread"] = message.thread
        if message.interaction_id is not None:
            interaction = self._interactions[message.interaction_id]
            user = interaction.payload.get("member", {}).get("user") or interaction.payload["user"]
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
        return payload

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10) -> T:
        """Wait until `predicate()` is truthy and return its value.

        Raises TimeoutError describing the calls, messages and gateway traffic seen.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s\n{self.describe()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))

    def describe(self) -> str:
        """A readable dump of what the fake has seen (for failure messages)."""
        lines = [f"{len(self.calls)} REST call(s):"]
        for c in self.calls:
            body = json.dumps(c.json, default=str) if c.json is not None else ""
            if len(body) > 300:
                body = body[:300] + "…"
            query = f"?{'&'.join(f'{k}={v}' for k, v in c.query.items())}" if c.query else ""
            lines.append(f"  {c.at:.3f} {c.method} {c.path}{query} -> {c.status} {body}")
        lines.append(f"{len(self.messages)} stored message(s):")
        for m in self.messages:
            lines.append(
                f"  {m.id} in {m.channel_id} via {m.via} flags={m.flags}: {m.content[:80]!r}"
                f" embeds={len(m.embeds)} edits={len(m.edits)}"
            )
        lines.append(
            f"{len(self.pushed)} pushed message(s), {len(self._interactions)} interaction(s)"
        )
        for s in self.sessions:
            events = [f"{f['s']}:{f['t']}" for f in s.sent[-15:]]
            lines.append(
                f"  session {s.id[:8]} intents={s.intents} connected={s.connected} "
                f"ended={s.ended} resumes={s.resumes} seq={s.seq} last events: {events}"
            )
        if self.gateway_closes:
            lines.append(f"gateway closes: {self.gateway_closes}")
        return "\n".join(lines)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --------------------------------------------------------------- event pushers

    async def message_create(
        self,
        content: str = "",
        *,
        author: UserRef = "alice",
        channel: ChannelRef = "general",
        guild: bool = True,
        thread: ChannelRef | None = None,
        attachments: Sequence[JSON] = (),
        connect_timeout: float = 5,
    ) -> JSON:
        """Push a user's MESSAGE_CREATE; returns the full payload (as stored in `pushed`).

        `guild=False` sends it in the author's DM with the bot. `thread` posts in a thread.
        `attachments`: dicts with `filename`, optional `content_type` and `data` (bytes,
        served at the attachment's url).
        Mentions are parsed from "<@id>" in `content`. Sessions
        without the message_content intent get empty content/embeds/attachments unless the
        bot is mentioned, as on Discord.
        """
        user = self.user(author)
        uid = int(user["id"])
        if guild:
            target = self.channel(thread if thread is not None else channel)
            if uid not in self.members:
                raise ValueError(f"{user['username']} is not a guild member: use add_member()")
        else:
            target = self.dm_channel(user)
        mid = new_snowflake()
        mentioned = self._mentions(content, guild)
        payload: JSON = {
            "id": str(mid),
            "channel_id": target["id"],
            "author": user,
            "content": content,
            "timestamp": _timestamp(mid),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in content or "@here" in content,
            "mentions": mentioned,
            "mention_roles": _ROLE_MENTION.findall(content),
            "attachments": [self._attachment(target, a) for a in attachments],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "nonce": str(secrets.randbits(60)),
        }
        if guild:
            payload["guild_id"] = str(self.guild_id)
            payload["member"] = _without_user(self.members[uid])
        self._touch_channel(target, mid)
        self.pushed.append(payload)
        self._pushed_by_id[mid] = payload
        await self._require_session(connect_timeout)
        await self._fan_out_message("MESSAGE_CREATE", payload)
        return payload

    async def redeliver(self, payload: JSON, event: str = "MESSAGE_CREATE") -> None:
        """Send an already-delivered payload again with a new sequence number (a duplicate)."""
        if event.startswith("MESSAGE_"):
            await self._fan_out_message(event, payload)
        else:
            await self.dispatch(event, payload)

    async def thread_create(
        self,
        name: str,
        parent: ChannelRef = "general",
        *,
        owner: UserRef = "alice",
        message_id: int | None = None,
        type: int = 11,
    ) -> JSON:
        """A user creates a thread: store it and send THREAD_CREATE (newly_created)."""
        thread = self.add_thread(name, parent, owner=owner, message_id=message_id, type=type)
        await self._require_session(5)
        await self.dispatch(
            "THREAD_CREATE", {**thread, "newly_created": True}, intent=INTENT_GUILDS
        )
        return thread

    async def interaction_create_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: UserRef = "alice",
        channel: ChannelRef = "general",
        guild: bool = True,
        connect_timeout: float = 5,
    ) -> JSON:
        """Push an APPLICATION_COMMAND interaction (type 2) for a slash command.

        Option types come from the command synced with PUT .../commands (else string);
        `data.id` is the synced command's id.
        """
        synced = self.command(name, None if guild else False)
        types = {o["name"]: int(o["type"]) for o in synced.get("options", [])} if synced else {}
        opts = [
            {"name": key, "type": types.get(key, 3), "value": value}
            for key, value in (options or {}).items()
        ]
        data: JSON = {
            "id": synced["id"] if synced else str(new_snowflake()),
            "name": name,
            "type": 1,
            "options": opts,
        }
        if synced and "guild_id" in synced:
            data["guild_id"] = synced["guild_id"]
        payload = self._interaction_payload(2, data, user=user, channel=channel, guild=guild)
        await self._require_session(connect_timeout)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def interaction_create_component(
        self,
        custom_id: str,
        *,
        message: MessageRef,
        user: UserRef = "alice",
        channel: ChannelRef | None = None,
        connect_timeout: float = 5,
    ) -> JSON:
        """Push a MESSAGE_COMPONENT interaction (type 3): a click on `message`'s button."""
        msg_json = self._message_json(_message_id(message))
        if msg_json is None:
            raise KeyError(f"unknown message {message!r}")
        target = channel if channel is not None else msg_json["channel_id"]
        is_guild = "guild_id" in self.channel(target)
        data: JSON = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction_payload(
            3, data, user=user, channel=target, guild=is_guild, message=msg_json
        )
        await self._require_session(connect_timeout)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def dispatch(self, event: str, data: JSON, *, intent: int = 0) -> None:
        """Send a DISPATCH event to every live session (whose intents include `intent`)."""
        for session in self._live_sessions():
            if intent and not session.intents & intent:
                continue
            await self._send_dispatch(session, event, data)

    async def drop_connection(self, code: int = 4000, message: str = "Unknown error.") -> int:
        """Close every gateway socket with `code`; returns how many were closed.

        4000 (or any code discord.py handles) makes the client RESUME; events dispatched
        meanwhile are buffered and replayed after the RESUME, before RESUMED.
        """
        closed = 0
        for session in self._live_sessions():
            ws, session.ws = session.ws, None
            if ws is not None and not ws.closed:
                closed += 1
                await self._close(ws, code, message)
        self._notify()
        return closed

    async def _require_session(self, timeout: float) -> None:
        if not self._live_sessions():
            await self.wait_for(self._live_sessions, timeout)

    def _live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if not s.ended]

    async def _fan_out_message(self, event: str, payload: JSON) -> None:
        """MESSAGE_* to sessions with the right intent, hiding content as Discord does."""
        intent = INTENT_GUILD_MESSAGES if "guild_id" in payload else INTENT_DIRECT_MESSAGES
        for session in self._live_sessions():
            if session.intents & intent:
                await self._send_dispatch(session, event, self._visible(session, payload))

    def _visible(self, session: GatewaySession, payload: JSON) -> JSON:
        if session.intents & INTENT_MESSAGE_CONTENT or "guild_id" not in payload:
            return payload
        if "content" not in payload:  # e.g. MESSAGE_DELETE
            return payload
        if payload.get("author", {}).get("id") == self.bot_user["id"]:
            return payload
        if any(m.get("id") == self.bot_user["id"] for m in payload.get("mentions", [])):
            return payload
        hidden = dict(payload, content="", embeds=[], attachments=[], components=[])
        hidden.pop("poll", None)
        return hidden

    async def _send_dispatch(self, session: GatewaySession, event: str, data: JSON) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.sent.append(frame)
            if session.ws is not None:
                await _send(session.ws, frame)
        self._notify()

    # -------------------------------------------------------------------- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        self.connections += 1
        self.gateway_queries.append(dict(request.query))
        session: GatewaySession | None = None
        await _send(ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval}})
        self._notify()
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(frame.data)
                except ValueError:
                    await self._close(ws, 4002, "Error while decoding payload.")
                    break
                self.gateway_received.append(data)
                op = data.get("op")
                payload = data.get("d") or {}
                if op == 1:
                    await _send(ws, {"op": 11})
                elif op in {2, 6} and session is not None:
                    await self._close(ws, 4005, "Already authenticated.")
                elif op == 2:
                    session = await self._identify(ws, payload)
                elif op == 6:
                    session = await self._resume(ws, payload)
                elif session is None:
                    await self._close(ws, 4003, "Not authenticated.")
                elif op not in {3, 4}:
                    await self._close(ws, 4001, "Unknown opcode.")
                self._notify()
        finally:
            self._sockets.discard(ws)
            code = ws.close_code or 1006
            if ws not in self._server_closed:
                self.gateway_closes.append((code, "client"))
            if session is not None and session.ws is ws:
                session.ws = None
                if code in {1000, 1001}:
                    session.ended = True
            self._notify()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: JSON) -> GatewaySession | None:
        token = d.get("token")
        if not token or (self.token is not None and token != self.token):
            await self._close(ws, 4004, "Authentication failed.")
            return None
        if "intents" not in d:
            await self._close(ws, 4013, "Invalid intent(s).")
            return None
        intents = int(d["intents"])
        allowed = (
            (INTENT_MESSAGE_CONTENT if self.allow_message_content else 0)
            | (INTENT_GUILD_MEMBERS if self.allow_members else 0)
            | (INTENT_GUILD_PRESENCES if self.allow_presences else 0)
        )
        privileged = INTENT_MESSAGE_CONTENT | INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES
        if intents & privileged & ~allowed:
            await self._close(ws, 4014, "Disallowed intent(s).")
            return None
        session = GatewaySession(id=secrets.token_hex(16), intents=intents, identify=d, ws=ws)
        self.sessions.append(session)
        ready: JSON = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if d.get("shard") is not None:
            ready["shard"] = d["shard"]
        await self._send_dispatch(session, "READY", ready)
        if intents & INTENT_GUILDS:
            await self._send_dispatch(session, "GUILD_CREATE", self._guild_create(session))
        return session

    async def _resume(self, ws: web.WebSocketResponse, d: JSON) -> GatewaySession | None:
        session = next((s for s in self.sessions if s.id == d.get("session_id")), None)
        seq = d.get("seq") or 0
        valid_token = self.token is None or d.get("token") == self.token
        if session is None or session.ended or not valid_token or seq > session.seq:
            await _send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return None
        old = session.ws
        if old is not None and old is not ws:
            await self._close(old, 4000, "Session resumed elsewhere.")
        async with session.lock:
            session.ws = ws
            for frame in session.sent:
                if frame["s"] > seq:
                    await _send(ws, frame)
        session.resumes += 1
        self.resumes += 1
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-discord"]})
        return session

    def _application_flags(self) -> int:
        return (
            (_APP_MESSAGE_CONTENT if self.allow_message_content else 0)
            | (_APP_MEMBERS if self.allow_members else 0)
            | (_APP_PRESENCE if self.allow_presences else 0)
        )

    def _guild_create(self, session: GatewaySession) -> JSON:
        if session.intents & INTENT_GUILD_MEMBERS:
            members = list(self.members.values())
        else:
            members = [self.members[self.bot_id]]
        channels = [
            {k: v for k, v in c.items() if k != "guild_id"}
            for c in self.channels.values()
            if "guild_id" in c and c["type"] not in _THREAD_TYPES
        ]
        return {
            **self._guild_json(),
            "joined_at": self.guild["joined_at"],
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "members": members,
            "channels": channels,
            "threads": [t for t in self.threads if not t["thread_metadata"]["archived"]],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _guild_json(self) -> JSON:
        first_text = next((c for c in self.channels.values() if c.get("type") == 0), None)
        return {
            "id": str(self.guild_id),
            "name": self.guild["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": self.guild["owner_id"],
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": first_text["id"] if first_text else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }

    async def _close(self, ws: web.WebSocketResponse, code: int, message: str) -> None:
        """Close a gateway socket from the server side, recording (code, "server")."""
        if ws.closed or ws in self._server_closed:
            return
        self._server_closed.add(ws)
        self.gateway_closes.append((int(code), "server"))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=code, message=message.encode()), 2)

    async def closing(self) -> None:
        for ws in list(self._sockets):
            await self._close(ws, WSCloseCode.GOING_AWAY, "Server shutdown.")
        self._sockets.clear()

    # ---------------------------------------------------------------------- REST

    def _route_table(self) -> list[tuple[str, str, bool, _Handler]]:
        """(method, template, needs bot auth, handler)."""
        return [
            ("GET", "/users/@me", True, self._get_me),
            ("POST", "/users/@me/channels", True, self._open_dm),
            ("GET", "/users/{user_id}", True, self._get_user),
            ("GET", "/oauth2/applications/@me", True, self._get_application),
            ("GET", "/applications/{app_id}/commands", True, self._get_commands),
            ("PUT", "/applications/{app_id}/commands", True, self._put_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", True, self._put_commands),
            ("GET", "/guilds/{guild_id}/members/{user_id}", True, self._get_member),
            ("GET", "/channels/{channel_id}", True, self._get_channel),
            ("POST", "/channels/{channel_id}/messages", True, self._create_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", True, self._edit_message),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                True,
                self._thread_from_message,
            ),
            ("POST", "/channels/{channel_id}/threads", True, self._thread_without_message),
            ("GET", "/channels/{channel_id}/webhooks", True, self._list_webhooks),
            ("POST", "/channels/{channel_id}/webhooks", True, self._create_webhook),
            ("POST", "/webhooks/{webhook_id}/{token}", False, self._execute_webhook),
            (
                "POST",
                "/interactions/{interaction_id}/{token}/callback",
                False,
                self._interaction_callback,
            ),
        ]

    async def _cdn(self, request: web.Request) -> web.Response:
        """Serve attachment bytes (what `Attachment.read()` fetches)."""
        raw = request.match_info["attachment_id"]
        data = self._attachment_data.get(int(raw)) if raw.isdigit() else None
        if data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        query = dict(request.query)
        body, files = await _read_body(request)
        token = _bot_token(request.headers.get("Authorization"))
        status, payload, headers = await self._answer(
            request.method, path, query, body, files, token
        )
        self.calls.append(
            Call(
                method=request.method,
                path=path,
                json=body,
                at=time.monotonic(),
                status=status,
                query=query,
                response=payload,
                files=tuple(name for name, _ in files.values()),
                token=token,
            )
        )
        self._notify()
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.Response(
            status=status,
            body=json.dumps(payload).encode(),
            headers={**headers, "Content-Type": "application/json"},
        )

    async def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        files: dict[str, tuple[str, bytes]],
        token: str | None,
    ) -> tuple[int, Any, dict[str, str]]:
        path_known = False
        for route_method, template, needs_auth, handler in self._routes:
            match = _compile(template).fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route_method != method:
                continue
            if needs_auth and (token is None or (self.token is not None and token != self.token)):
                return 401, {"message": "401: Unauthorized", "code": 0}, {}
            bucket = _bucket(f"{method} {template}")
            fault = self._take_fault(method, path)
            if fault is not None:
                return fault.status, dict(fault.body), fault.headers(bucket)
            req = _Request(method, path, match.groupdict(), query, body, files)
            status, payload = await handler(req)
            headers = _ok_headers(bucket) if status < 300 else {}
            return (204 if payload is None and status < 300 else status), payload, headers
        if path_known:
            return 405, {"message": "405: Method Not Allowed", "code": 0}, {}
        return 404, {"message": "404: Not Found", "code": 0}, {}

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.pattern.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    async def _get_me(self, req: _Request) -> _Reply:
        return 200, {
            **self.bot_user,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
            "banner": None,
            "accent_color": None,
            "bio": "",
        }

    async def _get_user(self, req: _Request) -> _Reply:
        uid = req.params["user_id"]
        if not uid.isdigit() or int(uid) not in self.users:
            return _error(404, 10013, "Unknown User")
        return 200, self.users[int(uid)]

    async def _get_application(self, req: _Request) -> _Reply:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self._application_flags(),
            "owner": self.owner,
            "team": None,
            "bot": self.bot_user,
            "hook": True,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
        }

    async def _open_dm(self, req: _Request) -> _Reply:
        recipient = str((req.body or {}).get("recipient_id", ""))
        if not recipient.isdigit() or int(recipient) not in self.users:
            return _error(400, 50033, "Invalid Recipient(s)")
        return 200, self.dm_channel(int(recipient))

    # ----------------------------------------------------------- app commands

    async def _get_commands(self, req: _Request) -> _Reply:
        if int(req.params["app_id"]) != self.application_id:
            return _error(403, 50001, "Missing Access")
        key = int(req.params["guild_id"]) if "guild_id" in req.params else None
        return 200, self.commands.get(key, [])

    async def _put_commands(self, req: _Request) -> _Reply:
        if int(req.params["app_id"]) != self.application_id:
            return _error(403, 50001, "Missing Access")
        key = int(req.params["guild_id"]) if "guild_id" in req.params else None
        if key is not None and key != self.guild_id:
            return _error(403, 50001, "Missing Access")
        if not isinstance(req.body, list):
            return _form_error("_root", "LIST_TYPE_CONVERT", "Must be a list.")
        existing = {c["name"]: c for c in self.commands.get(key, [])}
        stored: list[JSON] = []
        for cmd in req.body:
            old = existing.get(cmd.get("name", ""))
            full: JSON = {
                "id": old["id"] if old else str(new_snowflake()),
                "application_id": str(self.application_id),
                "version": str(new_snowflake()),
                "type": cmd.get("type", 1),
                "name": cmd.get("name", ""),
                "description": cmd.get("description", ""),
                "options": cmd.get("options", []),
                "default_member_permissions": cmd.get("default_member_permissions"),
                "nsfw": cmd.get("nsfw", False),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types") or [0],
            }
            if key is not None:
                full["guild_id"] = str(key)
            stored.append(full)
        self.commands[key] = stored
        return 200, stored

    # ----------------------------------------------------------- guild, channels

    async def _get_member(self, req: _Request) -> _Reply:
        uid = req.params["user_id"]
        if req.params["guild_id"] != str(self.guild_id):
            return _error(404, 10004, "Unknown Guild")
        if not uid.isdigit() or int(uid) not in self.members:
            return _error(404, 10007, "Unknown Member")
        return 200, self.members[int(uid)]

    def _lookup_channel(self, raw: str) -> JSON | None:
        return self.channels.get(int(raw)) if raw.isdigit() else None

    async def _get_channel(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return 200, channel

    # ------------------------------------------------------------------ messages

    def _check_send(self, channel: JSON | None) -> _Reply | None:
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if "guild_id" in channel:
            needed = _SEND_IN_THREADS if channel["type"] in _THREAD_TYPES else _SEND_MESSAGES
            if not self.permissions_for(self.bot_user) & needed:
                return _error(403, 50013, "Missing Permissions")
            meta = channel.get("thread_metadata") or {}
            if meta.get("locked"):
                return _error(403, 50083, "Thread is archived")
        return None

    async def _create_message(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        denied = self._check_send(channel)
        if denied is not None or channel is None:
            return denied or _error(404, 10003, "Unknown Channel")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        invalid = _validate_message(body, req.files)
        if invalid is not None:
            return invalid
        reference = body.get("message_reference")
        if reference:
            ref_id = int(reference.get("message_id", 0))
            if self._message_json(ref_id) is None:
                if reference.get("fail_if_not_exists", True):
                    return _form_error(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                reference = None
            else:
                reference = {
                    "type": reference.get("type", 0),
                    "message_id": str(ref_id),
                    "channel_id": str(reference.get("channel_id") or channel["id"]),
                    **({"guild_id": str(self.guild_id)} if "guild_id" in channel else {}),
                }
        message = self._store(
            channel,
            body,
            req.files,
            author=self.bot_user,
            via="bot",
            message_type=19 if reference else 0,
            reference=reference,
        )
        payload = self.message_payload(message)
        if self.echo_own_messages:
            await self._fan_out_message("MESSAGE_CREATE", self._with_member(payload))
        return 200, payload

    async def _edit_message(self, req: _Request) -> _Reply:
        mid = req.params["message_id"]
        message = self._by_id.get(int(mid)) if mid.isdigit() else None
        if message is None or str(message.channel_id) != req.params["channel_id"]:
            if mid.isdigit() and int(mid) in self._pushed_by_id:
                return _error(403, 50005, "Cannot edit a message authored by another user")
            return _error(404, 10008, "Unknown Message")
        if message.author["id"] != self.bot_user["id"]:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        return await self._apply_edit(message, req.body, req.files)

    async def _apply_edit(
        self,
        message: StoredMessage,
        body: Any,
        files: dict[str, tuple[str, bytes]],
        *,
        set_flags: bool = True,
    ) -> _Reply:
        """Apply an edit (PATCH body); any edit resolves a LOADING message."""
        body = body if isinstance(body, dict) else {}
        merged = {
            "content": body.get("content", message.content),
            "embeds": body.get("embeds", message.embeds),
            "components": body.get("components", message.components),
        }
        has_attachments = bool(body.get("attachments", message.attachments) or files)
        invalid = _validate_message(merged, files, has_attachments=has_attachments)
        if invalid is not None:
            return invalid
        message.edits.append(body)
        message.content = merged["content"] or ""
        message.embeds = list(merged["embeds"] or [])
        message.components = list(merged["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if set_flags and body.get("flags") is not None:
            keep = message.flags & ~SUPPRESS_EMBEDS & ~LOADING
            message.flags = keep | (int(body["flags"]) & SUPPRESS_EMBEDS)
        else:
            message.flags &= ~LOADING
        if "attachments" in body or files:
            kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in message.attachments if a["id"] in kept_ids]
            message.attachments = kept + self._new_attachments(message.channel_id, body, files)
        message.edited_at = _now_iso()
        payload = self.message_payload(message)
        if self.echo_own_messages and not message.ephemeral:
            await self._fan_out_message("MESSAGE_UPDATE", self._with_member(payload))
        self._notify()
        return 200, payload

    # ------------------------------------------------------------------- threads

    async def _thread_from_message(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if channel["type"] not in {0, 5}:
            return _error(400, 50024, "Cannot execute action on this channel type")
        mid = req.params["message_id"]
        payload = self._message_json(int(mid)) if mid.isdigit() else None
        if payload is None or payload["channel_id"] != channel["id"]:
            return _error(404, 10008, "Unknown Message")
        if int(mid) in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            return _form_error(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        thread = self.add_thread(name, channel, message_id=int(mid))
        self._configure_thread(thread, body)
        stored = self._by_id.get(int(mid))
        if stored is not None:
            stored.thread = thread
            stored.flags |= HAS_THREAD
        else:
            self._pushed_by_id[int(mid)]["thread"] = thread
            self._pushed_by_id[int(mid)]["flags"] |= HAS_THREAD
        await self._announce_thread(thread)
        return 201, thread

    async def _thread_without_message(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if channel["type"] not in {0, 5}:
            return _error(400, 50024, "Cannot execute action on this channel type")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            return _form_error(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        thread_type = int(body.get("type") or 12)
        if thread_type not in {10, 11, 12}:
            return _form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
        thread = self.add_thread(name, channel, type=thread_type)
        self._configure_thread(thread, body)
        if thread_type == 12 and "invitable" in body:
            thread["thread_metadata"]["invitable"] = bool(body["invitable"])
        await self._announce_thread(thread)
        return 201, thread

    def _configure_thread(self, thread: JSON, body: JSON) -> None:
        if body.get("auto_archive_duration"):
            thread["thread_metadata"]["auto_archive_duration"] = int(body["auto_archive_duration"])
        if body.get("rate_limit_per_user") is not None:
            thread["rate_limit_per_user"] = int(body["rate_limit_per_user"])

    async def _announce_thread(self, thread: JSON) -> None:
        member = {
            "id": thread["id"],
            "user_id": self.bot_user["id"],
            "join_timestamp": _now_iso(),
            "flags": 0,
        }
        event = {**thread, "newly_created": True, "member": member}
        await self.dispatch("THREAD_CREATE", event, intent=INTENT_GUILDS)

    # ------------------------------------------------------------------ webhooks

    async def _list_webhooks(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if not self.permissions_for(self.bot_user) & _MANAGE_WEBHOOKS:
            return _error(403, 50013, "Missing Permissions")
        return 200, [w for w in self.webhooks.values() if w["channel_id"] == channel["id"]]

    async def _create_webhook(self, req: _Request) -> _Reply:
        channel = self._lookup_channel(req.params["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if channel["type"] not in {0, 5}:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if not self.permissions_for(self.bot_user) & _MANAGE_WEBHOOKS:
            return _error(403, 50013, "Missing Permissions")
        name = str((req.body or {}).get("name") or "")
        if not 1 <= len(name) <= 80 or _reserved_name(name):
            return _form_error("name", "USERNAME_INVALID", "Username cannot contain this value")
        if sum(1 for w in self.webhooks.values() if w["channel_id"] == channel["id"]) >= 15:
            return _error(400, 30007, "Maximum number of webhooks reached (15)")
        wid = new_snowflake()
        hook: JSON = {
            "id": str(wid),
            "type": 1,
            "guild_id": str(self.guild_id),
            "channel_id": channel["id"],
            "name": name,
            "avatar": None,
            "token": secrets.token_urlsafe(48),
            "application_id": str(self.application_id),
            "user": self.bot_user,
        }
        self.webhooks[wid] = hook
        return 200, hook

    async def _execute_webhook(self, req: _Request) -> _Reply:
        raw = req.params["webhook_id"]
        if raw == str(self.application_id):
            return await self._followup(req)
        hook = self.webhooks.get(int(raw)) if raw.isdigit() else None
        if hook is None:
            return _error(404, 10015, "Unknown Webhook")
        if req.params["token"] != hook["token"]:
            return _error(401, 50027, "Invalid Webhook Token")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        target = self.channels[int(hook["channel_id"])]
        thread_id = req.query.get("thread_id")
        if thread_id:
            thread = self._lookup_channel(thread_id)
            if thread is None or thread.get("parent_id") != hook["channel_id"]:
                return _error(400, 10003, "Unknown Channel")
            target = thread
        username = body.get("username")
        if username is not None and (not 1 <= len(username) <= 80 or _reserved_name(username)):
            return _form_error("username", "USERNAME_INVALID", "Username cannot contain this value")
        invalid = _validate_message(body, req.files)
        if invalid is not None:
            return invalid
        author = {
            "id": hook["id"],
            "username": username or hook["name"],
            "avatar": None,
            "discriminator": "0000",
            "global_name": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
        }
        message = self._store(target, body, req.files, author=author, via="webhook")
        message.webhook_id = int(hook["id"])
        message.username = username
        message.avatar_url = body.get("avatar_url")
        payload = self.message_payload(message)
        await self._fan_out_message("MESSAGE_CREATE", payload)
        return (200, payload) if _truthy(req.query.get("wait")) else (204, None)

    # -------------------------------------------------------------- interactions

    async def _interaction_callback(self, req: _Request) -> _Reply:
        raw = req.params["interaction_id"]
        interaction = self._interactions.get(int(raw)) if raw.isdigit() else None
        if interaction is None or interaction.token != req.params["token"]:
            return _error(404, 10062, "Unknown interaction")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        self.interaction_responses.setdefault(interaction.id, []).append(body)
        self._notify()
        deadline = self.ack_deadline
        if deadline is not None and time.monotonic() - interaction.created > deadline:
            return _error(404, 10062, "Unknown interaction")
        if interaction.response_type is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        rtype = body.get("type")
        data: JSON = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        channel = self.channels[interaction.channel_id]
        created: StoredMessage | None = None
        if rtype in {4, 5}:
            if rtype == 4:
                invalid = _validate_message(data, req.files)
                if invalid is not None:
                    return invalid
                fields = data
                keep = flags & (EPHEMERAL | SUPPRESS_EMBEDS)
            else:
                fields, keep = {}, LOADING | (flags & EPHEMERAL)
            created = self._store(
                channel,
                fields,
                req.files,
                author=self.bot_user,
                via="interaction",
                message_type=20 if interaction.type == 2 else 0,
            )
            created.flags = keep
            created.interaction_id = interaction.id
            created.webhook_id = self.application_id
            interaction.original_id = created.id
        elif rtype in {6, 7}:
            target = self._by_id.get(interaction.message_id or 0)
            if interaction.type != 3 or target is None:
                return _form_error("type", "INTERACTION_TYPE_INVALID", "Invalid response type")
            if rtype == 7:
                status, payload = await self._apply_edit(target, data, req.files)
                if status >= 300:
                    return status, payload
            interaction.original_id = target.id
        elif rtype not in {1, 8, 9, 10, 12}:
            return _form_error("type", "BASE_TYPE_CHOICES", "Invalid interaction response type")
        interaction.response_type = rtype
        resource: JSON | None = {"type": rtype} if rtype is not None else None
        if created is not None:
            payload = self.message_payload(created)
            resource = {"type": rtype, "message": payload}
            if not created.ephemeral and self.echo_own_messages:
                await self._fan_out_message("MESSAGE_CREATE", payload)
        elif rtype == 7 and interaction.original_id is not None:
            resource = {
                "type": rtype,
                "message": self.message_payload(self._by_id[interaction.original_id]),
            }
        if not _truthy(req.query.get("with_response")):
            return 204, None
        original = self._by_id.get(interaction.original_id or 0)
        summary: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": rtype == 5,
            "response_message_ephemeral": bool(original and original.ephemeral),
        }
        if original is not None:
            summary["response_message_id"] = str(original.id)
        return 200, {"interaction": summary, "resource": resource}

    async def _followup(self, req: _Request) -> _Reply:
        token = req.params["token"]
        interaction = next((i for i in self._interactions.values() if i.token == token), None)
        if interaction is None or interaction.response_type is None:
            return _error(404, 10015, "Unknown Webhook")
        body: JSON = req.body if isinstance(req.body, dict) else {}
        self.followups.setdefault(interaction.id, []).append(body)
        invalid = _validate_message(body, req.files)
        if invalid is not None:
            return invalid
        original = self._by_id.get(interaction.original_id or 0)
        if original is not None and original.loading:
            # The first followup after a deferred response resolves the loading message.
            return await self._apply_edit(original, body, req.files, set_flags=False)
        channel = self.channels[interaction.channel_id]
        message = self._store(
            channel, body, req.files, author=self.bot_user, via="followup", message_type=0
        )
        message.flags = int(body.get("flags") or 0) & (EPHEMERAL | SUPPRESS_EMBEDS)
        message.interaction_id = interaction.id
        message.webhook_id = self.application_id
        payload = self.message_payload(message)
        if not message.ephemeral and self.echo_own_messages:
            await self._fan_out_message("MESSAGE_CREATE", payload)
        return 200, payload

    def _interaction_payload(
        self,
        itype: int,
        data: JSON,
        *,
        user: UserRef,
        channel: ChannelRef,
        guild: bool,
        message: JSON | None = None,
    ) -> JSON:
        user_obj = self.user(user)
        uid = int(user_obj["id"])
        target = self.channel(channel) if guild else self.dm_channel(user_obj)
        iid = new_snowflake()
        token = f"fake-interaction-{iid}-{secrets.token_urlsafe(24)}"
        bot_perms = self.permissions_for(self.bot_user) if guild else _EVERYONE_PERMS
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
            "app_permissions": str(bot_perms),
            "channel_id": target["id"],
            "channel": target,
        }
        if guild:
            if uid not in self.members:
                raise ValueError(f"{user_obj['username']} is not a guild member: use add_member()")
            payload["guild_id"] = str(self.guild_id)
            payload["guild"] = {"id": str(self.guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = {
                **self.members[uid],
                "permissions": str(self.permissions_for(user_obj)),
            }
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(self.guild_id)}
        else:
            payload["user"] = user_obj
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": "0"}
        if message is not None:
            payload["message"] = message
        self._interactions[iid] = _Interaction(
            id=iid,
            token=token,
            type=itype,
            payload=payload,
            channel_id=int(target["id"]),
            guild_id=self.guild_id if guild else None,
            message_id=int(message["id"]) if message else None,
        )
        return payload

    # -------------------------------------------------------------- storage utils

    def _store(
        self,
        channel: JSON,
        body: JSON,
        files: dict[str, tuple[str, bytes]],
        *,
        author: JSON,
        via: Literal["bot", "webhook", "interaction", "followup"],
        message_type: int = 0,
        reference: JSON | None = None,
    ) -> StoredMessage:
        mid = new_snowflake()
        cid = int(channel["id"])
        message = StoredMessage(
            id=mid,
            channel_id=cid,
            guild_id=self.guild_id if "guild_id" in channel else None,
            author=author,
            content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            attachments=self._new_attachments(cid, body, files),
            flags=int(body.get("flags") or 0) & SUPPRESS_EMBEDS,
            type=message_type,
            message_reference=reference,
            allowed_mentions=body.get("allowed_mentions"),
            via=via,
            files={name: data for name, data in files.values()},
            body=body,
        )
        self.messages.append(message)
        self._by_id[mid] = message
        self._touch_channel(channel, mid)
        self._notify()
        return message

    def _touch_channel(self, channel: JSON, message_id: int) -> None:
        channel["last_message_id"] = str(message_id)
        if channel["type"] in _THREAD_TYPES:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1

    def _new_attachments(
        self, channel_id: int, body: JSON, files: dict[str, tuple[str, bytes]]
    ) -> list[JSON]:
        declared = {str(a.get("id")): a for a in body.get("attachments") or []}
        out: list[JSON] = []
        for index, (field_name, (filename, data)) in enumerate(files.items()):
            key = field_name.removeprefix("files[").removesuffix("]")
            meta = declared.get(key, declared.get(str(index), {}))
            spec = {**meta, "filename": filename, "data": data}
            out.append(self._attachment(self.channels[channel_id], spec))
        return out

    def _attachment(self, channel: JSON, spec: JSON) -> JSON:
        """An attachment object; `spec["data"]` (bytes) is served at its url."""
        aid = new_snowflake()
        filename = str(spec.get("filename") or "file.bin")
        data = spec.get("data")
        if isinstance(data, bytes | bytearray):
            self._attachment_data[aid] = bytes(data)
        url = f"http://127.0.0.1:{self.port}/attachments/{channel['id']}/{aid}/{filename}"
        attachment: JSON = {
            "id": str(aid),
            "filename": filename,
            "size": len(data)
            if isinstance(data, bytes | bytearray)
            else int(spec.get("size") or 0),
            "url": url,
            "proxy_url": url,
            "content_type": spec.get("content_type", "application/octet-stream"),
        }
        if spec.get("description"):
            attachment["description"] = spec["description"]
        return attachment

    def _message_json(self, message_id: int) -> JSON | None:
        stored = self._by_id.get(message_id)
        if stored is not None:
            return self.message_payload(stored)
        return self._pushed_by_id.get(message_id)

    def _with_member(self, payload: JSON) -> JSON:
        """Gateway MESSAGE_* for guild messages by a member carry `member`."""
        uid = int(payload["author"]["id"])
        if "guild_id" in payload and "webhook_id" not in payload and uid in self.members:
            return {**payload, "member": _without_user(self.members[uid])}
        return payload

    def _mentions(self, content: str, guild: bool) -> list[JSON]:
        out: list[JSON] = []
        for uid in dict.fromkeys(int(i) for i in _MENTION.findall(content)):
            user = self.users.get(uid)
            if user is None:
                continue
            entry = dict(user)
            if guild and uid in self.members:
                entry["member"] = _without_user(self.members[uid])
            out.append(entry)
        return out


# ------------------------------------------------------------------------------ helpers


async def _send(ws: web.WebSocketResponse, frame: JSON) -> None:
    """Send a text frame; a socket closing underneath is not an error."""
    if ws.closed:
        return
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(json.dumps(frame))


async def _read_body(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """JSON body, or multipart `payload_json` + files ({field: (filename, bytes)})."""
    files: dict[str, tuple[str, bytes]] = {}
    if not request.can_read_body:
        return None, files
    if request.content_type == "multipart/form-data":
        body: Any = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files[part.name or f"files[{len(files)}]"] = (
                    part.filename or "file",
                    bytes(await part.read()),
                )
        return body, files
    raw = await request.text()
    if not raw.strip():
        return None, files
    try:
        return json.loads(raw), files
    except ValueError:
        return raw, files


def _bot_token(header: str | None) -> str | None:
    if header and header.startswith("Bot "):
        return header[4:].strip() or None
    return None


def _bucket(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _ok_headers(bucket: str) -> dict[str, str]:
    """Rate-limit headers of a successful answer: a bucket that is far from exhausted."""
    return {
        "Via": "1.1 google",
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": bucket,
    }


def _reserved_name(name: str) -> bool:
    lowered = name.lower()
    return "discord" in lowered or "clyde" in lowered


def _validate_message(
    body: JSON, files: Mapping[str, Any], *, has_attachments: bool = False
) -> _Reply | None:
    """Discord's checks on a message body, as far as the fake enforces them."""
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    components = body.get("components") or []
    if not isinstance(content, str) or len(content) > 2000:
        return _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    if len(embeds) > 10:
        return _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for embed in embeds:
        description = embed.get("description") or ""
        fields = embed.get("fields") or []
        if len(description) > 4096:
            return _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length.")
        if len(fields) > 25 or any(len(f.get("value") or "") > 1024 for f in fields):
            return _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Too many or too long fields.")
        total += len(embed.get("title") or "") + len(description)
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
    if total > 6000:
        return _error(400, 50035, "Embed size exceeds maximum size of 6000")
    if not (content or embeds or components or files or has_attachments or body.get("sticker_ids")):
        if not body.get("poll"):
            return _error(400, 50006, "Cannot send an empty message")
    return None


def _ref_id(ref: object) -> int | None:
    """The id in a ref (JSON object, int, digit string, object with `.id`); None for a name."""
    if isinstance(ref, dict):
        return int(ref["id"])
    if isinstance(ref, int):
        return ref
    if isinstance(ref, str):
        return int(ref) if ref.isdigit() else None
    value = getattr(ref, "id", None)
    return int(value) if isinstance(value, int) else None


def _message_id(ref: MessageRef) -> int:
    value = _ref_id(ref)
    if value is None:
        raise KeyError(f"not a message reference: {ref!r}")
    return value


def _without_user(member: JSON) -> JSON:
    return {k: v for k, v in member.items() if k != "user"}
