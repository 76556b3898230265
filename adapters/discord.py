"""Discord: Dispatch as a server bot, through discord.py.

A mention in a server channel opens a thread on that message (or uses the thread it was
sent in); everything about the request goes there. DMs are requests too. Slash commands
(/dispatch, /status, /agents, /cancel) and the status message's buttons reach the same core.
Agents speak through a channel webhook under their own name and avatar where the bot may
manage webhooks, otherwise as an embed author. discord.py's own rate-limit handling is
kept (it waits inside a send; the courier delivers threads independently, so that wait holds up
only its own thread); a send that still fails becomes a `DeliveryError`, retried from the
database, and a rate limit it hands back is a deferral, not a failed attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from adapters.base import (
    Action,
    Core,
    DeliveryError,
    StartRefused,
    Unreachable,
    connect_retrying,
)
from adapters.discord_render import (
    author_embeds,
    board_embed,
    board_view,
    content_chunks,
    file_lines,
    fit,
    parse_custom_id,
    quiet,
    relay_parts,
)
from bot import render
from bot.models import Attachment, Request
from bot.outbound import AgentBadge, MessageRef, Outbound, StatusItem, Target, record_parts
from bot.settings import Settings, split_ids

log = logging.getLogger(__name__)

WEBHOOK_NAME = "Dispatch"
READY_TIMEOUT = 30.0
NO_MENTIONS = discord.AllowedMentions.none()
# Dispatch never joins voice: the warnings that voice libraries are missing are noise on
# every start (and the line a failed start prints should stand alone).
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False
_ORIGINAL_BASE = discord.http.Route.BASE
_ORIGINAL_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


class DiscordConfigError(ValueError):
    """Discord settings that cannot work; the message says what to set."""


def check_settings(settings: Settings) -> None:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise DiscordConfigError(
            "Discord needs DISCORD_TOKEN (Developer Portal → your application → Bot → Reset Token)."
        )


def point_at(api_url: str | None, gateway_url: str | None) -> None:
    """Override discord.py's REST and gateway base URLs (process-wide), for proxies and tests."""
    discord.http.Route.BASE = api_url.rstrip("/") if api_url else _ORIGINAL_BASE
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
        yarl.URL(gateway_url) if gateway_url else _ORIGINAL_GATEWAY
    )


