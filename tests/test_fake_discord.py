"""The Discord fake (tests/fakes/discord.py) against the real discord.py client and CommandTree."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands

from tests.fakes.discord import EPHEMERAL, INTENT_MESSAGE_CONTENT, FakeDiscord, StoredMessage

T = TypeVar("T")
TOKEN = "fake-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with server.patched():
            yield server


def make_client(*, message_content: bool = True, **options: Any) -> discord.Client:
    """A real client that reaches on_ready 50 ms after GUILD_CREATE (not the default 2 s)."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    return discord.Client(intents=intents, guild_ready_timeout=0.05, **options)


@contextlib.asynccontextmanager
async def connected(
    client: discord.Client, tree: app_commands.CommandTree[Any] | None = None
) -> AsyncIterator[list[BaseException]]:
    """Start `client` against the fake, wait for on_ready, close it cleanly afterwards.

    Yields the list that collects exceptions raised in event, command and view handlers
    (discord.py would only log them); the first one is re-raised on exit.
    """
    errors: list[BaseException] = []

    async def on_error(event: str, /, *args: Any, **kwargs: Any) -> None:
        errors.append(sys.exc_info()[1] or RuntimeError(f"error in {event}"))

    async def on_tree_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        errors.append(error)

    client.on_error = on_error  # type: ignore[method-assign]
    if tree is not None:
        tree.on_error = on_tree_error  # type: ignore[method-assign]
    task = asyncio.create_task(client.start(TOKEN))
    try:
        async with asyncio.timeout(5):
            while not client.is_ready():
                if task.done():
                    task.result()
                    raise RuntimeError("client stopped before on_ready")
                await asyncio.sleep(0.01)
        yield errors
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)
    if errors:
        raise errors[0]


async def until(
    fake: FakeDiscord, errors: list[BaseException], predicate: Callable[[], T | None]
) -> T:
    """`fake.wait_for`, failing at once if a handler raised."""

    def check() -> T | None:
        if errors:
            raise errors[0]
        return predicate()

    return await fake.wait_for(check, timeout=5)


def text_channel(client: discord.Client, fake: FakeDiscord, name: str) -> discord.TextChannel:
    channel = client.get_channel(fake.channel_id(name))
    assert isinstance(channel, discord.TextChannel)
    return channel


# ------------------------------------------------------------------------- connection


def test_patched_points_discord_py_at_the_fake_and_restores() -> None:
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fake = FakeDiscord()
    with fake.patched():
        assert discord.http.Route.BASE == fake.rest_base
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
        assert discord.http.Route("GET", "/users/@me").url == f"{fake.rest_base}/users/@me"
    assert discord.http.Route.BASE == base
    assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == gateway


async def test_login_gateway_and_guild_state(fake: FakeDiscord) -> None:
    client = make_client()
    async with connected(client):
        assert [(c.method, c.path) for c in fake.calls] == [
            ("GET", "/users/@me"),
            ("GET", "/oauth2/applications/@me"),
        ]
        assert all(c.token == TOKEN for c in fake.calls)
        assert client.user is not None and client.user.id == fake.bot_id
        assert client.user.name == "Dispatch" and client.user.bot
        assert client.application_id == fake.application_id

        session = fake.sessions[0]
        assert session.intents == client.intents.value
        assert client.intents.message_content and session.intents & INTENT_MESSAGE_CONTENT
        assert fake.gateway_queries[0]["v"] == "10"
        assert fake.gateway_queries[0]["encoding"] == "json"
        assert [f["t"] for f in session.sent] == ["READY", "GUILD_CREATE"]

        guild = client.get_guild(fake.guild_id)
        assert guild is not None and guild.name == "Dispatch HQ"
        assert guild.owner_id == int(fake.owner["id"])
        assert {c.name for c in guild.text_channels} == {"general", "design"}
        assert {r.name for r in guild.roles} >= {"@everyone", "Admin", "Member", "Dispatch"}
        assert guild.me.guild_permissions.manage_webhooks
        assert guild.me.guild_permissions.create_public_threads
        # Without the members intent Discord only sends the bot's own member.
        assert [m.id for m in guild.members] == [fake.bot_id]


