"""Slack: Dispatch as a workspace bot, through slack-bolt (AsyncApp).

Inbound, `app_mention`, DMs and replies in Dispatch's own threads become `Request`s; status
board buttons become `Action`s. Every event is acknowledged by Bolt before any slow work,
and de-duplicated atomically in SQLite on channel + ts, in the transaction that takes the
message in: Slack's retries and the same message arriving as both `app_mention` and
`message` are one message. Outbound, posts are paced per channel,
board edits are budgeted under Slack's tier. Nothing here sleeps: a channel that has spent its
budget (or is waiting out a 429) raises a deferred `DeliveryError`, and the courier retries
from the database, so one busy channel never holds up another thread.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import (
    Action,
    Core,
    DeliveryError,
    StartRefused,
    Unreachable,
    connect_retrying,
)
from adapters.slack_render import (
    board_payload,
    escape,
    identity,
    relay_payloads,
    text_payloads,
)
from bot import render
from bot.callbacks import listener
from bot.models import Attachment, Request
from bot.outbound import AgentBadge, MessageRef, Outbound, Target, record_parts
from bot.settings import Settings, split_ids

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
POST_BURST = 3
"""Posts a channel may take at once before pacing to one per second (Slack allows bursts)."""
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "message_not_found",
    "cant_update_message",
    "user_not_in_channel",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}
REJECTED_TOKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}
TOKEN_HELP = {
    "SLACK_BOT_TOKEN": "set it to the Bot User OAuth Token (xoxb-…) under OAuth & Permissions"
    " of the app installed in your workspace",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-…) with connections:write, under"
    " Basic Information → App-Level Tokens",
}
IGNORED_SUBTYPES = {
    "message_changed",
    "message_deleted",
    "message_replied",
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "group_join",
    "group_leave",
    "pinned_item",
    "unpinned_item",
    "ekm_access_denied",
    "me_message",
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_ACTION = re.compile(r"^dispatch_(cancel_task|cancel_request|retry_task)$")


class _GivenClient(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment goes unused because we hand it a
    client built from that very token: noise in every start's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_GivenClient())


class SlackConfigError(ValueError):
    """Slack settings that cannot work; the message says exactly what to set."""


def check_settings(settings: Settings, *, http: bool) -> None:
    """Refuse missing or contradictory settings before connecting to anything."""
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    app = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not bot:
        raise SlackConfigError("Slack needs SLACK_BOT_TOKEN (the xoxb-… Bot User OAuth Token).")
    if not bot.startswith("xoxb-"):
        raise SlackConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    if http:
        if not secret:
            raise SlackConfigError(
                "HTTP mode (--http) needs SLACK_SIGNING_SECRET (Basic Information → Signing Secret)."
            )
        return
    if not app:
        raise SlackConfigError(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp-… app-level token with connections:write);"
            " or run the Events API over HTTP with --http and SLACK_SIGNING_SECRET."
        )
    if not app.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")


class _Budget:
    """A token bucket: `rate` calls per second with bursts of `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = time.monotonic()

    def wait(self) -> float:
        """0 if a call may go now, else seconds until one may; spends nothing."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> float:
        """0 if a call may go now (and spends a token), else seconds until one may."""
        wait = self.wait()
        if wait == 0:
            self.tokens -= 1
        return wait


DELIVERY_EVENT = "dispatch_delivery"
"""The metadata type each post carries, with its delivery's key and part number."""
RECALL_LIMIT = 200
"""Messages read back when looking for an earlier post of a delivery."""


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        *,
        http: bool = False,
        host: str = "127.0.0.1",
        port: int = 3000,
        post_interval: float = 1.0,
        update_rate: float = 0.8,
    ) -> None:
        check_settings(settings, http=http)
        assert settings.slack_bot_token is not None
        self.settings = settings
        self.http = http
        self.host = host
        self.port = port
        self.post_interval = post_interval
        self.allowed_users = split_ids(settings.slack_allowed_users)
        self.allowed_channels = split_ids(settings.slack_allowed_channels)
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url or DEFAULT_API_URL,
            # No silent resend after a connection error: Slack may have taken the post
            # already. The courier retries instead, and looks for the post first.
            retry_handlers=[],
        )
        self.app = AsyncApp(
            client=self.client,
            signing_secret=(
                settings.slack_signing_secret.get_secret_value()
                if settings.slack_signing_secret
                else ""
            ),
            request_verification_enabled=http,
            # Slack hears back once the message is recorded (`take_in`), not before: an
            # event acknowledged and then lost to a crash would never be delivered again.
            process_before_response=True,
        )
        self._core: Core | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._channel_budgets: dict[str, _Budget] = {}
        self._channel_blocked: dict[str, float] = {}
        self._updates = _Budget(rate=update_rate, burst=5)
        self._names: dict[str, str] = {}
        self._dm_channels: dict[str, str] = {}
        self._partial: dict[tuple[Any, ...], list[str]] = {}
        self._team_url = ""
        self.bot_user_id = ""
        self.team_id = ""
        self.bound_port: int | None = None
        self._register()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, core: Core) -> None:
        self._core = core
        if self.client.session is None or self.client.session.closed:
            # Without a session of its own, slack_sdk opens a new connection (and, against
            # Slack, a new TLS handshake) for every Web API call. No cap on connections: the
            # courier's slots bound the posts in progress, and aiohttp's default cap (100) is
            # below them, so posts past it waited for a connection.
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout),
                connector=aiohttp.TCPConnector(limit=0),
            )
        override = self.settings.slack_api_url
        await connect_retrying(
            f"Slack at {override or DEFAULT_API_URL}",
            self._connect,
            check="DISPATCH_SLACK_API_URL" if override else "any proxy settings",
        )

    async def _connect(self) -> None:
        auth = await self._first_call(self.client.auth_test, "SLACK_BOT_TOKEN")
        self.bot_user_id = str(auth.get("user_id", ""))
        self.team_id = str(auth.get("team_id", ""))
        self._team_url = str(auth.get("url", "")).rstrip("/")
        if self.http:
            self._runner = listener(
                self.app.web_app(path="/slack/events"), self.settings.listener_timeout
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                await self._runner.cleanup()
                self._runner = None
                raise StartRefused(
                    f"cannot listen on {self.host}:{self.port} for Slack events ({exc.strerror}):"
                    " choose another --port or --host"
                ) from None
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
            log.info(
                "Slack Events API listening on http://%s:%s/slack/events",
                self.host,
                self.bound_port,
            )
        else:
            assert self.settings.slack_app_token is not None
            token = self.settings.slack_app_token.get_secret_value()
            # Asked first by us, so a rejected app token is one clear line, not the socket
            # client's own error log.
            await self._first_call(
                self.client.apps_connections_open, "SLACK_APP_TOKEN", app_token=token
            )
            self._socket = AsyncSocketModeHandler(self.app, token)
            try:
                await self._socket.connect_async()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                await self._socket.close_async()
                self._socket = None
                raise Unreachable(str(exc) or type(exc).__name__) from None
            log.info("Slack Socket Mode connected")

    async def _first_call(self, method: Any, token: str, **kwargs: Any) -> Any:
        """A start-up call: a rejected token is `StartRefused`, anything else `Unreachable`."""
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error", "")) if response is not None else ""
            if error in REJECTED_TOKEN:
                raise StartRefused(
                    f"Slack rejected {token} ({error}): {TOKEN_HELP[token]}"
                ) from None
            raise Unreachable(
                f"{method.__name__}: {error or getattr(response, 'status_code', '')}"
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise Unreachable(str(exc) or type(exc).__name__) from None

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None
        self._core = None

    # -- inbound ------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.event("app_mention")
        async def on_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
            await self._on_message(event, body, mentioned=True)

        @app.event("message")
        async def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
            await self._on_message(event, body, mentioned=False)

        @app.action(_ACTION)
        async def on_button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            await self._on_button(body, action)

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], *, mentioned: bool
    ) -> None:
        if self._core is None or not self._wanted(event):
            return
        team = str(body.get("team_id") or event.get("team") or self.team_id)
        channel = str(event.get("channel", ""))
        is_dm = event.get("channel_type") == "im"
        thread = event.get("thread_ts")
        ts = str(event.get("ts", ""))
        if thread == ts:
            thread = None
        text = str(event.get("text") or "")
        if not mentioned and not is_dm:
            # A plain channel message is ours only as a reply in one of our threads.
            if thread is None or f"<@{self.bot_user_id}>" in text:
                return
            if not await self._core.knows_thread(self.platform, team, channel, str(thread)):
                return
        user = str(event.get("user", ""))
        refusal = self._refusal(user, channel, is_dm)
        if refusal:
            # Slack's retries of an event, and a message's app_mention and message events,
            # are one message: it is claimed once (in `receive` for everything else).
            if await self._core.claim(f"{self.platform}:{team}:{channel}:{ts}"):
                await self._ephemeral(channel, user, refusal, thread or ts)
            return
        request = Request(
            platform=self.platform,
            workspace=team,
            channel=channel,
            thread=thread,
            message_id=ts,
            user=user,
            user_name=await self._name(user),
            text=_MENTION.sub(
                lambda m: "" if m.group(1) == self.bot_user_id else m.group(0), text
            ).strip(),
            is_dm=is_dm,
            attachments=tuple(_attachments(event)),
            raw=event,
        )
        await self._core.take_in(request)

    def _wanted(self, event: dict[str, Any]) -> bool:
        """Never our own messages, edits, deletions or joins; other bots only if allowed."""
        if event.get("subtype") in IGNORED_SUBTYPES:
            return False
        if event.get("user") == self.bot_user_id or not event.get("user"):
            return False
        if event.get("bot_id") or event.get("subtype") == "bot_message":
            return self.settings.slack_allow_bots and event.get("user") != self.bot_user_id
        return True

    def _refusal(self, user: str, channel: str, is_dm: bool) -> str | None:
        """The one allowlist check, for every way in: mentions, DMs, thread replies and
        buttons. DMs are outside the channel list (it names channels), never the user list."""
        if self.allowed_users and user not in self.allowed_users:
            return render.NOT_ON_THE_LIST
        if self.allowed_channels and not is_dm and channel not in self.allowed_channels:
            return render.NOT_IN_THIS_CHANNEL
        return None

    async def _on_button(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        if self._core is None:
            return
        match = _ACTION.match(str(action.get("action_id", "")))
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        if not match:
            return
        thread = message.get("thread_ts") or message.get("ts")
        refusal = self._refusal(user, channel, channel.startswith("D"))
        if refusal:
            await self._ephemeral(channel, user, refusal, thread)
            return
        reply = await self._core.act(
            Action(
                platform=self.platform,
                workspace=str((body.get("team") or {}).get("id") or self.team_id),
                user=user,
                kind=match.group(1),  # type: ignore[arg-type]
                target=str(action.get("value", "")),
            )
        )
        await self._ephemeral(channel, user, reply, thread)

    async def _ephemeral(self, channel: str, user: str, text: str, thread: str | None) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread
            )
        except SlackApiError as exc:
            log.warning("ephemeral reply failed: %s", exc.response.get("error"))

    async def _name(self, user: str) -> str:
        if user not in self._names:
            try:
                info = await self.client.users_info(user=user)
                profile = info["user"].get("profile") or {}
                self._names[user] = (
                    profile.get("display_name")
                    or info["user"].get("real_name")
                    or info["user"].get("name")
                    or user
                )
            except (SlackApiError, KeyError, TypeError):
                self._names[user] = user
        return self._names[user]

    # -- outbound -----------------------------------------------------------------------------

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        if target.private and target.user and not target.is_dm:
            return await self._post_private(target, message)
        rest = ""
        if message.kind == "ack" and message.board is not None:
            payloads = [board_payload(message)]
        elif message.kind in ("result", "question"):
            payloads, rest = relay_payloads(message, self.settings.max_result_messages)
        else:
            payloads = text_payloads(message, self.permalink)
        extra = (
            identity(message.agent)
            if message.agent and message.kind in ("result", "question")
            else {}
        )
        ts = ""
        # A long relay is several posts; if one fails or is paced (deferred), the retry skips
        # those already posted. The courier sends one message per thread at a time.
        key = (
            target.channel,
            target.thread,
            message.request_id,
            message.task_id,
            message.kind,
            hash(message.text),
        )
        done = self._partial.setdefault(key, list(message.posted))
        record = record_parts.get() if len(payloads) + bool(rest) > 1 else None
        for index, payload in enumerate(payloads):
            if index < len(done):
                ts = done[index]
                continue
            marked = (
                {"metadata": {"event_type": DELIVERY_EVENT, "event_payload": {
                    "key": message.key, "part": index}}}
                if message.key
                else {}
            )  # fmt: skip
            response = await self._call_paced(
                target.channel,
                thread_ts=target.thread,
                unfurl_links=False,
                unfurl_media=False,
                **extra,
                **payload,
                **marked,
            )
            ts = str(response.get("ts", ""))
            done.append(ts)
            if record is not None and (rest or index < len(payloads) - 1):
                await record(done)
        if rest and len(done) == len(payloads):
            assert message.agent is not None
            ts = await self._attach_rest(target, message.agent, rest)
            done.append(ts)
        del self._partial[key]
        return MessageRef(
            platform=self.platform, channel=target.channel, id=ts, thread=target.thread
        )

    async def posted_parts(self, target: Target, key: str) -> list[str]:
        """The parts of delivery `key` in the thread (or the channel's latest messages),
        found by the metadata each part was posted with."""
        if target.private and target.user and not target.is_dm:
            return []  # an ephemeral cannot be read back
        if target.thread:
            response = await self._call(
                self.client.conversations_replies, channel=target.channel, ts=target.thread,
                include_all_metadata=True, limit=RECALL_LIMIT,
            )  # fmt: skip
        else:
            response = await self._call(
                self.client.conversations_history, channel=target.channel,
                include_all_metadata=True, limit=RECALL_LIMIT,
            )  # fmt: skip
        parts: dict[int, str] = {}
        for found in response.get("messages") or []:
            metadata = found.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == DELIVERY_EVENT and payload.get("key") == key:
                parts.setdefault(int(payload.get("part", 0)), str(found.get("ts", "")))
        ordered: list[str] = []
        while len(ordered) in parts:  # the parts go out in order: a gap ends what is out
            ordered.append(parts[len(ordered)])
        return ordered

    async def _post_private(self, target: Target, message: Outbound) -> MessageRef:
        """Only the asker sees it: an ephemeral where they asked (a status asked in public)."""
        assert target.user is not None
        ts = ""
        for payload in text_payloads(message, self.permalink):
            response = await self._call(
                self.client.chat_postEphemeral,
                channel=target.channel,
                user=target.user,
                thread_ts=target.thread,
                **payload,
            )
            ts = str(response.get("message_ts", ""))
        return MessageRef(
            platform=self.platform, channel=target.channel, id=ts, thread=target.thread
        )

    async def _attach_rest(self, target: Target, agent: AgentBadge, rest: str) -> str:
        """The part of a result past `max_result_messages`, as a file in the thread (files
        upload v2). Nothing is shared until the last step, completeUploadExternal, so a
        failed or repeated attempt before it posts nothing; it counts as one post of the
        channel's budget."""
        name = render.rest_file_name(agent)
        data = rest.encode("utf-8")
        response = await self._call_paced(
            target.channel,
            method=self.client.files_upload_v2,
            content=data,
            filename=name,
            title=name,
            thread_ts=target.thread,
            initial_comment=escape(render.rest_attached(agent, len(rest), name)),
        )
        return str((response.get("file") or {}).get("id", ""))

    def update_wait(self) -> float:
        """Seconds until a status board edit fits the budget (0: now); spends nothing."""
        return self._updates.wait()

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        wait = self._updates.take()
        if wait > 0:
            raise DeliveryError(
                "status board edits are over budget", retry_after=wait, deferred=True
            )
        version = int(time.monotonic() * 1000) % 1_000_000
        payload = board_payload(message, version)
        await self._call(self.client.chat_update, channel=ref.channel, ts=ref.id, **payload)

    async def dm(self, user: str, message: Outbound) -> MessageRef:
        channel = self._dm_channels.get(user)
        if channel is None:  # a paced DM comes back often; open the conversation once
            opened = await self._call(self.client.conversations_open, users=user)
            channel = self._dm_channels[user] = str(opened["channel"]["id"])
        return await self.post(
            Target(platform=self.platform, channel=channel, user=user, is_dm=True), message
        )

    def permalink(self, channel: str, thread: str) -> str:
        base = self._team_url or "https://slack.com"
        return (
            f"{base}/archives/{channel}/p{thread.replace('.', '')}?thread_ts={thread}&cid={channel}"
        )

    async def _call_paced(self, channel: str, *, method: Any = None, **kwargs: Any) -> Any:
        """chat.postMessage about once per second per channel, with Slack's short bursts.

        Never waits: over budget, or inside a 429's Retry-After, it raises a deferred
        `DeliveryError` saying how long until the channel takes a post again."""
        blocked = self._channel_blocked.get(channel, 0.0) - time.monotonic()
        if blocked > 0:
            raise DeliveryError(
                f"Slack channel {channel} is rate limited", retry_after=blocked, deferred=True
            )
        budget = self._channel_budgets.get(channel)
        if budget is None:
            budget = self._channel_budgets[channel] = _Budget(
                rate=1.0 / self.post_interval, burst=POST_BURST
            )
        wait = budget.take()
        if wait > 0:
            raise DeliveryError(
                f"Slack channel {channel} is paced", retry_after=wait, deferred=True
            )
        try:
            return await self._call(
                method or self.client.chat_postMessage, channel=channel, **kwargs
            )
        except DeliveryError as exc:
            if exc.retry_after and exc.deferred:
                self._channel_blocked[channel] = time.monotonic() + exc.retry_after
            raise

    async def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except SlackRequestError as exc:  # a files upload's bytes were not taken
            raise DeliveryError(f"Slack error: {exc}", retry_after=5.0) from None
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error", "")) if response is not None else ""
            status = getattr(response, "status_code", 0)
            if status == 429 or error == "ratelimited":
                headers = getattr(response, "headers", {}) or {}
                retry_after = float(headers.get("Retry-After", headers.get("retry-after", 1)) or 1)
                raise DeliveryError(
                    f"Slack rate limit on {method.__name__}",
                    retry_after=retry_after,
                    deferred=True,
                    rate_limited=True,
                ) from None
            if error in PERMANENT_ERRORS:
                raise DeliveryError(f"Slack refused: {error}", permanent=True) from None
            raise DeliveryError(f"Slack error: {error or status}", retry_after=5.0) from None


def _attachments(event: dict[str, Any]) -> list[Attachment]:
    return [
        Attachment(
            name=str(f.get("name") or f.get("title") or "file"),
            url=f.get("url_private") or f.get("permalink"),
            mime=f.get("mimetype"),
            size=f.get("size"),
        )
        for f in event.get("files") or []
        if isinstance(f, dict)
    ]
