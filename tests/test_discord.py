"""Discord end to end: the real discord.Client against a fake Discord (REST + gateway) on
127.0.0.1, real A2A agents and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord import DiscordAdapter, DiscordConfigError, check_settings
from adapters.discord_render import CONTENT_LIMIT
from bot import render
from bot.demo.agent_server import AgentCall, Outcome, Reply
from bot.outbound import AgentBadge, Outbound, Target, record_parts
from bot.settings import Settings
from bot.split import split_chunks
from tests.conftest import Harness, HarnessFactory, echo, gated, slow
from tests.fakes.discord import FakeDiscord, StoredMessage

U = 0.25


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


async def rig(
    harness: HarnessFactory, fake: FakeDiscord, handlers: dict[str, Any], **settings: Any
) -> Harness:
    def platform(s: Settings) -> DiscordAdapter:
        return DiscordAdapter(s, guild_ready_timeout=0.05)

    return await harness(
        handlers,
        platform=platform,
        settings={
            "discord_token": "fake-token",
            "discord_api_url": fake.rest_base,
            "discord_gateway_url": fake.gateway_url,
            **settings,
        },
    )


async def settle(h: Harness, requests: int, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(await h.rows("SELECT id FROM requests")) < requests:
        assert loop.time() < deadline, "requests never arrived"
        await asyncio.sleep(0.02)
    await h.idle(timeout)


def in_thread(fake: FakeDiscord, thread: int) -> list[StoredMessage]:
    return [m for m in fake.messages if m.channel_id == thread]


def by_agents(messages: list[StoredMessage]) -> list[StoredMessage]:
    return [m for m in messages if m.via == "webhook" or (m.embeds and m.embeds[0].get("author"))]


async def test_a_mention_opens_a_thread_and_results_arrive_there_under_each_agent(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    releases = {agent_id: asyncio.Event() for agent_id in ("image", "writer", "social")}
    handlers = {agent_id: gated(agent_id, go) for agent_id, go in releases.items()}
    h = await rig(harness, discord_fake, handlers)
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Launch prep: brand images, landing page copy, and announcement tweets"
    )
    thread = int(mention["id"])  # a thread opened on the message has the message's id
    # All three are called before any may finish; then they finish one by one, each result
    # posted before the next agent is let go.
    await discord_fake.wait_for(lambda: all(h.servers[a].calls for a in releases) or None)
    for n, agent_id in enumerate(["writer", "social", "image"], 1):
        releases[agent_id].set()
        await discord_fake.wait_for(
            lambda n=n: len(by_agents(in_thread(discord_fake, thread))) == n or None
        )
    await settle(h, 1)
    assert discord_fake.calls_to("POST", "/channels/{c}/messages/{m}/threads")
    posts = in_thread(discord_fake, thread)
    ack = posts[0]
    assert ack.content.startswith("Three in parallel: 🎨 Image → brand images")
    assert ack.embeds and ack.embeds[0]["title"] == "Status"
    assert ack.body["components"], "the status message was posted with buttons"
    results = by_agents(posts)
    assert [m.username for m in results] == ["✍️ Writer", "🐦 Social", "🎨 Image"]
    assert results[0].content == "writer did: landing page copy"
    assert posts[-1].content.startswith("Done in")
    # The status embed was edited in place and ends all done.
    await h.dispatcher.courier.refresh_boards()  # type: ignore[union-attr]
    final = discord_fake.find_message(ack.id)
    assert final is not None and final.edits
    assert str(final.embeds[0]).count("**done**") == 3
    assert not any(
        m.channel_id == discord_fake.channel_id("general") and m.id != thread
        for m in discord_fake.messages
    )


async def test_without_webhook_permission_agents_speak_as_embed_authors(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    discord_fake.set_manage_webhooks(False)
    h = await rig(harness, discord_fake, {"writer": echo("writer")})
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: draft the FAQ"
    )
    await settle(h, 1)
    results = by_agents(in_thread(discord_fake, int(mention["id"])))
    assert len(results) == 1
    assert results[0].embeds[0]["author"]["name"] == "✍️ Writer"
    assert results[0].embeds[0]["description"] == "writer did: draft the FAQ"


async def test_a_long_result_is_split_at_discords_limit_with_nothing_lost(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    text = (
        "Intro\n\n"
        + "```js\n"
        + "\n".join(f"console.log({i});" for i in range(400))
        + "\n```\n"
        + "fin " * 500
    )

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text)

    h = await rig(harness, discord_fake, {"writer": writer})
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: the long one"
    )
    await settle(h, 1)
    results = by_agents(in_thread(discord_fake, int(mention["id"])))
    assert len(results) > 2
    assert all(len(m.content) <= CONTENT_LIMIT for m in results)
    assert [m.content for m in results] == [c.text for c in split_chunks(text, CONTENT_LIMIT)]
    assert "".join(c.body for c in split_chunks(text, CONTENT_LIMIT)) == text


async def test_the_dispatch_slash_command_is_deferred_then_followed_up(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")})
    await discord_fake.wait_for(lambda: discord_fake.command("dispatch"))
    interaction = await discord_fake.interaction_create_command(
        "dispatch", {"request": "Writer: draft the release notes"}
    )
    await settle(h, 1)
    responses = discord_fake.interaction_responses[int(interaction["id"])]
    assert responses[0]["type"] == 5  # deferred within Discord's 3 seconds
    starter = next(m for m in discord_fake.messages if m.interaction_id == int(interaction["id"]))
    assert "Writer: draft the release notes" in starter.content
    thread = [m for m in discord_fake.messages if m.channel_id == starter.id]
    assert [m.content for m in by_agents(thread)] == ["writer did: draft the release notes"]


async def test_status_agents_and_cancel_slash_commands(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(
        harness, discord_fake, {"image": slow(30, Reply("never")), "writer": echo("writer")}
    )
    await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Image: a hero image for the sale"
    )
    await discord_fake.wait_for(lambda: h.servers["image"].calls)
    status = await discord_fake.interaction_create_command("status", {})
    reply = await discord_fake.wait_for(
        lambda: discord_fake.interaction_responses.get(int(status["id"]))
    )
    assert reply[0]["data"]["flags"] & 64  # only the asker sees it
    assert reply[0]["data"]["content"].startswith("1 in flight for you:")
    assert "a hero image for the sale" in reply[0]["data"]["content"]

    bob = await discord_fake.interaction_create_command("status", {}, user="bob")
    bob_reply = await discord_fake.wait_for(
        lambda: discord_fake.interaction_responses.get(int(bob["id"]))
    )
    assert bob_reply[0]["data"]["content"] == "Nothing in flight for you."

    roster = await discord_fake.interaction_create_command("agents", {})
    roster_reply = await discord_fake.wait_for(
        lambda: discord_fake.interaction_responses.get(int(roster["id"]))
    )
    assert "agents on call" in roster_reply[0]["data"]["content"]

    cancel = await discord_fake.interaction_create_command("cancel", {"what": "hero image"})
    await discord_fake.wait_for(lambda: discord_fake.followups.get(int(cancel["id"])))
    assert (
        discord_fake.followups[int(cancel["id"])][0]["content"]
        == "Cancelled: 🎨 Image → a hero image for the sale."
    )
    await h.idle()
    assert len(h.servers["image"].cancelled) == 1


async def test_dm_requests_and_dm_status_with_links(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    release = asyncio.Event()  # the writer works until the status has been read
    h = await rig(harness, discord_fake, {"writer": gated("writer", release)})
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: draft the changelog"
    )
    await discord_fake.wait_for(lambda: h.servers["writer"].calls)
    dm = await discord_fake.message_create("what's in flight?", guild=False)
    status = await discord_fake.wait_for(
        lambda: next(
            (m for m in discord_fake.messages if m.channel_id == int(dm["channel_id"])), None
        )
    )
    assert status.content.startswith("1 in flight for you:")
    assert f"https://discord.com/channels/{discord_fake.guild_id}/{mention['id']}" in status.content
    assert status.message_reference and int(status.message_reference["message_id"]) == int(dm["id"])
    release.set()
    await settle(h, 2)


async def test_a_clarifying_question_is_answered_in_the_thread_without_a_mention(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"dev": echo("dev")})
    mention = await discord_fake.message_create(f"{discord_fake.mention('bot')} Fix the button")
    thread = int(mention["id"])
    await discord_fake.wait_for(lambda: in_thread(discord_fake, thread) or None)
    assert (
        in_thread(discord_fake, thread)[0].content
        == "Which project, and what's wrong with the button?"
    )
    await discord_fake.message_create(
        "The Pay button on checkout does nothing on mobile", thread=thread
    )
    await settle(h, 2)
    assert len(h.servers["dev"].calls) == 1
    assert "The Pay button on checkout" in h.servers["dev"].calls[0].text


async def test_a_message_delivered_twice_after_a_resume_is_handled_once(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")})
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: draft the newsletter"
    )
    await settle(h, 1)
    await discord_fake.drop_connection()
    await discord_fake.wait_for(lambda: discord_fake.resumes or None)
    await discord_fake.redeliver(mention)
    await asyncio.sleep(0.3)
    await h.idle()
    assert len(h.servers["writer"].calls) == 1
    assert len(await h.rows("SELECT id FROM requests")) == 1


async def test_buttons_answer_the_requester_and_refuse_anyone_else(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"image": slow(30, Reply("never"))})
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Image: a banner", author="alice"
    )
    await discord_fake.wait_for(lambda: h.servers["image"].calls)
    thread = int(mention["id"])
    ack = in_thread(discord_fake, thread)[0]
    task_id = (await h.rows("SELECT id FROM tasks"))[0]["id"]
    custom_id = f"dispatch:cancel_task:{task_id}"
    assert custom_id in str(ack.body["components"])

    other = await discord_fake.interaction_create_component(custom_id, message=ack.id, user="bob")
    refusal = await discord_fake.wait_for(
        lambda: discord_fake.interaction_responses.get(int(other["id"]))
    )
    assert refusal[0]["data"]["flags"] & 64
    assert refusal[0]["data"]["content"].startswith("Only Alice, who made this request")
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "running"

    mine = await discord_fake.interaction_create_component(custom_id, message=ack.id, user="alice")
    done = await discord_fake.wait_for(
        lambda: discord_fake.interaction_responses.get(int(mine["id"]))
    )
    assert done[0]["data"]["content"] == "Cancelled: 🎨 Image → a banner."
    await h.idle()
    assert len(h.servers["image"].cancelled) == 1


async def test_own_and_other_bot_messages_are_ignored(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")})
    robot = discord_fake.add_user("robot", bot=True)
    discord_fake.add_member(robot)
    await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: from a bot", author=robot
    )
    await discord_fake.message_create("Writer: no mention, not our thread")
    await asyncio.sleep(0.3)
    await h.idle()
    assert await h.rows("SELECT id FROM requests") == []


async def test_role_allowlist_refuses_politely(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    role = discord_fake.add_role("Dispatchers")
    h = await rig(
        harness, discord_fake, {"writer": echo("writer")}, discord_allowed_roles=str(role["id"])
    )
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: draft it", author="bob"
    )
    refusal = await discord_fake.wait_for(
        lambda: next((m for m in discord_fake.messages if m.reply_to == int(mention["id"])), None)
    )
    assert refusal.content.startswith("Sorry, your roles don't include")
    await asyncio.sleep(0.1)
    assert not h.servers["writer"].calls


async def test_restart_with_a_reply_pending_delivers_it_once(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")})
    # discord.py retries 5xx by itself; a 400 reaches our own retry from the database.
    discord_fake.fail("POST /webhooks/**", status=400, times=1)
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: draft the newsletter"
    )
    for _ in range(200):
        if await h.rows(
            "SELECT 1 FROM outbox WHERE kind = 'result' AND state = 'pending' AND attempts > 0"
        ):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the result was never held back")
    await h.restart()  # a new process and a new gateway session; the reply waits in SQLite
    await h.store.write("UPDATE outbox SET next_at = 0")  # type: ignore[union-attr]  # its retry time has come
    h.dispatcher.courier.wake()  # type: ignore[union-attr]
    await h.idle(20)
    results = by_agents(in_thread(discord_fake, int(mention["id"])))
    assert [m.content for m in results] == ["writer did: draft the newsletter"]
    sent = await h.rows("SELECT kind, state FROM outbox ORDER BY id")
    assert {row["state"] for row in sent} == {"sent"}


def test_missing_token_says_what_to_set() -> None:
    with pytest.raises(DiscordConfigError, match="DISCORD_TOKEN"):
        check_settings(Settings())
    assert "tok-1" not in repr(Settings(discord_token="tok-1"))


async def test_the_app_manifest_matches_the_commands_and_permissions_the_bot_uses() -> None:
    import json

    import discord
    from discord import app_commands

    from bot.settings import PROJECT_ROOT

    manifest = json.loads((PROJECT_ROOT / "manifests" / "discord-app.json").read_text())
    bits = manifest["oauth2"]["permissions"]["bits"]
    assert int(manifest["oauth2"]["permissions"]["value"]) == sum(
        int(b["value"]) for b in bits.values()
    )
    perms = discord.Permissions(int(manifest["oauth2"]["permissions"]["value"]))
    assert perms.create_public_threads and perms.send_messages_in_threads and perms.manage_webhooks
    assert manifest["gateway_intents"]["value"] == sum(
        b["value"] for b in manifest["gateway_intents"]["bits"].values()
    )
    assert set(manifest["oauth2"]["scopes"]) == {"bot", "applications.commands"}

    adapter = DiscordAdapter(Settings(discord_token="t"))
    client = discord.Client(intents=discord.Intents.default())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    adapter._register(client, tree)
    ours = {
        c.name: (c.description, [(p.name, p.required) for p in c.parameters])  # type: ignore[union-attr]
        for c in tree.get_commands()
    }
    documented = {
        c["name"]: (c["description"], [(o["name"], o["required"]) for o in c.get("options", [])])
        for c in manifest["application_commands"]
    }
    assert ours == documented
    await client.close()


async def refusals_everywhere(
    h: Harness, fake: FakeDiscord, *, user: str, channel: str, dm: bool
) -> list[str]:
    """Knock on every way in as `user`: a mention in `channel`, a mention in a thread there,
    a DM (if `dm`), each slash command and a status button. Returns each answer's text."""
    answers: list[str] = []

    async def replied_to(payload: dict[str, Any]) -> str:
        reply = await fake.wait_for(
            lambda: next((m for m in fake.messages if m.reply_to == int(payload["id"])), None)
        )
        return reply.content

    mention = await fake.message_create(
        f"{fake.mention('bot')} Writer: draft it", author=user, channel=channel
    )
    answers.append(await replied_to(mention))
    thread = await fake.thread_create("work", parent=channel)
    in_thread_ = await fake.message_create(
        f"{fake.mention('bot')} Writer: and this", author=user, thread=thread["id"]
    )
    answers.append(await replied_to(in_thread_))
    if dm:
        answers.append(
            await replied_to(await fake.message_create("Writer: a DM", author=user, guild=False))
        )
    await fake.wait_for(lambda: fake.command("dispatch"))
    for name, options in (
        ("dispatch", {"request": "Writer: draft it"}),
        ("status", {}),
        ("agents", {}),
        ("cancel", {"what": "all"}),
    ):
        slash = await fake.interaction_create_command(name, options, user=user, channel=channel)
        key = int(slash["id"])
        response = await fake.wait_for(lambda: fake.interaction_responses.get(key))  # noqa: B023
        assert response[0]["data"]["flags"] & 64, f"/{name}'s refusal is ephemeral"
        answers.append(response[0]["data"]["content"])
    click = await fake.interaction_create_component(
        "dispatch:cancel_task:t-anything", message=int(mention["id"]), user=user
    )
    response = await fake.wait_for(lambda: fake.interaction_responses.get(int(click["id"])))
    answers.append(response[0]["data"]["content"])
    await asyncio.sleep(0.1)
    assert await h.rows("SELECT id FROM requests") == []
    assert not h.servers["writer"].calls
    return answers


