"""Slack end to end: the real Bolt endpoint (signed requests), a fake Slack Web API on
127.0.0.1, real A2A agents and a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.base import DeliveryError
from adapters.slack import POST_BURST, SlackAdapter, SlackConfigError, check_settings
from adapters.slack_render import MARKDOWN_LIMIT
from bot import render
from bot.courier import Courier
from bot.demo.agent_server import AgentCall, Outcome, Reply
from bot.outbound import AgentBadge, Outbound, Target
from bot.settings import Settings
from bot.split import split_chunks
from bot.store import Store
from tests.conftest import Harness, HarnessFactory, echo, gated, slow
from tests.fakes import PARTIAL_REQUESTS, sent_and_left_open
from tests.fakes.slack import (
    FakeSlack,
    app_mention,
    block_actions,
    event_callback,
    message,
    new_ts,
    signed_request,
)
from tests.test_courier import queue

SECRET = "test-signing-secret"
U = 0.25


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U1", name="alice", display_name="alice")
        fake.add_user("U2", name="bob", display_name="bob")
        yield fake


class SlackRig:
    def __init__(self, h: Harness, fake: FakeSlack) -> None:
        self.h = h
        self.fake = fake

    @property
    def adapter(self) -> SlackAdapter:
        adapter = self.h.live[-1]
        assert isinstance(adapter, SlackAdapter)
        return adapter

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.bound_port}/slack/events"

    async def post(
        self,
        payload: dict[str, Any],
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        form: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        body, signed = signed_request(secret, payload, timestamp=timestamp, form=form)
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.url, data=body, headers={**signed, **(headers or {})}
            ) as response:
                return response.status, await response.text()

    async def event(self, event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        envelope = event_callback(event, **kwargs)
        status, _ = await self.post(envelope)
        assert status == 200
        return envelope

    async def settle(self, requests: int, timeout: float = 15.0) -> None:
        """Wait until `requests` messages were taken in, then until all their work is done."""
        deadline = time.monotonic() + timeout
        while len(await self.h.rows("SELECT id FROM requests")) < requests:
            assert time.monotonic() < deadline, "requests never arrived"
            await asyncio.sleep(0.02)
        await self.h.idle(timeout)

    def posts(self, thread: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages if thread is None or m.get("thread_ts") == thread]

    def texts(self, thread: str) -> list[str]:
        return [str(m.get("text")) for m in self.posts(thread)]


async def rig(
    harness: HarnessFactory,
    fake: FakeSlack,
    handlers: dict[str, Any],
    *,
    post_interval: float = 0.02,
    **settings: Any,
) -> SlackRig:
    def platform(s: Settings) -> SlackAdapter:
        return SlackAdapter(s, http=True, port=0, post_interval=post_interval, update_rate=50)

    h = await harness(
        handlers,
        platform=platform,
        settings={
            "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SECRET,
            "slack_api_url": fake.api_url,
            **settings,
        },
    )
    return SlackRig(h, fake)


def is_result(post: dict[str, Any]) -> bool:
    return bool(post.get("blocks")) and post["blocks"][0].get("type") == "markdown"


async def test_mention_is_acknowledged_at_once_and_results_stream_into_the_thread(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    releases = {agent_id: asyncio.Event() for agent_id in ("image", "writer", "social")}
    r = await rig(
        harness, slack, {agent_id: gated(agent_id, go) for agent_id, go in releases.items()}
    )
    mention = app_mention(
        "<@UBOT> Launch prep: brand images, landing page copy, and announcement tweets"
    )
    await r.event(mention)
    thread = mention["ts"]
    ack = await slack.wait_for(lambda: next(iter(r.posts(thread)), None), timeout=30)
    assert ack["text"].startswith("Three in parallel: 🎨 Image → brand images")
    assert ack["thread_ts"] == thread and ack["channel"] == "C1"
    actions = [b for b in ack["blocks"] if b.get("accessory") or b["type"] == "actions"]
    assert actions, "the status board carries cancel buttons"

    # All three are called before any may finish; then they finish one by one, each result
    # posted before the next agent is let go.
    await slack.wait_for(lambda: all(r.h.servers[a].calls for a in releases) or None, timeout=30)
    for n, agent_id in enumerate(["writer", "social", "image"], 1):
        releases[agent_id].set()
        await slack.wait_for(
            lambda n=n: len([p for p in r.posts(thread) if is_result(p)]) == n or None, timeout=30
        )
    await r.settle(1)
    assert (  # acknowledged before any agent was called
        min(times[0] for times in r.h.started_at.values())
        >= slack.calls_to("chat.postMessage")[0].at
    )
    posts = r.posts(thread)
    results = [p for p in posts if is_result(p)]
    assert [p["username"] for p in results] == ["Writer", "Social", "Image"]  # completion order
    assert [p["icon_emoji"] for p in results] == [":writing_hand:", ":bird:", ":art:"]
    assert results[0]["blocks"][0]["text"] == "writer did: landing page copy"
    assert posts[-1]["text"].startswith("Done in")
    assert all(p["thread_ts"] == thread for p in posts)
    # The board was edited in place and ends showing every task done.
    await r.h.dispatcher.courier.refresh_boards()  # type: ignore[union-attr]
    board = slack.find_message("C1", ack["ts"])
    assert board is not None and board["updates"]
    assert "Done in" in str(board["blocks"][-1])
    assert str(board["blocks"]).count("_done_") == 3
    # Web API calls share kept-alive connections instead of opening one per call.
    assert len(slack.calls) >= 6
    assert len({c.peer for c in slack.calls}) <= 2


async def test_thread_placement_for_channels_threads_and_dms(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"writer": echo("writer")})
    root = new_ts()
    inside = app_mention("<@UBOT> Writer: draft the FAQ", thread_ts=root)
    await r.event(inside)
    dm = message("Writer: draft the welcome email", channel="D1", channel_type="im")
    await r.event(dm)
    await r.settle(2)
    assert {p["thread_ts"] for p in r.posts() if p["channel"] == "C1"} == {root}
    assert {p["thread_ts"] for p in r.posts() if p["channel"] == "D1"} == {dm["ts"]}


async def test_a_clarifying_question_is_answered_by_a_plain_thread_reply(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    calls: list[AgentCall] = []

    async def dev(call: AgentCall) -> Outcome:
        calls.append(call)
        return Reply("patched the Pay button")

    r = await rig(harness, slack, {"dev": dev})
    mention = app_mention("<@UBOT> Fix the button")
    await r.event(mention)
    thread = mention["ts"]
    await slack.wait_for(lambda: r.posts(thread), timeout=5)
    assert r.texts(thread) == ["Which project, and what's wrong with the button?"]

    await r.event(message("The Pay button on checkout does nothing on mobile", thread_ts=thread))
    await r.settle(2)
    assert len(calls) == 1 and "The Pay button on checkout does nothing on mobile" in calls[0].text
    assert [p.get("username") for p in r.posts(thread) if is_result(p)] == ["Dev"]


async def test_other_channel_chatter_is_ignored(harness: HarnessFactory, slack: FakeSlack) -> None:
    r = await rig(harness, slack, {"writer": echo("writer")})
    await r.event(message("Writer: this is just people talking"))  # no mention, not our thread
    await r.event(message("reply in someone else's thread", thread_ts=new_ts()))
    await r.event(message("Writer: ours?", user="UBOT"))  # our own message
    await r.event(message("Writer: beep", user=None, bot_id="B9", subtype="bot_message"))
    await r.event(message("Writer: edited", subtype="message_changed"))
    await r.event(app_mention("<@UBOT> Writer: from a bot", user="UOTHERBOT") | {"bot_id": "B2"})
    await asyncio.sleep(0.3)
    await r.h.idle()
    assert r.posts() == []
    assert await r.h.rows("SELECT * FROM requests") == []


async def test_retries_and_double_delivery_are_handled_once(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"writer": echo("writer", U)})
    mention = app_mention("<@UBOT> Writer: draft the newsletter")
    envelope = event_callback(mention)
    assert (await r.post(envelope))[0] == 200
    # Slack retries the same event (same event_id) and still gets a 200.
    status, _ = await r.post(
        envelope, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200
    # The same message also arrives as message.channels, with its own event_id.
    twin = message(mention["text"], ts=mention["ts"])
    assert (await r.post(event_callback(twin)))[0] == 200
    await r.settle(1)
    assert len(r.h.servers["writer"].calls) == 1
    assert len(await r.h.rows("SELECT * FROM requests")) == 1
    assert len([p for p in r.posts(mention["ts"]) if is_result(p)]) == 1


async def test_an_event_is_recorded_before_slack_hears_back(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    """Slack redelivers an event only while it has no 200: the 200 must mean the message
    is in the database, so a crash right after it loses nothing."""
    r = await rig(harness, slack, {"writer": echo("writer", U)})
    for n in range(5):
        assert (await r.post(event_callback(app_mention(f"<@UBOT> Writer: draft {n}"))))[0] == 200
        # Read at once, with no wait: the answer came after the record.
        assert len(await r.h.rows("SELECT id FROM requests")) == n + 1
    await r.settle(5)


async def test_a_post_a_crashed_process_made_but_never_recorded_is_not_made_again(
    slack: FakeSlack, tmp_path: Path
) -> None:
    """The process posted a message and died before recording it: the next one (a restart,
    or the replica that takes the thread over) finds it by its key and does not repost."""
    store = await Store(tmp_path / "d.db").open()
    settings = Settings(
        slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=slack.api_url
    )
    adapter = SlackAdapter(settings, http=True, port=0, post_interval=0.01)
    first, _ = await queue(store, "17.1", "posted, not recorded", "not posted", platform="slack")
    row = await store.read(lambda tx: tx.head_of("slack|W1|C1|17.1|"))
    assert row is not None and row["id"] == first
    payload = json.loads(row["payload"])
    message = Outbound.model_validate(payload["message"]).model_copy(update={"key": str(first)})
    await adapter.post(Target.model_validate(payload["target"]), message)  # then it died
    courier = Courier(store, {"slack": adapter})  # the next process
    try:
        await courier.start()
        await courier.drain()
        texts = [str(m["text"]) for m in slack.messages]
        assert [t for t in texts if "posted, not recorded" in t] == ["posted, not recorded"]
        assert [t for t in texts if "not posted" == t] == ["not posted"]
        states = [r["state"] for r in await store.all("SELECT state FROM outbox ORDER BY id")]
        assert states == ["sent", "sent"]
        assert len(slack.calls_to("conversations.replies")) >= 1
    finally:
        await courier.stop()
        await store.close()


async def test_signature_checks_and_url_verification(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"writer": echo("writer")})
    payload = event_callback(app_mention("<@UBOT> Writer: draft it"))
    assert (await r.post(payload, secret="wrong"))[0] == 401
    assert (await r.post(payload, timestamp=int(time.time()) - 600))[0] == 401
    status, body = await r.post({"type": "url_verification", "challenge": "abc123", "token": "t"})
    assert status == 200 and "abc123" in body
    await asyncio.sleep(0.2)
    assert await r.h.rows("SELECT * FROM requests") == []


async def test_a_long_result_is_split_without_losing_text(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    code = "```python\n" + "\n".join(f"print({i})  # line {i}" for i in range(900)) + "\n```\n"
    text = (
        "# Report\n\n"
        + ("Some **bold** prose and a [link](https://example.org).\n\n" * 300)
        + code
        + "The end."
    )

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text, files=[("report.pdf", "https://files.example/report.pdf")])

    r = await rig(harness, slack, {"writer": writer})
    mention = app_mention("<@UBOT> Writer: the full report")
    await r.event(mention)
    await r.settle(1)
    results = [p for p in r.posts(mention["ts"]) if is_result(p)]
    assert len(results) >= 3
    markdown = [p["blocks"][0]["text"] for p in results]
    assert all(len(chunk) <= MARKDOWN_LIMIT for chunk in markdown)
    assert markdown == [c.text for c in split_chunks(text, MARKDOWN_LIMIT)]
    assert "".join(c.body for c in split_chunks(text, MARKDOWN_LIMIT)) == text
    assert all(p["username"] == "Writer" for p in results)
    assert "https://files.example/report.pdf" in str(results[-1]["blocks"][-1])


async def test_a_429_storm_still_delivers_every_reply_once(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(
        harness, slack, {"image": echo("image"), "writer": echo("writer"), "social": echo("social")}
    )
    slack.rate_limit("chat.postMessage", times=6, retry_after=1)
    mention = app_mention("<@UBOT> brand images, landing page copy, and announcement tweets")
    await r.event(mention)
    await r.settle(1, timeout=30)
    posts = r.posts(mention["ts"])
    assert len([p for p in posts if is_result(p)]) == 3
    assert sorted(p["username"] for p in posts if is_result(p)) == ["Image", "Social", "Writer"]
    assert len([p for p in posts if p["text"].startswith("Three in parallel")]) == 1
    assert len([p for p in posts if p["text"].startswith("Done in")]) == 1
    assert len([c for c in slack.calls_to("chat.postMessage") if c.status == 429]) == 6
    outbox = await r.h.rows("SELECT state FROM outbox")
    assert {row["state"] for row in outbox} == {"sent"}


async def test_buttons_work_for_the_requester_and_refuse_anyone_else(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"image": slow(30, Reply("never"))})
    mention = app_mention("<@UBOT> Image: a hero image for the sale", user="U1")
    await r.event(mention)
    await slack.wait_for(lambda: r.h.servers["image"].calls, timeout=5)
    task_id = (await r.h.rows("SELECT id FROM tasks"))[0]["id"]
    ack = r.posts(mention["ts"])[0]

    click = block_actions(
        "dispatch_cancel_task", task_id, user="U2", message_ts=ack["ts"], thread_ts=mention["ts"]
    )
    assert (await r.post(click, form=True))[0] == 200
    refusal = await slack.wait_for(lambda: next(iter(slack.ephemerals), None), timeout=5)
    assert refusal["user"] == "U2"
    assert refusal["text"] == "Only alice, who made this request, or an admin can do that."
    assert (await r.h.rows("SELECT state FROM tasks"))[0]["state"] == "running"

    click = block_actions(
        "dispatch_cancel_task", task_id, user="U1", message_ts=ack["ts"], thread_ts=mention["ts"]
    )
    assert (await r.post(click, form=True))[0] == 200
    await slack.wait_for(lambda: len(slack.ephemerals) == 2 or None, timeout=5)
    assert slack.ephemerals[1]["text"] == "Cancelled: 🎨 Image → a hero image for the sale."
    await r.settle(1)
    assert (await r.h.rows("SELECT state FROM tasks"))[0]["state"] == "cancelled"
    # The agent may not have told us its task id yet; the cancel then follows the id.
    await slack.wait_for(lambda: r.h.servers["image"].cancelled, timeout=5)
    assert len(r.h.servers["image"].cancelled) == 1
    assert any(t.startswith("Cancelled: 🎨 Image") for t in r.texts(mention["ts"]))


async def test_dm_status_lists_my_work_across_channels_with_links(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    release = asyncio.Event()  # the agents work until the status has been read
    gated_agents = {"image": gated("image", release), "writer": gated("writer", release)}
    r = await rig(harness, slack, gated_agents)
    one = app_mention("<@UBOT> Image: a banner for the blog", channel="C1", user="U1")
    two = app_mention("<@UBOT> Writer: draft the changelog", channel="C2", user="U1")
    other = app_mention("<@UBOT> Writer: bob's secret memo", channel="C3", user="U2")
    for event in (one, two, other):
        await r.event(event)
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 3 or None, timeout=5)
    dm = message("what's in flight?", channel="D1", channel_type="im", user="U1")
    await r.event(dm)
    status = await slack.wait_for(lambda: next(iter(r.posts(dm["ts"])), None), timeout=5)
    text = status["text"]
    assert text.startswith("2 in flight for you:")
    assert "Image — a banner for the blog" in text
    assert f"https://dispatch-test.slack.com/archives/C1/p{one['ts'].replace('.', '')}" in text
    assert f"/archives/C2/p{two['ts'].replace('.', '')}" in text
    assert "secret memo" not in text
    release.set()
    await r.settle(4)


async def test_allowlists_refuse_politely_and_immediately(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"writer": echo("writer")}, slack_allowed_users="U1")
    envelope = event_callback(app_mention("<@UBOT> Writer: draft it", user="U2"))
    assert (await r.post(envelope))[0] == 200
    refusal = await slack.wait_for(lambda: next(iter(slack.ephemerals), None), timeout=5)
    assert refusal["user"] == "U2" and refusal["text"].startswith("Sorry, you're not on the list")
    # Slack retrying the event is refused once, not twice.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await r.post(envelope, headers=retry))[0] == 200
    await asyncio.sleep(0.3)
    assert len(slack.ephemerals) == 1
    assert not r.h.servers["writer"].calls


async def test_restart_with_a_reply_pending_delivers_it_once(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(harness, slack, {"writer": echo("writer")})
    # Limited for as long as this process lives, so nothing is posted however long it takes.
    slack.rate_limit("chat.postMessage", times=1000, retry_after=2)
    mention = app_mention("<@UBOT> Writer: draft the newsletter")
    await r.event(mention)
    for _ in range(200):
        if await r.h.rows("SELECT 1 FROM tasks WHERE state = 'completed'"):
            break
        await asyncio.sleep(0.05)
    assert r.posts() == []  # nothing could be posted yet: the ack is waiting out the 429
    await r.h.crash()
    slack._faults.clear()  # the limit is over by the time a new process comes
    await r.h.start()  # a new process with a new Slack connection
    await r.h.idle(timeout=20)
    posts = r.posts(mention["ts"])
    assert posts[0]["text"].startswith("On it: ✍️ Writer → draft the newsletter")
    assert len([p for p in posts if is_result(p)]) == 1
    assert posts[-1]["text"].startswith("Done in")


async def test_socket_mode_receives_events_and_acks_them(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    def platform(s: Settings) -> SlackAdapter:
        return SlackAdapter(s, http=False, post_interval=0.02)

    h = await harness(
        {"writer": echo("writer")},
        platform=platform,
        settings={
            "slack_bot_token": "xoxb-test",
            "slack_app_token": "xapp-test",
            "slack_api_url": slack.api_url,
        },
    )
    await slack.wait_socket_connected()
    mention = app_mention("<@UBOT> Writer: draft the socket-mode notes")
    envelope_id = await slack.push_socket_event(event_callback(mention))
    await slack.wait_socket_ack(envelope_id)
    await slack.wait_for(lambda: [m for m in slack.messages if is_result(m)] or None, timeout=10)
    await h.idle()
    assert [m.get("username") for m in slack.messages if is_result(m)] == ["Writer"]


def test_missing_or_contradictory_settings_say_what_to_set() -> None:
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        check_settings(Settings(), http=False)
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        check_settings(Settings(slack_bot_token="xoxb-1"), http=False)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        check_settings(Settings(slack_bot_token="xoxb-1"), http=True)
    with pytest.raises(SlackConfigError, match="xapp-"):
        check_settings(Settings(slack_bot_token="xoxb-1", slack_app_token="xoxb-2"), http=False)
    check_settings(Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1"), http=False)
    assert "xoxb-1" not in repr(Settings(slack_bot_token="xoxb-1"))


def test_the_app_manifest_grants_what_the_adapter_uses() -> None:
    import yaml

    from bot.settings import PROJECT_ROOT

    manifest = yaml.safe_load((PROJECT_ROOT / "manifests" / "slack-app.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "chat:write.customize",
        "im:history",
        "channels:history",
        "files:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.im"} <= events
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert len(manifest["display_information"]["name"]) <= 35


async def test_chain_follow_up_and_agent_question_through_slack(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    async def writer(call: AgentCall) -> Outcome:
        if "Task: draft the launch email" in call.text and not call.history:
            from bot.demo.agent_server import Ask

            return Ask("Who is the audience: customers or investors?")
        return Reply(f"email for {call.text.splitlines()[-1] if call.history else 'everyone'}")

    r = await rig(
        harness, slack, {"image": echo("image", U), "designer": echo("designer"), "writer": writer}
    )
    chain = app_mention("<@UBOT> Design the new logo, then use it on the landing page")
    await r.event(chain)
    await r.settle(1)
    results = [p for p in r.posts(chain["ts"]) if is_result(p)]
    assert [p["username"] for p in results] == ["Image", "Designer"]
    assert "image did: Design the new logo" in r.h.servers["designer"].calls[0].text

    # A plain reply in the thread (no mention) is a follow-up for the agent it is about.
    await r.event(message("make the landing page darker", thread_ts=chain["ts"]))
    await r.settle(2)
    assert len(r.h.servers["designer"].calls) == 2
    assert (
        r.h.servers["designer"].calls[0].context_id == r.h.servers["designer"].calls[1].context_id
    )

    ask = app_mention("<@UBOT> Writer: draft the launch email")
    await r.event(ask)
    question = await slack.wait_for(
        lambda: next((p for p in r.posts(ask["ts"]) if is_result(p)), None), timeout=5
    )
    assert question["blocks"][0]["text"] == "Who is the audience: customers or investors?"
    assert question["username"] == "Writer"
    await r.event(message("customers", thread_ts=ask["ts"]))
    await r.settle(4)
    answers = [p for p in r.posts(ask["ts"]) if is_result(p)]
    assert answers[-1]["blocks"][0]["text"] == "email for Answer from alice: customers"


# -- pacing: a channel over its budget defers its posts, it never holds up other threads ------


def long_report(paragraphs: int = 900) -> str:
    """A result that Slack takes in several posts (more than a channel's burst)."""
    return "# Report\n\n" + "".join(
        f"Paragraph {i}: some **bold** prose and a [link](https://example.org/{i}).\n\n"
        for i in range(paragraphs)
    )


async def test_post_defers_instead_of_sleeping_and_resumes_a_split_message(
    slack: FakeSlack,
) -> None:
    adapter = SlackAdapter(
        Settings(
            slack_bot_token="xoxb-test",
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            max_result_messages=100,  # every part a post: this is about pacing them
        ),
        http=True,
        port=0,
        post_interval=30.0,  # were post() to wait for the channel, it would wait 30 s
    )
    text = long_report()
    chunks = [c.text for c in split_chunks(text, MARKDOWN_LIMIT)]
    assert len(chunks) > 2 * POST_BURST
    writer = AgentBadge(id="writer", name="Writer", emoji="✍️")
    message = Outbound(kind="result", text=text, agent=writer, request_id="r1", task_id="t1")
    target = Target(platform="slack", workspace="T1", channel="C9", thread="1700000000.000100")

    deferrals: list[DeliveryError] = []
    ref = None
    while ref is None:
        try:
            ref = await asyncio.wait_for(adapter.post(target, message), timeout=10)
        except DeliveryError as exc:
            deferrals.append(exc)
            posted = len([m for m in slack.messages if is_result(m)])
            assert posted == POST_BURST * len(deferrals)  # the burst went out, then it stopped
            # The channel's budget refills as time passes; here time passes at once.
            adapter._channel_budgets["C9"].tokens = float(POST_BURST)

    assert all(d.deferred and not d.permanent for d in deferrals)
    assert all(d.retry_after is not None and 0 < d.retry_after <= 30 for d in deferrals)
    assert len(deferrals) == (len(chunks) - 1) // POST_BURST
    # Every part exactly once, in order, all in the thread; the ref is the last part.
    results = [m for m in slack.messages if is_result(m)]
    assert [m["blocks"][0]["text"] for m in results] == chunks
    assert {m["thread_ts"] for m in results} == {target.thread}
    assert ref.id == results[-1]["ts"]
    # Nothing is left over for the next message with the same text.
    assert adapter._partial == {}


async def test_a_paced_channel_does_not_hold_up_another_threads_acknowledgement(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(
        harness,
        slack,
        {"image": echo("image"), "writer": echo("writer"), "social": echo("social")},
        post_interval=2.0,  # after its burst, C1 takes one post every two seconds
    )
    busy = app_mention(
        "<@UBOT> brand images, landing page copy, and announcement tweets", channel="C1"
    )
    await r.event(busy)
    # C1 spends its burst (ack and two results) and has more queued behind it.
    await slack.wait_for(lambda: len(r.posts(busy["ts"])) >= POST_BURST or None, timeout=10)
    for _ in range(200):
        queued = await r.h.rows(
            "SELECT id FROM outbox WHERE state = 'pending' AND thread LIKE ?", ("%|C1|%",)
        )
        if queued:
            break
        await asyncio.sleep(0.02)
    assert queued, "nothing was left waiting on C1's pacing"

    other = app_mention("<@UBOT> Writer: draft the FAQ", channel="C2")
    await r.event(other)
    await slack.wait_for(lambda: r.posts(other["ts"]) or None, timeout=10)
    await r.settle(2, timeout=30)

    calls = [c for c in slack.calls_to("chat.postMessage") if c.ok]
    c1 = [c.at for c in calls if c.params.get("channel") == "C1"]
    c2_ack = next(c.at for c in calls if c.params.get("channel") == "C2")
    # C2 was acknowledged while C1 was still waiting for its budget, not after it.
    assert c2_ack < c1[POST_BURST]
    assert c1[POST_BURST] - c1[0] > 1.0  # …and C1 really was paced

    # C1's messages each went out once, in the order they were queued; waiting on the pacing
    # was no failed attempt.
    posts = r.posts(busy["ts"])
    assert len(posts) == 5
    assert posts[0]["text"].startswith("Three in parallel")
    assert sorted(p["username"] for p in posts[1:4]) == ["Image", "Social", "Writer"]
    assert posts[4]["text"].startswith("Done in")
    rows = await r.h.rows(
        "SELECT id, kind, state, attempts, ref FROM outbox WHERE thread LIKE ? ORDER BY id",
        ("%|C1|%",),
    )
    assert [row["kind"] for row in rows] == ["ack", "result", "result", "result", "closing"]
    assert [json.loads(row["ref"])["id"] for row in rows] == [p["ts"] for p in posts]
    assert {(row["state"], row["attempts"]) for row in rows} == {("sent", 0)}


async def test_a_long_result_paced_mid_way_posts_every_part_once(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    text = long_report(600)

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text)

    r = await rig(harness, slack, {"writer": writer}, post_interval=0.2)
    tries: list[str] = []
    post = r.adapter.post

    async def counted(target: Target, message: Outbound) -> Any:
        try:
            return await post(target, message)
        except DeliveryError as exc:
            tries.append(f"{message.kind} deferred={exc.deferred}")
            raise

    r.adapter.post = counted  # type: ignore[method-assign]
    mention = app_mention("<@UBOT> Writer: the full report")
    await r.event(mention)
    await r.settle(1, timeout=30)

    chunks = [c.text for c in split_chunks(text, MARKDOWN_LIMIT)]
    assert len(chunks) > POST_BURST
    assert "result deferred=True" in tries  # the result was paced part-way through
    assert all(t.endswith("deferred=True") for t in tries)
    results = [p for p in r.posts(mention["ts"]) if is_result(p)]
    assert [p["blocks"][0]["text"] for p in results] == chunks
    rows = await r.h.rows("SELECT kind, state, attempts FROM outbox ORDER BY id")
    assert [row["kind"] for row in rows] == ["ack", "result", "closing"]
    assert {(row["state"], row["attempts"]) for row in rows} == {("sent", 0)}
    assert r.posts(mention["ts"])[-1]["text"].startswith("Done in")


@pytest.mark.parametrize("partial", sorted(PARTIAL_REQUESTS))
async def test_the_events_endpoint_closes_a_request_that_never_finishes(
    harness: HarnessFactory, slack: FakeSlack, partial: str
) -> None:
    r = await rig(harness, slack, {}, listener_timeout=0.2)
    port = r.adapter.bound_port
    assert port is not None
    answer = await sent_and_left_open(port, PARTIAL_REQUESTS[partial])
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
    # The endpoint still serves a whole, signed event afterwards.
    status, _ = await r.post({"type": "url_verification", "challenge": "c-1"})
    assert status == 200


async def test_the_allowlists_hold_on_every_way_in_buttons_included(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(
        harness,
        slack,
        {"image": slow(30, Reply("never"))},
        slack_allowed_users="U1,U3",
        slack_allowed_channels="C1",
    )
    slack.add_user("U3", name="carol", display_name="carol")
    mention = app_mention("<@UBOT> Image: a hero image", user="U1", channel="C1")
    await r.event(mention)
    await slack.wait_for(lambda: r.h.servers["image"].calls, timeout=5)
    task_id = (await r.h.rows("SELECT id FROM tasks"))[0]["id"]
    ack = r.posts(mention["ts"])[0]

    def press(user: str, channel: str) -> dict[str, Any]:
        return block_actions(
            "dispatch_cancel_task",
            task_id,
            user=user,
            channel=channel,
            message_ts=ack["ts"],
            thread_ts=mention["ts"],
        )

    knocks: list[tuple[str, dict[str, Any]]] = [
        ("event", app_mention("<@UBOT> Image: mine", user="U2", channel="C1")),
        ("event", message("Image: a DM", user="U2", channel="D2", channel_type="im")),
        ("event", message("also this", user="U2", channel="C1", thread_ts=mention["ts"])),
        ("button", press("U2", "C1")),
        ("event", app_mention("<@UBOT> Image: here", user="U3", channel="C2")),
        ("button", press("U3", "C2")),
    ]
    for way, payload in knocks:
        if way == "event":
            await r.event(payload)
        else:
            assert (await r.post(payload, form=True))[0] == 200
    await slack.wait_for(lambda: len(slack.ephemerals) >= len(knocks) or None, timeout=5)
    await asyncio.sleep(0.2)
    said = [(e["user"], e["text"]) for e in slack.ephemerals]
    assert said == [("U2", render.NOT_ON_THE_LIST)] * 4 + [("U3", render.NOT_IN_THIS_CHANNEL)] * 2
    assert len(await r.h.rows("SELECT id FROM requests")) == 1
    assert (await r.h.rows("SELECT state FROM tasks"))[0]["state"] == "running"
    # Allowed people still get through: a DM from an allowed user is outside the channel list.
    dm = message("what's in flight?", user="U3", channel="D3", channel_type="im")
    await r.event(dm)
    answer = await slack.wait_for(lambda: next(iter(r.posts(dm["ts"])), None), timeout=5)
    assert answer["text"] == "Nothing in flight for you."


async def test_a_relay_cannot_ping_anyone_or_write_into_dispatchs_own_block(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    loud = "<!channel> <!here> <!everyone> <!subteam^S1|@devs> <@U2> and @channel: read this"

    async def writer(call: AgentCall) -> Outcome:
        return Reply(
            loud,
            files=[
                ("evil", "javascript:alert(1)"),
                ("x|<!channel>", "https://files.example/a>|<!here> *Dispatch*: all clear"),
                ("ok.pdf", "https://files.example/ok.pdf?a=1&b=2"),
            ],
        )

    r = await rig(harness, slack, {"writer": writer})
    # A user launders a ping through an agent that quotes the request.
    mention = app_mention("<@UBOT> Writer: repeat after me <!channel>")
    await r.event(mention)
    await r.settle(1)
    [result] = [p for p in r.posts(mention["ts"]) if is_result(p)]
    shown = json.dumps([result["text"], result["blocks"]], ensure_ascii=False)
    for ping in ("<!", "<@", "@channel", "@here", "@everyone"):
        assert ping not in shown
    assert result["blocks"][0]["text"].startswith("@\u200bchannel @\u200bhere @\u200beveryone")
    links = result["blocks"][-1]["text"]["text"].split("\n")
    assert links[0] == "📎 evil"  # not a link at all
    assert (
        links[1]
        == "📎 <https://files.example/a%3E%7C%3C!here%3E%20*Dispatch*:%20all%20clear|x¦@\u200bchannel>"
    )
    assert links[2] == "📎 <https://files.example/ok.pdf?a=1&amp;b=2|ok.pdf>"
    every_post = json.dumps(r.posts(mention["ts"]), ensure_ascii=False)
    assert "<!channel>" not in every_post


async def test_status_asked_in_public_is_an_ephemeral_and_in_a_thread_only_that_thread(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    r = await rig(
        harness, slack, {"image": slow(30, Reply("never")), "writer": slow(30, Reply("never"))}
    )
    private = message("Writer: my secret memo", channel="D1", channel_type="im", user="U1")
    public = app_mention("<@UBOT> Image: a banner for the blog", channel="C1", user="U1")
    for event in (private, public):
        await r.event(event)
    await slack.wait_for(
        lambda: len(r.h.servers["writer"].calls + r.h.servers["image"].calls) == 2 or None,
        timeout=5,
    )
    before = len(slack.messages)

    asked = app_mention("<@UBOT> what's in flight?", channel="C2", user="U1")
    await r.event(asked)
    answer = await slack.wait_for(lambda: next(iter(slack.ephemerals), None), timeout=5)
    assert answer["user"] == "U1" and answer["channel"] == "C2"
    assert answer["thread_ts"] == asked["ts"]  # where Dispatch answers every mention
    assert answer["text"].startswith("2 in flight for you:")
    assert "my secret memo" in answer["text"] and "a banner for the blog" in answer["text"]
    await asyncio.sleep(0.2)
    assert len(slack.messages) == before, "nothing was posted for everyone to see"
    history = await r.h.rows("SELECT text FROM history WHERE text LIKE '%secret memo%'")
    assert all("in flight" not in row["text"] for row in history)

    in_thread_ = message("what's in flight?", channel="C1", user="U2", thread_ts=public["ts"])
    await r.event(in_thread_)
    status = await slack.wait_for(
        lambda: next((p for p in r.posts(public["ts"]) if "in flight" in p["text"]), None),
        timeout=5,
    )
    assert status["text"].startswith("1 in flight in this thread:")
    assert "secret memo" not in status["text"]
    assert len(slack.ephemerals) == 1


async def test_a_huge_result_is_a_few_posts_and_a_file_each_part_once(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    text = long_report(paragraphs=1200)  # 9 markdown blocks
    assert len(split_chunks(text, MARKDOWN_LIMIT)) > 4

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text, files=[("report.pdf", "https://files.example/report.pdf")])

    r = await rig(harness, slack, {"writer": writer}, max_result_messages=3)
    # The share fails once: the retry must not post the first parts again, and the file
    # is shared once.
    slack.fail("files.completeUploadExternal", "internal_error", times=1)
    mention = app_mention("<@UBOT> Writer: the whole report")
    await r.event(mention)
    await r.settle(1, timeout=30)

    results = [p for p in r.posts(mention["ts"]) if is_result(p)]
    assert len(results) == 2
    shared = [f for f in slack.files.values() if f["completed"]]
    assert len(shared) == 1 and len(shared[0]["shares"]) == 1
    [upload] = [p for p in r.posts(mention["ts"]) if p.get("files")]
    assert upload["files"] == [shared[0]["id"]]
    assert upload["text"].startswith("✍️ Writer's result goes on for")
    assert shared[0]["name"] == "writer-result-continued.md"
    bodies = split_chunks(text, MARKDOWN_LIMIT)[:2]
    assert [p["blocks"][0]["text"] for p in results] == [c.text for c in bodies]
    assert "".join(c.body for c in bodies) + shared[0]["data"].decode() == text
    assert "https://files.example/report.pdf" in str(results[-1]["blocks"][-1])
    thread = r.posts(mention["ts"])
    assert thread.index(upload) == thread.index(results[-1]) + 1
    assert thread[-1]["text"].startswith("Done in")


async def test_a_restart_mid_way_through_a_long_result_posts_no_part_twice(
    harness: HarnessFactory, slack: FakeSlack
) -> None:
    text = long_report(paragraphs=1200)

    async def writer(call: AgentCall) -> Outcome:
        return Reply(text)

    r = await rig(harness, slack, {"writer": writer}, max_result_messages=3)
    slack.fail("files.getUploadURLExternal", "internal_error", times=1000)  # Slack is ill
    mention = app_mention("<@UBOT> Writer: the whole report")
    await r.event(mention)
    await slack.wait_for(lambda: len([p for p in r.posts(mention["ts"]) if is_result(p)]) == 2)
    for _ in range(200):  # the parts out are on record before the file is tried
        rows = await r.h.rows("SELECT ref FROM outbox WHERE kind = 'result'")
        if rows and rows[0]["ref"] and len(json.loads(rows[0]["ref"])["parts"]) == 2:
            break
        await asyncio.sleep(0.05)
    await r.h.restart()  # a new process, with a new Slack adapter and no memory of the parts
    slack._faults.clear()  # Slack is well again
    await r.h.idle(timeout=30)

    results = [p for p in r.posts(mention["ts"]) if is_result(p)]
    assert len(results) == 2
    assert len([f for f in slack.files.values() if f["completed"]]) == 1
    [row] = await r.h.rows("SELECT state FROM outbox WHERE kind = 'result'")
    assert row["state"] == "sent"