async def test_message_reply_edit_thread_and_dm(fake: FakeDiscord) -> None:
    client = make_client()
    seen: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author == client.user or message.webhook_id:
            return
        seen.append(message)
        if isinstance(message.channel, discord.Thread):
            return
        if message.guild is None:
            await message.channel.send("got your DM")
            return
        reply = await message.reply("on it", mention_author=False)
        await reply.edit(content="done", embed=discord.Embed(title="Logo", description="v1"))
        thread = await message.create_thread(name="Logo work", auto_archive_duration=1440)
        await thread.send("progress: 50%")

    async with connected(client) as errors:
        pushed = await fake.message_create(
            f"{fake.mention('bot')} design a logo", author="bob", channel="general"
        )
        await until(fake, errors, lambda: fake.threads and fake.messages_in(fake.threads[0]))

        incoming = seen[0]
        assert incoming.id == int(pushed["id"])
        assert incoming.content.endswith("design a logo")
        assert incoming.author.name == "bob" and isinstance(incoming.author, discord.Member)
        assert client.user in incoming.mentions
        assert incoming.guild is not None and incoming.channel.name == "general"  # type: ignore[union-attr]

        reply = fake.messages_in("general")[0]
        assert reply.reply_to == incoming.id
        assert reply.body["allowed_mentions"]["replied_user"] is False
        assert reply.content == "done" and reply.embeds[0]["title"] == "Logo"
        assert [e.get("content") for e in reply.edits] == ["done"]
        assert fake.calls_to("PATCH", "/channels/{channel_id}/messages/{message_id}")

        thread_json = fake.threads[0]
        assert int(thread_json["id"]) == incoming.id  # a thread from a message has its id
        assert thread_json["parent_id"] == pushed["channel_id"]
        [in_thread] = fake.messages_in(thread_json)
        assert in_thread.content == "progress: 50%"
        thread = client.get_channel(incoming.id)  # known through THREAD_CREATE
        assert isinstance(thread, discord.Thread) and thread.name == "Logo work"
        fetched = await client.fetch_channel(thread.id)  # GET /channels/{id}
        assert isinstance(fetched, discord.Thread) and fetched.parent_id == int(
            pushed["channel_id"]
        )

        # A thread without a starter message gets a fresh id.
        general = text_channel(client, fake, "general")
        loose = await general.create_thread(
            name="Standalone", type=discord.ChannelType.public_thread
        )
        assert loose.id != incoming.id and loose.type is discord.ChannelType.public_thread
        assert fake.calls_to("POST", "/channels/{channel_id}/threads")[0].json["type"] == 11
        await loose.send("in the standalone thread")
        assert fake.messages_in(loose.id)[0].content == "in the standalone thread"

        # A user posting in that thread reaches on_message with a Thread channel.
        await fake.message_create("also a favicon", author="bob", thread=thread_json["id"])
        await until(fake, errors, lambda: len(seen) > 1)
        assert isinstance(seen[1].channel, discord.Thread)
        assert seen[1].channel.id == incoming.id

        # DMs: the bot opens one, a user writes in one.
        bob = await client.fetch_user(int(fake.user("bob")["id"]))
        await bob.send("hello bob")
        assert fake.calls_to("POST", "/users/@me/channels")[0].json == {"recipient_id": bob.id}
        dm = fake.dm_channel("bob")
        assert [m.content for m in fake.messages_in(dm)] == ["hello bob"]
        await fake.message_create("status?", author="bob", guild=False)
        await until(fake, errors, lambda: len(fake.messages_in(dm)) == 2)
        assert seen[-1].guild is None and isinstance(seen[-1].channel, discord.DMChannel)


async def test_webhook_send_with_username_and_fallback(fake: FakeDiscord) -> None:
    client = make_client()
    webhook_messages: list[discord.Message] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.webhook_id:
            webhook_messages.append(message)

    async with connected(client) as errors:
        general = text_channel(client, fake, "general")
        assert await general.webhooks() == []
        hook = await general.create_webhook(name="Dispatch relay")
        assert [w.id for w in await general.webhooks()] == [hook.id]
        starter = await general.send("Task #1")
        thread = await starter.create_thread(name="Task #1")
        sent = await hook.send(
            "Here is the logo",
            username="Designer",
            avatar_url="https://example.com/designer.png",
            thread=thread,
            wait=True,
        )
        assert sent.author.name == "Designer" and sent.webhook_id == hook.id
        stored = fake.find_message(sent.id)
        assert stored is not None and stored.via == "webhook"
        assert (stored.username, stored.avatar_url) == (
            "Designer",
            "https://example.com/designer.png",
        )
        assert stored.channel_id == thread.id and stored.webhook_id == hook.id
        call = fake.calls_to("POST", "/webhooks/{webhook_id}/{token}")[0]
        assert call.query == {"wait": "1", "with_components": "0", "thread_id": str(thread.id)}
        await until(fake, errors, lambda: webhook_messages)
        assert webhook_messages[0].author.name == "Designer"

        # Webhook executions are rate limited (and retried) like the bot's own requests.
        fake.rate_limit("POST /webhooks/{webhook_id}/{token}", times=1, retry_after=0.05)
        again = await hook.send("Second version", username="Designer", wait=True)
        statuses = [c.status for c in fake.calls_to("POST", "/webhooks/*/*")]
        assert statuses == [200, 429, 200]
        assert [m.id for m in fake.messages_in(general) if m.via == "webhook"] == [again.id]

        # Without MANAGE_WEBHOOKS the client can tell, and the API refuses (use embeds then).
        fake.set_manage_webhooks(False)
        design = text_channel(client, fake, "design")
        with pytest.raises(discord.Forbidden) as refused:
            await design.create_webhook(name="Dispatch relay")
        assert refused.value.code == 50013
        with pytest.raises(discord.Forbidden):
            await design.webhooks()