async def test_the_user_allowlist_holds_on_every_way_in(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    alice = discord_fake.owner["id"]
    h = await rig(harness, discord_fake, {"writer": echo("writer")}, discord_allowed_users=alice)
    answers = await refusals_everywhere(h, discord_fake, user="bob", channel="general", dm=True)
    assert answers == [render.NOT_ON_THE_LIST] * 8


async def test_the_channel_allowlist_holds_on_every_way_in_and_leaves_dms_open(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    design = str(discord_fake.channel_id("design"))
    h = await rig(
        harness, discord_fake, {"writer": echo("writer")}, discord_allowed_channels=design
    )
    answers = await refusals_everywhere(h, discord_fake, user="alice", channel="general", dm=False)
    assert answers == [render.NOT_IN_THIS_CHANNEL] * 7
    # The channel list names server channels; a DM is not one of them.
    await discord_fake.message_create("Writer: a DM", author="alice", guild=False)
    await settle(h, 1)
    assert len(h.servers["writer"].calls) == 1


async def test_the_guild_allowlist_holds_on_every_way_in_dms_included(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")}, discord_allowed_guilds="42")
    answers = await refusals_everywhere(h, discord_fake, user="alice", channel="general", dm=True)
    assert (
        answers
        == [render.NOT_IN_THIS_SERVER] * 2
        + [render.DM_NOT_A_MEMBER]
        + [render.NOT_IN_THIS_SERVER] * 5
    )


async def test_the_role_allowlist_holds_on_every_way_in_dms_included(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    role = discord_fake.add_role("Dispatchers")
    carol = discord_fake.add_user("carol")
    discord_fake.add_member(carol, roles=[role["id"]])
    h = await rig(
        harness, discord_fake, {"writer": echo("writer")}, discord_allowed_roles=str(role["id"])
    )
    answers = await refusals_everywhere(h, discord_fake, user="bob", channel="general", dm=True)
    assert (
        answers
        == [render.ROLES_MISSING] * 2 + [render.DM_NOT_A_MEMBER] + [render.ROLES_MISSING] * 5
    )
    # A member holding the role may DM.
    await discord_fake.message_create("Writer: a DM from carol", author=carol, guild=False)
    await settle(h, 1)
    assert len(h.servers["writer"].calls) == 1


async def test_nothing_sent_on_any_path_can_ping_and_file_links_are_http_only(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    role = discord_fake.add_role("Everyone-ish")
    bob = discord_fake.user("bob")["id"]
    loud = f"@everyone @here <@&{role['id']}> <@{bob}> look at this"

    async def writer(call: AgentCall) -> Outcome:
        return Reply(
            loud,
            files=[
                ("evil", "javascript:alert(1)"),
                ("ok.pdf", "https://files.example/ok.pdf"),
            ],
        )

    h = await rig(harness, discord_fake, {"writer": writer})
    hooked = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: quote me @everyone"
    )
    await settle(h, 1)
    discord_fake.set_manage_webhooks(False)  # a new channel: agents speak as embed authors
    embedded = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: again", channel="design"
    )
    await settle(h, 2)
    await h.dispatcher.courier.refresh_boards()  # type: ignore[union-attr]
    asked = [
        await discord_fake.interaction_create_command(name, options)
        for name, options in (("status", {}), ("agents", {}), ("cancel", {"what": "all"}))
    ]
    ack = in_thread(discord_fake, int(hooked["id"]))[0]
    asked.append(
        await discord_fake.interaction_create_component(
            "dispatch:cancel_task:t-gone", message=ack.id
        )
    )
    await discord_fake.wait_for(lambda: discord_fake.followups.get(int(asked[2]["id"])))
    for key in [int(interaction["id"]) for interaction in asked]:
        await discord_fake.wait_for(
            lambda: discord_fake.interaction_responses.get(key)  # noqa: B023
        )

    sent = [m for m in discord_fake.messages if not m.loading]
    assert {m.via for m in sent} >= {"bot", "webhook", "interaction"}

    def silent(allowed: dict[str, Any] | None) -> bool:
        return allowed is not None and allowed["parse"] == [] and not allowed.get("replied_user")

    followups = [body for bodies in discord_fake.followups.values() for body in bodies]
    assert followups and all(silent(b.get("allowed_mentions")) for b in followups)
    for message in sent:
        assert silent(message.allowed_mentions), (message.via, message.content)
        for edit in message.edits:
            if "content" in edit:
                assert silent(edit.get("allowed_mentions"))
    assert any(m.edits for m in sent), "a status board was edited"
    everything = str([(m.content, m.embeds) for m in sent])
    assert "@everyone" not in everything and "@here" not in everything
    assert "javascript:" not in everything
    thread = int(hooked["id"])
    hook_result = by_agents(in_thread(discord_fake, thread))[0]
    assert hook_result.content.startswith("@\u200beveryone @\u200bhere")
    assert "https://files.example/ok.pdf" in str(by_agents(in_thread(discord_fake, thread)))
    embed_result = by_agents(in_thread(discord_fake, int(embedded["id"])))
    assert embed_result and "https://files.example/ok.pdf" in str(embed_result[-1].embeds)


async def test_status_asked_in_public_goes_by_dm_or_says_where_to_ask(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": slow(30, Reply("never"))})
    await discord_fake.message_create("Writer: my secret memo", guild=False)
    await discord_fake.wait_for(lambda: h.servers["writer"].calls)
    dm_channel = int(discord_fake.dm_channel("alice")["id"])
    in_dm = len(discord_fake.messages_in(dm_channel))

    asked = await discord_fake.message_create(f"{discord_fake.mention('bot')} what's in flight?")
    answer = await discord_fake.wait_for(
        lambda: next(
            (m for m in discord_fake.messages_in(dm_channel)[in_dm:] if "in flight" in m.content),
            None,
        )
    )
    assert answer.content.startswith("1 in flight for you:")
    assert "my secret memo" in answer.content
    await asyncio.sleep(0.2)
    public = [m for m in discord_fake.messages if m.channel_id != dm_channel]
    assert not any("secret memo" in m.content for m in public)

    # DMs closed to the bot: the thread learns only where to ask instead.
    discord_fake.fail(f"POST /channels/{dm_channel}/messages", status=403, code=50007, times=10)
    again = await discord_fake.message_create(f"{discord_fake.mention('bot')} what's in flight?")
    pointer = await discord_fake.wait_for(
        lambda: next(iter(in_thread(discord_fake, int(again["id"]))), None)
    )
    assert pointer.content == render.STATUS_USE_SLASH
    assert int(asked["id"]) != int(again["id"])


@pytest.mark.parametrize("webhooks", [True, False])
async def test_a_huge_result_is_a_few_messages_and_an_attachment(
    harness: HarnessFactory, discord_fake: FakeDiscord, webhooks: bool
) -> None:
    text = "".join(f"Paragraph {i}: some prose about the launch.\n\n" for i in range(2000))
    assert len(split_chunks(text, CONTENT_LIMIT)) > 10

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text, files=[("report.pdf", "https://files.example/report.pdf")])

    discord_fake.set_manage_webhooks(webhooks)
    h = await rig(harness, discord_fake, {"writer": writer}, max_result_messages=3)
    mention = await discord_fake.message_create(
        f"{discord_fake.mention('bot')} Writer: the whole report"
    )
    await settle(h, 1)
    thread = in_thread(discord_fake, int(mention["id"]))
    done = next(i for i, m in enumerate(thread) if m.content.startswith("Done in"))
    relayed = thread[1:done]  # between the acknowledgement and the closing line
    assert len(relayed) == 3
    last = relayed[-1]
    assert [a["filename"] for a in last.attachments] == ["writer-result-continued.md"]
    assert last.content.startswith("✍️ Writer's result goes on for")
    assert "📎 report.pdf: https://files.example/report.pdf" in last.content
    rest = last.files["writer-result-continued.md"].decode()
    head = split_chunks(text, CONTENT_LIMIT)[:2]
    if webhooks:
        assert [m.content for m in relayed[:2]] == [c.text for c in head]
    else:
        assert [m.embeds[0]["description"] for m in relayed[:2]] == [c.text for c in head]
    assert "".join(c.body for c in head) + rest == text


async def test_a_long_relay_puts_each_part_on_record_and_resumes_after_them(
    harness: HarnessFactory, discord_fake: FakeDiscord
) -> None:
    h = await rig(harness, discord_fake, {"writer": echo("writer")}, max_result_messages=3)
    adapter = h.live[-1]
    assert isinstance(adapter, DiscordAdapter)
    text = "".join(f"Paragraph {i}: some prose about the launch.\n\n" for i in range(2000))
    writer = AgentBadge(id="writer", name="Writer", emoji="✍️")
    general = str(discord_fake.channel_id("general"))
    target = Target(platform="discord", workspace=str(discord_fake.guild_id), channel=general)
    message = Outbound(kind="result", text=text, agent=writer)
    recorded: list[list[str]] = []

    async def record(parts: list[str]) -> None:
        recorded.append(list(parts))

    record_parts.set(record)
    first = await adapter.post(target, message)
    sent = [m for m in discord_fake.messages_in("general") if m.via == "webhook"]
    assert len(sent) == 3 and first.id == str(sent[-1].id)
    ids = [str(m.id) for m in sent]
    assert recorded == [ids[:1], ids[:2]]  # the last part is recorded as the message sent

    # As after a restart with two parts out: only the last one (and its file) goes again.
    again = await adapter.post(target, message.model_copy(update={"posted": ids[:2]}))
    resent = [m for m in discord_fake.messages_in("general") if m.via == "webhook"][3:]
    assert len(resent) == 1 and resent[0].attachments and again.id == str(resent[0].id)
    # Everything already out: nothing is posted, and the ref is the last part's.
    before = len(discord_fake.messages)
    done = await adapter.post(target, message.model_copy(update={"posted": ids}))
    assert len(discord_fake.messages) == before and done.id == ids[-1]
