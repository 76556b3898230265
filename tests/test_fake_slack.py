"""The Slack fake (tests/fakes/slack.py) against the real slack-sdk and slack-bolt."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import (
    FakeSlack,
    app_mention,
    block_actions,
    event_callback,
    message,
    serve_app,
    signed_request,
)

SECRET = "s"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


# ------------------------------------------------------------------------------- Web API


async def test_web_client_posts_updates_and_opens_dm(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    posted = await client.chat_postMessage(
        channel="C1",
        text="hello",
        thread_ts="1700000000.000001",
        blocks=blocks,
        username="Dispatch",
        icon_emoji=":rotating_light:",
        unfurl_links=False,
    )
    ts = posted["ts"]
    assert posted["channel"] == "C1" and posted["message"]["thread_ts"] == "1700000000.000001"
    second = await client.chat_postMessage(channel="C1", text="again")
    assert float(second["ts"]) > float(ts)

    updated = await client.chat_update(channel="C1", ts=ts, text="edited")
    assert (updated["ts"], updated["text"]) == (ts, "edited")
    await client.chat_update(channel="C1", ts=ts, text="edited twice")

    msg = slack.find_message("C1", ts)
    assert msg is not None
    assert msg["text"] == "edited twice" and msg["blocks"] == blocks
    assert [u["text"] for u in msg["updates"]] == ["edited", "edited twice"]
    assert msg["username"] == "Dispatch" and msg["unfurl_links"] is False
    assert slack.thread("1700000000.000001") == [msg]

    dm = await client.conversations_open(users="U7")
    assert dm["channel"]["id"] == "DU7"
    user = await client.users_info(user="U7")
    assert user["user"]["id"] == "U7" and "display_name" in user["user"]["profile"]
    link = await client.chat_getPermalink(channel="C1", message_ts=ts)
    digits = ts.replace(".", "")
    assert link["permalink"] == (
        f"https://dispatch-test.slack.com/archives/C1/p{digits}?thread_ts=1700000000.000001&cid=C1"
    )
    eph = await client.chat_postEphemeral(channel="C1", user="U7", text="psst")
    assert eph["message_ts"]
    await client.reactions_add(channel="C1", timestamp=ts, name="eyes")
    assert slack.reactions == [{"channel": "C1", "timestamp": ts, "name": "eyes"}]
    await client.views_publish(user_id="U7", view={"type": "home", "blocks": []})
    assert slack.views["U7"]["type"] == "home"

    # How slack_sdk sends each method: JSON body, query string on a form POST, or GET.
    kinds = {c.method: (c.http_method, c.content_type) for c in slack.calls}
    assert kinds["chat.postMessage"] == ("POST", "application/json")
    assert kinds["auth.test"] == ("POST", "application/x-www-form-urlencoded")
    assert kinds["users.info"][0] == "GET"
    assert all(c.token == "xoxb-test" and c.status == 200 for c in slack.calls)
    assert [c.params["text"] for c in slack.calls_to("chat.update")] == ["edited", "edited twice"]


async def test_form_encoded_json_fields_are_decoded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "divider"}]
    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)}
    )
    call = slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["blocks"] == blocks
    assert slack.messages[0]["blocks"] == blocks


async def test_rate_limit_is_a_429_with_retry_after(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C1", text="hi")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"
    await client.chat_postMessage(channel="C1", text="hi")  # only the next call was limited
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]

    # slack_sdk's own retry handler honours the fake's 429.
    slack.rate_limit("chat.update", times=1, retry_after=0)
    retrying = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    ts = slack.messages[0]["ts"]
    await retrying.chat_update(channel="C1", ts=ts, text="later")
    assert [c.status for c in slack.calls_to("chat.update")] == [429, 200]


async def test_failures_outages_and_auth(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", "channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            await client.chat_postMessage(channel="C404", text="hi")
        assert info.value.response["error"] == "channel_not_found"

    slack.go_down(times=1)
    with pytest.raises(SlackApiError) as info:
        await client.reactions_add(channel="C1", timestamp="1.2", name="eyes")
    assert info.value.response.status_code == 503

    bad = AsyncWebClient(token="xoxp-wrong", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as info:
        await bad.auth_test()
    assert info.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as info:  # a bot token can't open a socket
        await client.apps_connections_open(app_token="xoxb-test")
    assert info.value.response["error"] == "invalid_auth"
    opened = await client.apps_connections_open(app_token="xapp-test")
    assert opened["url"] == slack.socket_url

    with pytest.raises(SlackApiError) as info:
        await client.api_call("no.such.method")
    assert info.value.response["error"] == "unknown_method"
    assert slack.calls[-1].status == 200 and slack.calls[-1].method == "no.such.method"

    with pytest.raises(TimeoutError, match=r"no\.such\.method"):
        await slack.wait_for(lambda: slack.calls_to("chat.delete"), timeout=0.05)


# ----------------------------------------------------------------------- bolt: HTTP mode


async def test_bolt_http_mode(slack: FakeSlack, client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)
    clicks: list[str] = []

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: AsyncSay) -> None:
        await say(text="on it", thread_ts=event.get("thread_ts") or event["ts"])

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        clicks.append(body["actions"][0]["value"])
        await respond(text="approved")

    async with (
        serve_app(app.web_app(path="/slack/events")) as base,
        aiohttp.ClientSession() as http,
    ):
        url = f"{base}/slack/events"
        mention = app_mention("<@UBOT> do the thing", channel="C9")
        raw, headers = signed_request(SECRET, event_callback(mention))
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 200
        reply = await slack.wait_for(lambda: slack.thread(mention["ts"], channel="C9"))
        assert reply[0]["text"] == "on it"
        assert slack.calls_to("auth.test"), "bolt authorizes with auth.test on first request"

        raw, headers = signed_request(SECRET, event_callback(mention))
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 401
        raw, headers = signed_request(
            SECRET, event_callback(mention), timestamp=int(time.time()) - 600
        )
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 401

        raw, headers = signed_request(
            SECRET, {"type": "url_verification", "challenge": "abc123", "token": "t"}
        )
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["challenge"] == "abc123"

        payload = block_actions("approve", "task-1", response_url=slack.new_response_url())
        raw, headers = signed_request(SECRET, payload, form=True)
        assert raw.startswith(b"payload=")
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 200
        responses = await slack.wait_for(lambda: slack.responses)
        assert clicks == ["task-1"] and responses[0]["payload"]["text"] == "approved"


# ---------------------------------------------------------------------- bolt: Socket Mode


async def test_bolt_socket_mode(slack: FakeSlack, client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: AsyncSay) -> None:
        seen.append(event)
        await say(text=f"got: {event['text']}", thread_ts=event["ts"])

    @app.action("cancel")
    async def on_cancel(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        seen.append(body)

    handler = AsyncSocketModeHandler(app, app_token="xapp-test")
    try:
        await handler.connect_async()
        await slack.wait_socket_connected(timeout=5)
        assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"

        dm = message("status?", channel="D1", channel_type="im")
        envelope_id = await slack.push_socket_event(event_callback(dm), retry_attempt=0)
        assert await slack.wait_socket_ack(envelope_id, timeout=5) is None
        reply = await slack.wait_for(lambda: slack.thread(dm["ts"], channel="D1"))
        assert reply[0]["text"] == "got: status?" and seen[0]["channel_type"] == "im"

        click = await slack.push_socket_event(
            block_actions("cancel", "task-2", channel="D1"), type="interactive"
        )
        await slack.wait_socket_ack(click, timeout=5)
        await slack.wait_for(lambda: len(seen) == 2)
        assert seen[1]["actions"][0]["value"] == "task-2"
        assert slack.socket_acks == [envelope_id, click]
    finally:
        await handler.close_async()


async def test_files_upload_v2_shares_once_and_only_what_arrived(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    response = await client.files_upload_v2(
        channel="C1",
        thread_ts="1.2",
        content=b"the rest of it",
        filename="rest.md",
        title="rest.md",
        initial_comment="more in the file",
    )
    file_id = response["file"]["id"]
    stored = slack.files[file_id]
    assert stored["data"] == b"the rest of it" and stored["completed"]
    assert stored["shares"] == [{"channel": "C1", "ts": slack.messages[-1]["ts"]}]
    assert slack.messages[-1]["text"] == "more in the file"
    assert slack.messages[-1]["thread_ts"] == "1.2"
    assert slack.messages[-1]["files"] == [file_id]
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    # A file completes once; and not before its bytes have arrived in full.
    with pytest.raises(SlackApiError, match="file_already_completed"):
        await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C1")
    url = await client.files_getUploadURLExternal(filename="x.md", length=10)
    with pytest.raises(SlackApiError, match="file_upload_size_mismatch"):
        await client.files_completeUploadExternal(files=[{"id": url["file_id"]}], channel_id="C1")
    assert len(slack.messages) == 1