async def test_manage_webhooks_off_is_visible_in_permissions() -> None:
    async with FakeDiscord(manage_webhooks=False) as fake:
        with fake.patched():
            client = make_client()
            async with connected(client):
                general = text_channel(client, fake, "general")
                perms = general.permissions_for(general.guild.me)
                assert not perms.manage_webhooks
                assert perms.send_messages and perms.embed_links


async def test_files_go_multipart_and_attachments_can_be_read(fake: FakeDiscord) -> None:
    client = make_client()
    read: list[bytes] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.attachments and message.author != client.user:
            read.append(await message.attachments[0].read())
            await message.channel.send("report", file=discord.File(io.BytesIO(b"# done"), "r.md"))

    async with connected(client) as errors:
        await fake.message_create(
            "see brief",
            author="bob",
            attachments=[{"filename": "brief.txt", "content_type": "text/plain", "data": b"hi"}],
        )
        sent = await until(fake, errors, lambda: fake.messages_in("general"))
        assert read == [b"hi"]
        assert sent[0].content == "report" and sent[0].files == {"r.md": b"# done"}
        assert sent[0].attachments[0]["filename"] == "r.md"
        assert fake.calls_to("POST", "/channels/*/messages")[0].files == ("r.md",)


# ------------------------------------------------------------------------ interactions


async def test_slash_command_synced_deferred_then_followed_up(fake: FakeDiscord) -> None:
    client = make_client()
    tree = app_commands.CommandTree(client)
    received: list[tuple[str, int]] = []

    @tree.command(name="task", description="Give Dispatch a task")
    async def task(interaction: discord.Interaction, text: str, priority: int = 1) -> None:
        received.append((text, priority))
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"Queued: {text}")
        await interaction.followup.send("Details", ephemeral=True)

    async with connected(client, tree) as errors:
        synced = await tree.sync()
        assert [c.name for c in synced] == ["task"]
        [put] = fake.calls_to("PUT", "/applications/{app_id}/commands")
        assert put.path == f"/applications/{fake.application_id}/commands"
        assert put.json[0]["options"][0]["name"] == "text"
        await tree.sync(guild=discord.Object(fake.guild_id))
        assert fake.calls_to("PUT", "/applications/*/guilds/*/commands")

        interaction = await fake.interaction_create_command(
            "task", {"text": "new logo", "priority": 2}, user="bob"
        )
        assert interaction["data"]["id"] == fake.command("task")["id"]  # type: ignore[index]
        iid = int(interaction["id"])
        await until(fake, errors, lambda: len(fake.followups.get(iid, [])) == 2)

        assert received == [("new logo", 2)]
        assert [r["type"] for r in fake.interaction_responses[iid]] == [5]
        assert [f["content"] for f in fake.followups[iid]] == ["Queued: new logo", "Details"]
        callback = fake.calls_to("POST", "/interactions/{interaction_id}/{token}/callback")[0]
        assert callback.query == {"with_response": "1"}
        assert callback.status == 200
        # The first followup after a defer resolves the "thinking" message itself.
        original, extra = [m for m in fake.messages if m.interaction_id == iid]
        assert original.via == "interaction" and not original.loading
        assert original.content == "Queued: new logo" and original.type == 20
        assert extra.via == "followup" and extra.ephemeral


async def test_interaction_acknowledged_too_late_is_unknown(fake: FakeDiscord) -> None:
    fake.ack_deadline = 0.05  # Discord allows 3 s
    client = make_client()
    tree = app_commands.CommandTree(client)
    failures: list[BaseException] = []

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.1)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            failures.append(exc)

    async with connected(client, tree) as errors:
        await fake.interaction_create_command("slow")
        await until(fake, errors, lambda: failures)
        assert isinstance(failures[0], discord.NotFound) and failures[0].code == 10062
        assert fake.messages == []