class DiscordAdapter:
    platform = "discord"

    def __init__(self, settings: Settings, *, guild_ready_timeout: float = 2.0) -> None:
        check_settings(settings)
        self.guild_ready_timeout = guild_ready_timeout
        self.settings = settings
        self.allowed_guilds = split_ids(settings.discord_allowed_guilds)
        self.allowed_channels = split_ids(settings.discord_allowed_channels)
        self.allowed_roles = split_ids(settings.discord_allowed_roles)
        self.allowed_users = split_ids(settings.discord_allowed_users)
        self.message_content = settings.discord_message_content
        self.client: discord.Client | None = None
        self.tree: app_commands.CommandTree[discord.Client] | None = None
        self._core: Core | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._webhooks: dict[int, discord.Webhook | None] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, core: Core) -> None:
        self._core = core
        await self._retrying(self._connect_once)

    async def open(self, core: Core) -> None:
        """With replicas: sign in for posting (REST) only. The gateway, which Discord allows
        one bot connection of and which brings messages and slash commands, is opened by
        `connect_gateway` on the replica that holds the election."""
        self._core = core
        await self._retrying(self._login_once)

    async def connect_gateway(self) -> None:
        """Take in messages and interactions here; posting goes on through the new client."""
        rest = self.client
        await self._retrying(self._connect_once)
        if rest is not None and rest is not self.client:
            await rest.close()

    async def disconnect_gateway(self) -> None:
        """Another replica takes the gateway: close ours first (two would both take in every
        message), then sign in again for posting only."""
        if self.client is not None:
            await self._close_client(self.client)
        await self._retrying(self._login_once)

    async def _retrying(self, attempt: Callable[[], Awaitable[None]]) -> None:
        point_at(self.settings.discord_api_url, self.settings.discord_gateway_url)
        override = self.settings.discord_api_url
        await connect_retrying(
            f"Discord at {override or _ORIGINAL_BASE}",
            attempt,
            check="DISPATCH_DISCORD_API_URL" if override else "any proxy settings",
        )

    async def _close_client(self, client: discord.Client) -> None:
        await client.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None

    async def _login_once(self) -> None:
        client = discord.Client(intents=discord.Intents(guilds=True), allowed_mentions=NO_MENTIONS)
        assert self.settings.discord_token is not None
        with self._start_errors():
            try:
                await client.login(self.settings.discord_token.get_secret_value())
            except BaseException:
                await client.close()
                raise
        self.client = client
        self._webhooks = {}  # bound to the client that fetched them

    async def _connect_once(self) -> None:
        """One attempt: a rejected token is `StartRefused`, a network failure `Unreachable`."""
        with self._start_errors():
            await self._connect_with_intents()

    @contextlib.contextmanager
    def _start_errors(self) -> Iterator[None]:
        try:
            yield
        except discord.LoginFailure as exc:
            raise StartRefused(
                f"Discord rejected DISCORD_TOKEN ({exc}): reset it under Developer Portal →"
                " your application → Bot → Reset Token, and set the new one"
            ) from None
        except discord.HTTPException as exc:
            if exc.status < 500:
                raise StartRefused(f"Discord refused to start: {exc.status} {exc.text}") from None
            raise Unreachable(f"{exc.status} {exc.text}") from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # the gateway's "Authentication failed"
                raise StartRefused(
                    "Discord's gateway rejected DISCORD_TOKEN (4004): reset it under Developer"
                    " Portal → your application → Bot → Reset Token, and set the new one"
                ) from None
            raise Unreachable(f"gateway closed with {exc.code}") from None
        except (discord.GatewayNotFound, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise Unreachable(str(exc) or type(exc).__name__) from None

    async def _connect_with_intents(self) -> None:
        try:
            await self._connect(self.message_content)
        except discord.PrivilegedIntentsRequired:
            log.warning(
                "Discord refused the message_content intent. Enable it under Developer Portal →"
                " Bot → Privileged Gateway Intents. Running without it: mentions, DMs and slash"
                " commands still work; plain thread replies without a mention cannot be read."
            )
            await self._connect(False)

    async def _connect(self, message_content: bool) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        client = discord.Client(
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=self.guild_ready_timeout,
        )
        tree = app_commands.CommandTree(client)
        self._ready = asyncio.Event()
        self._register(client, tree)
        assert self.settings.discord_token is not None
        try:  # signed in before it is the client posts go through
            await client.login(self.settings.discord_token.get_secret_value())
        except BaseException:
            await client.close()
            raise
        previous = self.client  # a client signed in for posting only, with replicas
        self.client, self.tree, self._webhooks = client, tree, {}
        self._runner = runner = asyncio.create_task(client.connect(reconnect=True))
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {runner, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            self.client, self._runner = previous, None
            await client.close()
            if runner in done:
                runner.result()  # re-raise why the connection ended
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            raise DiscordConfigError(
                "Discord did not become ready in time; check DISCORD_TOKEN and the network"
            )
        await self._sync_commands()

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        self._runner = None
        self._core = None
        point_at(None, None)

    async def _sync_commands(self) -> None:
        """Sync slash commands only when they differ from what Discord already has."""
        assert self.tree is not None
        try:
            existing = {(c.name, c.description) for c in await self.tree.fetch_commands()}
            wanted = {(c.name, getattr(c, "description", "")) for c in self.tree.get_commands()}
            if existing != wanted:
                await self.tree.sync()
                log.info("Discord slash commands synced")
        except discord.HTTPException as exc:
            log.warning("could not sync Discord slash commands: %s", exc)

    # -- inbound ------------------------------------------------------------------------------

    def _register(
        self, client: discord.Client, tree: app_commands.CommandTree[discord.Client]
    ) -> None:
        @client.event
        async def on_ready() -> None:
            self._ready.set()

        @client.event
        async def on_message(message: discord.Message) -> None:
            await self._on_message(message)

        @client.event
        async def on_interaction(interaction: discord.Interaction) -> None:
            if interaction.type == discord.InteractionType.component:
                await self._on_button(interaction)

        @tree.command(name="dispatch", description="Send a request to Dispatch")
        @app_commands.describe(request="What needs doing, in your own words")
        async def dispatch_command(interaction: discord.Interaction, request: str) -> None:
            if await self._admitted(interaction):
                await self._on_slash_dispatch(interaction, request)

        @tree.command(name="status", description="What's in flight for you (only you see this)")
        async def status_command(interaction: discord.Interaction) -> None:
            assert self._core is not None
            if not await self._admitted(interaction):
                return
            text, items = await self._core.status_for(self.platform, str(interaction.user.id))
            await interaction.response.send_message(
                fit(quiet(self._status_text(text, items)), 2000),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )

        @tree.command(name="agents", description="Who can do what")
        @app_commands.describe(query="Optional: what you need done")
        async def agents_command(
            interaction: discord.Interaction, query: str | None = None
        ) -> None:
            assert self._core is not None
            if not await self._admitted(interaction):
                return
            text = await self._core.roster(query)
            await interaction.response.send_message(
                fit(quiet(text), 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

        @tree.command(name="cancel", description="Cancel your request or task")
        @app_commands.describe(what="'all', words naming the task, or a request/task id")
        async def cancel_command(interaction: discord.Interaction, what: str = "all") -> None:
            assert self._core is not None
            if not await self._admitted(interaction):
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            text = await self._core.cancel_for(self.platform, str(interaction.user.id), what)
            await interaction.followup.send(
                fit(quiet(text), 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    async def _admitted(self, interaction: discord.Interaction) -> bool:
        """Slash commands and buttons pass the same allowlists as messages; a refusal is
        ephemeral, so only the presser sees it."""
        refusal = await self._refusal(
            interaction.user, interaction.guild_id, interaction.channel, interaction.channel_id
        )
        if refusal is None:
            return True
        await interaction.response.send_message(
            refusal, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False

    def _mentioned(self, message: discord.Message) -> bool:
        assert self.client is not None and self.client.user is not None
        me = self.client.user.id
        return any(user.id == me for user in message.mentions) or f"<@{me}>" in message.content

    def _strip(self, text: str) -> str:
        assert self.client is not None and self.client.user is not None
        return re.sub(rf"<@!?{self.client.user.id}>", "", text).strip()

    async def _on_message(self, message: discord.Message) -> None:
        if self._core is None or self.client is None or self.client.user is None:
            return
        if message.author.id == self.client.user.id or message.webhook_id is not None:
            return  # ourselves, including what agents said through our webhook
        if message.author.bot and not self.settings.discord_allow_bots:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        mentioned = self._mentioned(message)
        text = self._strip(message.content)
        if message.guild is None:
            channel = str(message.channel.id)
            thread = await self._dm_thread(message, channel)
            workspace = ""
        elif isinstance(message.channel, discord.Thread):
            channel = str(message.channel.parent_id)
            thread = str(message.channel.id)
            workspace = str(message.guild.id)
            if not mentioned and not await self._core.knows_thread(
                self.platform, workspace, channel, thread
            ):
                return
        else:
            if not mentioned:
                return
            channel = str(message.channel.id)
            workspace = str(message.guild.id)
            thread = None
        if not text and not message.attachments:
            return  # without message_content, unmentioned text arrives empty: nothing to route
        refusal = await self._refusal(
            message.author, message.guild.id if message.guild else None, message.channel
        )
        if refusal:
            with contextlib.suppress(discord.HTTPException):
                await message.reply(refusal, mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        if message.guild is not None and thread is None:
            thread = await self._open_thread(message, text)
        request = Request(
            platform=self.platform,
            workspace=workspace,
            channel=channel,
            thread=thread if thread != str(message.id) else None,
            message_id=str(message.id),
            user=str(message.author.id),
            user_name=message.author.display_name,
            text=text,
            is_dm=message.guild is None,
            attachments=tuple(
                Attachment(name=a.filename, url=a.url, mime=a.content_type, size=a.size)
                for a in message.attachments
            ),
            raw=message,
        )
        await self._core.receive(request)

    async def _dm_thread(self, message: discord.Message, channel: str) -> str | None:
        """DMs have no threads: a reply names its thread, else an open question claims it."""
        assert self._core is not None
        reference = message.reference.message_id if message.reference else None
        if reference is not None:
            found = await self._core.thread_for_reply(self.platform, channel, str(reference))
            return found or str(reference)
        return await self._core.open_question_thread(self.platform, channel, str(message.author.id))

    async def _open_thread(self, message: discord.Message, text: str) -> str | None:
        """A thread on the mention; its id is the message id. None if we may not create one."""
        title = fit(" ".join(text.split()) or "Dispatch request", 90)
        try:
            thread = await message.create_thread(name=title, auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.info("cannot open a thread here (%s); replying in the channel", exc)
            return None
        return str(thread.id)

    async def _refusal(
        self,
        author: discord.User | discord.Member,
        guild_id: int | None,
        channel: Any,
        channel_id: int | None = None,
    ) -> str | None:
        """The one allowlist check, for every way in: mentions, DMs, thread replies, slash
        commands and buttons. A thread counts as its parent channel. A DM has no server and
        no roles of its own: with a guild or role list set, its sender must be a member of
        an allowed server (holding an allowed role), else it is refused."""
        if self.allowed_users and str(author.id) not in self.allowed_users:
            return render.NOT_ON_THE_LIST
        if guild_id is None:
            if (self.allowed_guilds or self.allowed_roles) and not await self._member_elsewhere(
                author.id
            ):
                return render.DM_NOT_A_MEMBER
            return None
        if self.allowed_guilds and str(guild_id) not in self.allowed_guilds:
            return render.NOT_IN_THIS_SERVER
        parent = channel.parent_id if isinstance(channel, discord.Thread) else None
        where = parent or getattr(channel, "id", None) or channel_id
        if self.allowed_channels and str(where) not in self.allowed_channels:
            return render.NOT_IN_THIS_CHANNEL
        if self.allowed_roles and not self._has_role(author):
            return render.ROLES_MISSING
        return None

    def _has_role(self, member: discord.User | discord.Member) -> bool:
        roles = {str(role.id) for role in getattr(member, "roles", [])}
        return bool(roles & self.allowed_roles)

    async def _member_elsewhere(self, user_id: int) -> bool:
        """Whether a DM's sender is a member of an allowed server, with an allowed role if
        roles are listed. Asked of Discord when the member is not cached; any doubt refuses."""
        assert self.client is not None
        for guild in self.client.guilds:
            if self.allowed_guilds and str(guild.id) not in self.allowed_guilds:
                continue
            member = guild.get_member(user_id)
            if member is None:
                try:
                    member = await guild.fetch_member(user_id)
                except discord.HTTPException:
                    continue
            if not self.allowed_roles or self._has_role(member):
                return True
        return False

    async def _on_slash_dispatch(self, interaction: discord.Interaction, text: str) -> None:
        """Deferred at once (Discord allows 3 s), then followed up in a thread of its own."""
        assert self._core is not None
        await interaction.response.defer(thinking=True)
        user = interaction.user
        starter = await interaction.followup.send(
            fit(f"**{user.display_name}** asked: {text}", 2000),
            wait=True,
            allowed_mentions=NO_MENTIONS,
        )
        guild = interaction.guild
        channel_id = str(interaction.channel_id)
        thread: str | None = None
        if guild is not None and isinstance(interaction.channel, discord.TextChannel):
            # The followup is a webhook message without guild info: open the thread through
            # the channel instead of the message.
            try:
                opened = await interaction.channel.create_thread(
                    name=fit(" ".join(text.split()), 90),
                    message=starter,
                    auto_archive_duration=1440,
                )
                thread = str(opened.id)
            except discord.HTTPException as exc:
                log.info("cannot open a thread for /dispatch (%s); replying in the channel", exc)
        request = Request(
            platform=self.platform,
            workspace=str(guild.id) if guild else "",
            channel=channel_id,
            thread=thread or str(starter.id),
            message_id=f"slash-{interaction.id}",
            user=str(user.id),
            user_name=user.display_name,
            text=text,
            is_dm=guild is None,
            raw=interaction,
        )
        await self._core.receive(request)

    async def _on_button(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        parsed = parse_custom_id(str(data.get("custom_id", "")))
        if parsed is None or self._core is None or not await self._admitted(interaction):
            return
        kind, target = parsed
        reply = await self._core.act(
            Action(
                platform=self.platform,
                workspace=str(interaction.guild_id or ""),
                user=str(interaction.user.id),
                kind=kind,  # type: ignore[arg-type]
                target=target,
            )
        )
        await interaction.response.send_message(
            fit(quiet(reply), 2000), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # -- outbound -----------------------------------------------------------------------------

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        if target.private and target.user and not target.is_dm:
            # Only the asker may see it, and without an interaction there is no ephemeral:
            # a DM. If their DMs are closed, the channel learns only where to ask instead.
            try:
                return await self.dm(target.user, message)
            except DeliveryError as exc:
                if not exc.permanent:
                    raise
            pointer = Outbound(kind="notice", text=render.STATUS_USE_SLASH)
            return await self.post(target.model_copy(update={"private": False}), pointer)
        async with self._errors():
            destination, reference = await self._destination(target)
            if message.kind == "ack" and message.board is not None:
                sent = await destination.send(
                    fit(quiet(message.text), 2000),
                    embed=board_embed(message.board),
                    view=board_view(message.board),
                    reference=reference,
                    mention_author=False,
                    allowed_mentions=NO_MENTIONS,
                )
            elif message.kind in ("result", "question") and message.agent is not None:
                channel, last_id = await self._relay(destination, reference, message)
                return MessageRef(
                    platform=self.platform,
                    channel=str(channel),
                    id=str(last_id),
                    thread=target.thread,
                )
            else:
                text = (
                    self._status_text(message.text, message.items)
                    if message.items
                    else message.text
                )
                sent = None
                for chunk in content_chunks(message.model_copy(update={"text": text})):
                    sent = await destination.send(
                        chunk,
                        reference=reference,
                        mention_author=False,
                        allowed_mentions=NO_MENTIONS,
                    )
            assert sent is not None
            return MessageRef(
                platform=self.platform,
                channel=str(sent.channel.id),
                id=str(sent.id),
                thread=target.thread,
            )

    async def _relay(
        self, destination: Any, reference: discord.MessageReference | None, message: Outbound
    ) -> tuple[int, int]:
        """Word for word, under the agent's own name: a webhook if allowed, else embeds.
        Returns the channel and id of the last part. Parts already out before a restart
        (`message.posted`) are skipped, and each part out is put on record."""
        assert message.agent is not None
        agent = message.agent
        webhook = await self._webhook(destination)
        parts: list[Callable[[], Awaitable[discord.Message]]] = []
        if webhook is not None:
            hook = webhook
            thread = (
                destination if isinstance(destination, discord.Thread) else discord.utils.MISSING
            )
            icon = agent.icon if agent.icon and agent.icon.startswith("http") else None
            head, last, rest = relay_parts(message, self.settings.max_result_messages)
            for index, chunk in enumerate([*head, last] if last else head):
                parts.append(
                    functools.partial(
                        hook.send,
                        chunk,
                        username=fit(f"{agent.emoji} {agent.name}", 80),
                        avatar_url=icon or discord.utils.MISSING,
                        thread=thread,
                        wait=True,
                        allowed_mentions=NO_MENTIONS,
                        file=self._rest_file(agent, rest, index == len(head)),
                    )
                )
        else:
            embeds = author_embeds(agent, message.text)
            last, rest = "", ""
            if len(embeds) > self.settings.max_result_messages:
                head, last, rest = relay_parts(message, self.settings.max_result_messages)
                embeds = [e for chunk in head for e in author_embeds(agent, chunk)]
            for index, embed in enumerate(embeds):
                files = file_lines(message) if index == len(embeds) - 1 and not last else []
                for name, url in files:
                    if url:
                        embed.add_field(
                            name=f"📎 {fit(name, 250)}", value=fit(url, 1024), inline=False
                        )
                parts.append(
                    functools.partial(
                        destination.send,
                        embed=embed,
                        reference=reference,
                        mention_author=False,
                        allowed_mentions=NO_MENTIONS,
                    )
                )
            if last:
                parts.append(
                    functools.partial(
                        destination.send,
                        last,
                        reference=reference,
                        mention_author=False,
                        allowed_mentions=NO_MENTIONS,
                        file=self._rest_file(agent, rest, True),
                    )
                )
        done = list(message.posted)
        record = record_parts.get() if len(parts) > 1 else None
        channel = int(destination.id)
        for index, send in enumerate(parts):
            if index < len(done):
                continue
            sent = await send()
            channel = sent.channel.id
            done.append(str(sent.id))
            if record is not None and index < len(parts) - 1:
                await record(done)
        return channel, int(done[-1])

    @staticmethod
    def _rest_file(agent: AgentBadge, rest: str, here: bool) -> discord.File:
        """The part of a result past `max_result_messages`, as an attachment on the last
        message (MISSING, discord.py's "no file", on every other message)."""
        if not (rest and here):
            return discord.utils.MISSING
        data = io.BytesIO(rest.encode("utf-8"))
        return discord.File(data, filename=render.rest_file_name(agent))

    async def _webhook(self, destination: Any) -> discord.Webhook | None:
        parent = destination.parent if isinstance(destination, discord.Thread) else destination
        if parent is None and isinstance(destination, discord.Thread):
            # Without the gateway (another replica holds it) nothing is cached: ask Discord.
            assert self.client is not None
            with contextlib.suppress(discord.HTTPException):
                parent = await self.client.fetch_channel(destination.parent_id)
        if not isinstance(parent, discord.TextChannel):
            return None  # DMs and other channel types: embeds
        if parent.id in self._webhooks:
            return self._webhooks[parent.id]
        me = parent.guild.me
        hook: discord.Webhook | None = None
        # Without the gateway's member list our permissions are unknown: asking is the test.
        if me is None or parent.permissions_for(me).manage_webhooks:
            try:
                hooks = await parent.webhooks()
                hook = next((h for h in hooks if h.name == WEBHOOK_NAME and h.token), None)
                if hook is None:
                    hook = await parent.create_webhook(
                        name=WEBHOOK_NAME, reason="Dispatch relays agent results"
                    )
            except discord.HTTPException as exc:
                log.info("no webhook in #%s (%s); agents will speak as embeds", parent.name, exc)
                hook = None
        self._webhooks[parent.id] = hook
        return hook

    async def _destination(self, target: Target) -> tuple[Any, discord.MessageReference | None]:
        """The thread channel if there is one, else the channel with a reply reference."""
        assert self.client is not None
        if target.thread and not target.is_dm:
            channel = self.client.get_channel(int(target.thread))
            if channel is None:
                with contextlib.suppress(discord.NotFound, discord.Forbidden):
                    channel = await self.client.fetch_channel(int(target.thread))
            if channel is not None:
                return channel, None
        channel = self.client.get_channel(int(target.channel)) or await self.client.fetch_channel(
            int(target.channel)
        )
        reference = None
        if target.thread:
            reference = discord.MessageReference(
                message_id=int(target.thread),
                channel_id=int(target.channel),
                fail_if_not_exists=False,
            )
        return channel, reference

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        assert self.client is not None
        async with self._errors():
            partial = self.client.get_partial_messageable(int(ref.channel)).get_partial_message(
                int(ref.id)
            )
            board = message.board
            await partial.edit(
                content=fit(quiet(message.text), 2000),
                embed=board_embed(board) if board else None,
                view=board_view(board) if board else None,
                allowed_mentions=NO_MENTIONS,
            )

    async def dm(self, user: str, message: Outbound) -> MessageRef:
        assert self.client is not None
        async with self._errors():
            person = self.client.get_user(int(user)) or await self.client.fetch_user(int(user))
            channel = await person.create_dm()
        return await self.post(
            Target(platform=self.platform, channel=str(channel.id), user=user, is_dm=True), message
        )

    def _status_text(self, text: str, items: list[StatusItem]) -> str:
        if not items:
            return text
        lines = [text.split("\n", 1)[0]]
        for item in items:
            where = "@me" if item.is_dm else item.workspace
            link = f"https://discord.com/channels/{where}/{item.thread}"
            lines.append(f"• {item.line} · <{link}>")
        return "\n".join(lines)

    @contextlib.asynccontextmanager
    async def _errors(self) -> Any:
        try:
            yield
        except discord.RateLimited as exc:  # a wait longer than discord.py would sleep
            raise DeliveryError(
                "Discord rate limit", retry_after=exc.retry_after, deferred=True, rate_limited=True
            ) from None
        except (discord.Forbidden, discord.NotFound) as exc:
            raise DeliveryError(
                f"Discord refused: {exc.status} {exc.text}", permanent=True
            ) from None
        except discord.HTTPException as exc:
            retry = 5.0 if exc.status >= 500 or exc.status == 429 else 30.0
            raise DeliveryError(
                f"Discord error {exc.status}: {exc.text}",
                retry_after=retry,
                deferred=exc.status == 429,
                rate_limited=exc.status == 429,
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"Discord unreachable: {exc}", retry_after=5.0) from None