async def test_button_interactions_ephemeral_and_update(fake: FakeDiscord) -> None:
    client = make_client()
    errors_in_views: list[BaseException] = []

    class TaskView(discord.ui.View):
        async def on_error(
            self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
        ) -> None:
            errors_in_views.append(error)

        @discord.ui.button(label="Status", custom_id="task:status")
        async def status(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            await interaction.response.send_message("Running: 2 tasks", ephemeral=True)

        @discord.ui.button(
            label="Cancel", custom_id="task:cancel", style=discord.ButtonStyle.danger
        )
        async def cancel(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            await interaction.response.edit_message(content="Task #1 cancelled", view=None)

    async with connected(client) as errors:
        general = text_channel(client, fake, "general")
        board = await general.send("Task #1: running", view=TaskView(timeout=None))
        stored = fake.find_message(board.id)
        assert stored is not None
        buttons = stored.components[0]["components"]
        assert [b["custom_id"] for b in buttons] == ["task:status", "task:cancel"]

        click = await fake.interaction_create_component("task:status", message=stored, user="bob")
        iid = int(click["id"])
        ephemeral: StoredMessage = await until(
            fake, errors, lambda: next((m for m in fake.messages if m.interaction_id == iid), None)
        )
        assert fake.interaction_responses[iid][0]["type"] == 4
        assert fake.interaction_responses[iid][0]["data"]["flags"] == EPHEMERAL
        assert ephemeral.ephemeral and ephemeral.content == "Running: 2 tasks"

        click = await fake.interaction_create_component("task:cancel", message=board.id)
        iid = int(click["id"])
        await until(fake, errors, lambda: stored.edits)
        assert [r["type"] for r in fake.interaction_responses[iid]] == [7]
        assert stored.content == "Task #1 cancelled" and stored.components == []
        assert not errors_in_views


# --------------------------------------------------------------------- resilience


async def test_reconnect_resumes_and_replayed_message_is_delivered_again(
    fake: FakeDiscord,
) -> None:
    client = make_client()
    seen: list[int] = []
    resumed = asyncio.Event()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author != client.user:
            seen.append(message.id)

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    async with connected(client) as errors:
        first = await fake.message_create("first", author="bob")
        await until(fake, errors, lambda: seen)
        session = fake.sessions[0]

        assert await fake.drop_connection() == 1
        # Dispatched while the client is away: buffered, replayed after RESUME.
        missed = await fake.message_create("while away", author="bob")
        await asyncio.wait_for(resumed.wait(), 5)
        assert fake.resumes == 1 and session.resumes == 1
        assert len(fake.sessions) == 1 and fake.connections == 2
        resume = next(f for f in fake.gateway_received if f["op"] == 6)
        assert resume["d"]["session_id"] == session.id
        assert fake.gateway_queries[1]["v"] == "10"  # reconnected to resume_gateway_url

        await fake.redeliver(first)  # Discord may deliver an event twice
        await until(fake, errors, lambda: len(seen) == 3)
        assert seen == [int(first["id"]), int(missed["id"]), int(first["id"])]
        seqs = [f["s"] for f in session.sent]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert [f["t"] for f in session.sent][-3:] == [
            "MESSAGE_CREATE",
            "RESUMED",
            "MESSAGE_CREATE",
        ]

        # The connection still works after the resume.
        await text_channel(client, fake, "general").send("still here")
        assert fake.messages[-1].content == "still here"


async def test_rate_limited_send_is_retried_and_arrives_once(fake: FakeDiscord) -> None:
    client = make_client()
    async with connected(client):
        general = text_channel(client, fake, "general")
        fake.rate_limit("POST /channels/{channel_id}/messages", times=1, retry_after=0.05)
        sent = await general.send("relay: logo ready")
        calls = fake.calls_to("POST", "/channels/*/messages")
        assert [c.status for c in calls] == [429, 200]
        assert calls[1].at - calls[0].at >= 0.04
        assert calls[0].response["retry_after"] == 0.05
        assert calls[0].response["global"] is False
        assert [m.id for m in fake.messages_in("general")] == [sent.id]

        fake.fail("POST /channels/*/messages", 403, code=50013)
        with pytest.raises(discord.Forbidden):
            await general.send("refused")
        assert len(fake.messages_in("general")) == 1


async def test_client_without_message_content_intent_connects(fake: FakeDiscord) -> None:
    client = make_client(message_content=False)
    contents: list[str] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        contents.append(message.content)

    async with connected(client) as errors:
        assert not fake.sessions[0].intents & INTENT_MESSAGE_CONTENT
        await fake.message_create("no mention here", author="bob")
        await fake.message_create(f"{fake.mention('bot')} hi", author="bob")
        await fake.message_create("a DM", author="bob", guild=False)
        await until(fake, errors, lambda: len(contents) == 3)
        assert contents == ["", f"<@{fake.bot_id}> hi", "a DM"]


async def test_privileged_intent_refused_raises() -> None:
    async with FakeDiscord(allow_message_content=False) as fake:
        with fake.patched():
            client = make_client()
            try:
                with pytest.raises(discord.PrivilegedIntentsRequired):
                    await asyncio.wait_for(client.start(TOKEN), 5)
            finally:
                await client.close()
            assert (4014, "server") in fake.gateway_closes
            assert fake.sessions == []
