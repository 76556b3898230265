"""The web board: a real dispatcher with real A2A agents, the board's real aiohttp server on
127.0.0.1, and Debian's Chromium driven by Playwright (never a downloaded browser).

Agents here wait on gates the test opens, so "the writer finished while the others still
run" is a step of the test, not a matter of timing."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo.agent_server import AgentCall, Ask, Fail, Outcome, Reply
from bot.settings import Settings
from bot.telemetry.server import exposition
from bot.web import WebBoard, check_settings, live
from bot.web.auth import COOKIE, CSRF_HEADER
from tests.conftest import Harness, HarnessFactory
from tests.test_cli import cli_env, dispatch_argv, write_fleet

TOKEN = "board-token-0123456789abcdef"
ADMIN = "UADMIN"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LAUNCH = "Launch prep: brand images, landing page copy, and announcement tweets"
CHAIN = "Design the new logo, then use it on the landing page"


def echo_reply(agent: str) -> Callable[[AgentCall], Awaitable[Outcome]]:
    async def handle(call: AgentCall) -> Outcome:
        return Reply(f"{agent} did it")

    return handle


class Gates:
    """Agents that finish only when the test says so."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}

    def gate(self, agent: str) -> asyncio.Event:
        return self.gates.setdefault(agent, asyncio.Event())

    def handler(self, agent: str) -> Callable[[AgentCall], Awaitable[Outcome]]:
        async def handle(call: AgentCall) -> Outcome:
            await self.gate(agent).wait()
            task = next(
                (line[6:] for line in call.text.splitlines() if line.startswith("Task: ")), "?"
            )
            return Reply(f"{agent} did: {task}")

        return handle

    def open(self, agent: str) -> None:
        self.gate(agent).set()


BoardFactory = Callable[..., Awaitable[tuple[Harness, WebBoard]]]


@pytest.fixture
async def board(harness: HarnessFactory) -> AsyncIterator[BoardFactory]:
    """`await board(handlers, settings={...})` → a started harness and its web board."""
    boards: list[WebBoard] = []

    async def make(
        handlers: dict[str, Any], *, settings: dict[str, Any] | None = None, **options: Any
    ) -> tuple[Harness, WebBoard]:
        wanted = {"web_token": TOKEN, "admins": ADMIN, "web_admin": ADMIN, **(settings or {})}
        h = await harness(handlers, settings=wanted)
        assert h.dispatcher is not None and h.settings is not None
        web = WebBoard(h.dispatcher, h.settings, host="127.0.0.1", port=0, **options)
        await web.start()
        boards.append(web)
        return h, web

    yield make
    for web in boards:
        await web.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, under Playwright."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in(browser: Any, web: WebBoard, *, width: int = 1280) -> Any:
    """A page that has signed in through the login form and drawn the board."""
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(web.url)
    await page.fill("input[name=token]", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_selector("body[data-painted='1']")
    await page.wait_for_selector(".live[data-live='1']")
    return page


def keep_artifact(path: Path) -> None:
    """Copy a test's screenshot to DISPATCH_ARTIFACTS, when the run keeps artifacts."""
    where = os.environ.get("DISPATCH_ARTIFACTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(where) / path.name)


async def request_tasks(h: Harness, thread: str) -> tuple[str, dict[str, str]]:
    """A thread's request id and its tasks by agent."""
    rows = await h.rows(
        "SELECT r.id AS rid, t.id, t.agent FROM tasks t JOIN requests r ON r.id = t.request_id"
        " WHERE r.thread = ? ORDER BY t.seq",
        (thread,),
    )
    return rows[0]["rid"], {row["agent"]: row["id"] for row in rows}


def node(request_id: str, task_id: str, state: str | None = None) -> str:
    where = f'[data-request="{request_id}"] [data-task="{task_id}"]'
    return where + (f'[data-state="{state}"]' if state else "")


# -- the board follows the work ------------------------------------------------------------


async def test_a_fan_out_and_a_chain_are_drawn_and_follow_their_agents(
    board: BoardFactory, browser: Any, tmp_path: Path
) -> None:
    gates = Gates()
    h, web = await board({a: gates.handler(a) for a in ("image", "writer", "social", "designer")})
    page = await signed_in(browser, web)

    fan = await h.say(LAUNCH, user="U1")
    chain = await h.say(CHAIN, user="U2")
    fan_id, fan_tasks = await request_tasks(h, fan.thread_key)
    chain_id, chain_tasks = await request_tasks(h, chain.thread_key)
    assert set(fan_tasks) == {"image", "writer", "social"}
    assert list(chain_tasks) == ["image", "designer"]

    # Both appear: three parallel nodes, and two joined by one edge.
    for agent in ("image", "writer", "social"):
        await page.wait_for_selector(node(fan_id, fan_tasks[agent], "running"))
    assert await page.locator(f'[data-request="{fan_id}"] path.edge').count() == 0
    edge = f'[data-request="{chain_id}"] path.edge'
    await page.wait_for_selector(
        f'{edge}[data-from="{chain_tasks["image"]}"][data-to="{chain_tasks["designer"]}"]',
        state="attached",
    )
    assert await page.locator(edge).count() == 1
    # The chain's logo waits behind Image's main session (busy with the fan-out's images),
    # and the landing page waits for the logo.
    await page.wait_for_selector(node(chain_id, chain_tasks["image"], "queued"))
    await page.wait_for_selector(node(chain_id, chain_tasks["designer"], "waiting"))
    queue = page.locator('.lane[data-agent="image"] .queue')
    await queue.filter(has_text="1 queued behind its main session: Design the new logo").wait_for()

    # The writer finishes: its node turns done while the others keep running.
    gates.open("writer")
    await page.wait_for_selector(node(fan_id, fan_tasks["writer"], "completed"))
    for agent in ("image", "social"):
        assert await page.locator(node(fan_id, fan_tasks[agent], "running")).count() == 1
    await page.wait_for_selector('.lane[data-agent="writer"] .n-done:text("✓ 1")')
    shot = tmp_path / "board.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep_artifact(shot)
    assert shot.stat().st_size > 10_000

    # Images done: the chain's logo runs, then the landing page gets its turn.
    gates.open("image")
    await page.wait_for_selector(node(fan_id, fan_tasks["image"], "completed"))
    await page.wait_for_selector(node(chain_id, chain_tasks["image"], "completed"))
    await page.wait_for_selector(node(chain_id, chain_tasks["designer"], "running"))
    await page.wait_for_selector(f"{edge}.from-done", state="attached")

    gates.open("social")
    gates.open("designer")
    await page.wait_for_selector(node(fan_id, fan_tasks["social"], "completed"))
    await page.wait_for_selector(node(chain_id, chain_tasks["designer"], "completed"))
    await h.idle()
    # Finished, both are listed among recent requests with their outcome.
    for request_id, done in ((fan_id, "✓ 3"), (chain_id, "✓ 2")):
        row = page.locator(f'#recent li[data-request="{request_id}"]')
        await row.wait_for()
        assert done in await row.inner_text()
    await page.close()


async def test_the_transcript_is_what_was_posted_in_the_thread(
    board: BoardFactory, browser: Any
) -> None:
    async def writer(call: AgentCall) -> Outcome:
        if not call.history:
            return Ask("Formal or casual tone?")
        return Reply(f"newsletter in a {call.text} tone\n\n- with a list\n- of two")

    h, web = await board({"writer": writer})
    page = await signed_in(browser, web)
    request = await h.say("Writer: draft the newsletter", user="U7")
    await h.adapter.wait_for(lambda: bool(h.adapter.of_kind("question")))
    await h.say("casual", thread=request.thread_key, user="U7")
    await h.idle()

    request_id, _ = await request_tasks(h, request.thread_key)
    await page.click(f'#recent li[data-request="{request_id}"] button')
    await page.wait_for_selector("#detail:not([hidden]) #transcript li")
    shown = await page.eval_on_selector_all(
        "#transcript li",
        "items => items.map(li => [li.dataset.kind, li.querySelector('.body').textContent])",
    )
    posted = [[m.kind, m.text] for m in h.adapter.in_thread(request.thread_key)]
    assert [kind for kind, _ in posted] == ["ack", "question", "result", "closing"]
    # What Dispatch and the agent posted, word for word and in order, with people's words
    # where they were written.
    assert [entry for entry in shown if entry[0] != "message"] == posted
    assert shown[0] == ["message", "Writer: draft the newsletter"]
    assert shown[2:4] == [["question", "Formal or casual tone?"], ["message", "casual"]]
    await page.close()


async def test_cancel_on_the_board_stops_the_task_and_retry_runs_it_again(
    board: BoardFactory, browser: Any
) -> None:
    gates = Gates()
    h, web = await board({"dev": gates.handler("dev")})
    page = await signed_in(browser, web)
    request = await h.say("Dev — the /api/users endpoint needs input validation", user="U3")
    request_id, tasks = await request_tasks(h, request.thread_key)
    task = tasks["dev"]
    await page.wait_for_selector(node(request_id, task, "running"))
    await h.adapter.wait_for(lambda: bool(h.servers["dev"].calls))

    await page.click(node(request_id, task))
    await page.click(f'[data-request="{request_id}"] button[data-action="cancel"]')
    await page.wait_for_selector(node(request_id, task, "cancelled"))
    [row] = await h.rows("SELECT state, error FROM tasks WHERE id = ?", (task,))
    assert row["state"] == "cancelled" and ADMIN in row["error"]  # as the board's admin
    await h.adapter.wait_for(lambda: bool(h.servers["dev"].cancelled))  # the agent was told
    await h.adapter.wait_for(lambda: bool(h.adapter.in_thread(request.thread_key, "notice")))
    [notice] = h.adapter.in_thread(request.thread_key, "notice")  # as a chat button says
    assert notice.text == "Cancelled: 💻 Dev → the /api/users endpoint needs input validation."

    # Retry from the same card: the finished request lingers on the board, and the task
    # stays selected, now offering Retry.
    await page.click(f'[data-request="{request_id}"] button[data-action="retry"]')
    await page.wait_for_selector(node(request_id, task, "running"))
    gates.open("dev")
    await page.wait_for_selector(node(request_id, task, "completed"))
    await h.idle()
    assert [m.text for m in h.adapter.in_thread(request.thread_key, "result")] == [
        "dev did: the /api/users endpoint needs input validation"
    ]
    await page.close()


async def test_recent_requests_are_filtered_by_user_channel_agent_and_state(
    board: BoardFactory,
) -> None:
    async def sub(call: AgentCall) -> Outcome:
        return Fail("the price API answered 503")

    h, web = await board(
        {"writer": echo_reply("writer"), "image": echo_reply("image"), "subagent": sub}
    )
    for text, user, channel in (
        ("Writer: draft the newsletter", "ann", "C-news"),
        ("Image: a fox logo", "bo", "C-brand"),
        ("What's the current price of Bitcoin?", "ann", "C-money"),
    ):  # one after the other: newest first is then this order backwards
        await h.say(text, user=user, channel=channel)
        await h.idle()
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    async def texts(**query: str) -> list[str]:
        async with aiohttp.ClientSession() as http:
            async with http.get(web.url + "api/requests", params=query, headers=bearer) as answer:
                assert answer.status == 200
                return [head["text"] for head in (await answer.json())["recent"]]

    everything = await texts()
    assert len(everything) == 3 and everything[0] == "What's the current price of Bitcoin?"
    assert await texts(user="ann") == [everything[0], "Writer: draft the newsletter"]
    assert await texts(channel="C-brand") == ["Image: a fox logo"]
    assert await texts(agent="writer") == ["Writer: draft the newsletter"]
    assert await texts(state="failed") == [everything[0]]
    assert await texts(state="done", user="ann") == ["Writer: draft the newsletter"]
    assert await texts(state="no-such-state") == everything  # an unknown state is no filter
    assert await texts(user="nobody") == []
    async with aiohttp.ClientSession() as http:
        async with http.get(web.url + "api/requests", headers=bearer) as answer:
            [failed, *_] = (await answer.json())["recent"]
    assert failed["outcome"] == {"failed": 1} and failed["agents"] == ["subagent"]
    assert failed["duration"] >= 0


async def test_the_board_fits_a_phone_screen_and_draws_the_rest_after_the_newest(
    board: BoardFactory, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "FIRST", 1)  # the newest request first, the others after it
    monkeypatch.setattr(live, "MORE_CHUNK", 1)
    gates = Gates()
    agents = ("image", "writer", "social", "designer", "dev")
    h, web = await board({a: gates.handler(a) for a in agents})
    fan = await h.say(LAUNCH, user="U1")
    chain = await h.say(CHAIN, user="U2")
    dev = await h.say("Dev — the /api/users endpoint needs input validation", user="U3")
    page = await signed_in(browser, web, width=390)
    ids = [(await request_tasks(h, r.thread_key))[0] for r in (dev, chain, fan)]
    for request_id in ids:
        await page.wait_for_selector(f'[data-request="{request_id}"] svg .node')
    shown = await page.eval_on_selector_all(
        "#flight .card", "cards => cards.map(c => c.dataset.request)"
    )
    assert shown == ids  # newest first
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0  # nothing wider than the screen: no sideways scrolling
    await page.close()


async def test_a_browser_gets_the_newest_requests_first_then_the_rest_then_deltas(
    board: BoardFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "FIRST", 2)
    monkeypatch.setattr(live, "MORE_CHUNK", 2)
    gates = Gates()
    h, web = await board({"writer": gates.handler("writer")})
    for n in range(5):
        await h.say(f"Writer: draft newsletter number {n}", user=f"U{n}")
    client = await web.feed.join()
    messages = [await client.queue.get() for _ in range(3)]
    kinds = [m.split(b"\n", 1)[0] for m in messages if m is not None]
    assert kinds == [b"event: board", b"event: more", b"event: more"]
    parts = [json.loads(m.split(b"data: ", 1)[1]) for m in messages if m is not None]
    texts = [r["text"] for part in parts for r in part["requests"]]
    assert texts == [f"Writer: draft newsletter number {n}" for n in (4, 3, 2, 1, 0)]
    assert parts[0]["more"] is True
    gates.open("writer")
    await h.idle()
    delta = await asyncio.wait_for(client.queue.get(), 10)
    assert delta is not None and delta.startswith(b"event: delta\n")
    web.feed.leave(client)


# -- nothing without the token ---------------------------------------------------------------


async def test_a_wrong_token_sees_nothing(board: BoardFactory, browser: Any) -> None:
    gates = Gates()
    h, web = await board({"dev": gates.handler("dev")})
    secret_words = "the /api/users endpoint needs input validation"
    request = await h.say(f"Dev — {secret_words}", user="U3")
    request_id, tasks = await request_tasks(h, request.thread_key)

    async with aiohttp.ClientSession() as http:
        for credentials in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Cookie": f"{COOKIE}=0123456789abcdef"},
            {"Cookie": f"{COOKIE}={TOKEN}"},  # the token itself is not the cookie's value
        ):
            for method, path in (
                ("GET", "/api/board"),
                ("GET", "/api/events"),
                ("GET", "/api/requests"),
                ("GET", f"/api/requests/{request_id}"),
                ("POST", f"/api/tasks/{tasks['dev']}/cancel"),
                ("POST", f"/api/requests/{request_id}/cancel"),
                ("GET", "/metrics"),
            ):
                async with http.request(method, web.url + path[1:], headers=credentials) as answer:
                    body = await answer.text()
                    assert answer.status == 401, (method, path, credentials, body)
                    assert secret_words not in body and request_id not in body
            async with http.get(web.url, headers=credentials) as answer:
                page_text = await answer.text()
                assert answer.status == 200 and 'name="token"' in page_text
                assert secret_words not in page_text
        async with http.post(web.url + "login", data={"token": "not-the-token-at-all"}) as answer:
            assert answer.status == 401 and COOKIE not in answer.cookies
            assert "That token is not right" in await answer.text()
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "running"  # nothing cancelled

    page = await browser.new_page()
    await page.goto(web.url)
    await page.fill("input[name=token]", "wrong-token-0123456789")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".wrong")
    assert secret_words not in await page.content()
    assert await page.locator("input[name=token]").count() == 1
    assert not [c for c in await page.context.cookies() if c["name"] == COOKIE]
    status = await page.evaluate("fetch('/api/board').then(r => r.status)")
    assert status == 401
    await page.close()


async def test_the_login_cookie_is_http_only_same_site_strict_and_not_the_token(
    board: BoardFactory, browser: Any
) -> None:
    _, web = await board({})
    page = await signed_in(browser, web)
    [cookie] = [c for c in await page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"]
    assert await page.evaluate("document.cookie") == ""  # scripts cannot read it
    await page.click(".logout button")
    await page.wait_for_selector("input[name=token]")
    assert await page.evaluate("fetch('/api/board').then(r => r.status)") == 401
    await page.close()


async def test_actions_need_the_csrf_value_with_a_cookie_and_an_admin_to_act_as(
    board: BoardFactory,
) -> None:
    gates = Gates()
    h, web = await board({"dev": gates.handler("dev")})
    request = await h.say("Dev — the /api/users endpoint needs input validation", user="U3")
    _, tasks = await request_tasks(h, request.thread_key)
    retry = f"{web.url}api/tasks/{tasks['dev']}/retry"
    cookie = {"Cookie": f"{COOKIE}={web.auth.cookie_value}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(web.url + "api/board", headers=cookie) as answer:
            assert answer.status == 200
            session = (await answer.json())["session"]
        assert session == {"csrf": web.auth.csrf_value, "admin": ADMIN}
        for headers in (
            cookie,  # no CSRF value
            {**cookie, CSRF_HEADER: "0" * 64},  # a wrong one
            {**cookie, CSRF_HEADER: session["csrf"], "Origin": "http://evil.example"},
        ):
            async with http.post(retry, headers=headers) as answer:
                assert answer.status == 403, headers
        async with http.post(
            retry, headers={**cookie, CSRF_HEADER: session["csrf"], "Origin": web.url[:-1]}
        ) as answer:
            assert answer.status == 200
            assert "nothing to retry" in (await answer.json())["text"]  # it runs
        async with http.post(retry, headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 200  # a bearer request carries its own credential
        async with http.post(
            f"{web.url}api/tasks/no-such-task/cancel", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as answer:
            assert answer.status == 404


async def test_without_an_admin_to_act_as_the_board_is_read_only(board: BoardFactory) -> None:
    gates = Gates()
    h, web = await board({"dev": gates.handler("dev")}, settings={"web_admin": ""})
    request = await h.say("Dev — the /api/users endpoint needs input validation", user="U3")
    _, tasks = await request_tasks(h, request.thread_key)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{web.url}api/tasks/{tasks['dev']}/cancel", headers=bearer) as answer:
            assert answer.status == 403
            assert "DISPATCH_WEB_ADMIN" in (await answer.json())["error"]
        async with http.get(web.url + "api/board", headers=bearer) as answer:
            assert (await answer.json())["session"]["admin"] is None
    assert (await h.rows("SELECT state FROM tasks"))[0]["state"] == "running"


def test_settings_a_board_is_refused_with() -> None:
    def refusal(**values: Any) -> str:
        with pytest.raises(ValueError) as caught:
            check_settings(Settings(**values))
        return str(caught.value)

    assert "DISPATCH_WEB_TOKEN" in refusal()
    assert "at least 16 characters" in refusal(web_token="short")
    assert "not one of DISPATCH_ADMINS" in refusal(web_token=TOKEN, admins="U1,U2", web_admin="U9")
    check_settings(Settings(web_token=TOKEN, admins="U1", web_admin="U1"))
    check_settings(Settings(web_token=TOKEN))
    assert TOKEN not in repr(Settings(web_token=TOKEN))


# -- the feed --------------------------------------------------------------------------------


async def test_the_feed_reads_nothing_while_nobody_watches_and_coalesces_when_watched(
    board: BoardFactory,
) -> None:
    gates = Gates()
    for agent in ("image", "writer", "social"):
        gates.open(agent)
    h, web = await board({a: gates.handler(a) for a in ("image", "writer", "social")})
    assert h.dispatcher is not None
    changes = 0

    def count() -> None:
        nonlocal changes
        changes += 1

    h.dispatcher.watchers.append(count)
    await h.say(LAUNCH)
    await h.idle()
    assert changes > 0 and web.feed.reads == 0  # no browser: the board read nothing

    client = await web.feed.join()
    first = await client.queue.get()
    assert first is not None and first.startswith(b"event: board\n")
    changes = 0
    for n in range(10):
        await h.say(f"{LAUNCH} #{n}", user=f"U{n}")
    await h.idle()
    await asyncio.sleep(3 * web.feed.interval)
    assert 0 < web.feed.reads < changes  # a burst of changes, fewer reads
    events = []
    while not client.queue.empty():
        events.append(client.queue.get_nowait())
    assert events and all(e is not None and e.startswith(b"event: delta\n") for e in events)
    web.feed.leave(client)


async def test_metrics_are_served_behind_the_same_token(board: BoardFactory) -> None:
    _, bare = await board({})
    h, web = await board({}, settings={"metrics": True})
    assert h.dispatcher is not None
    web.metrics = functools.partial(exposition, h.dispatcher)  # as `running_board` mounts them
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with http.get(web.url + "metrics", headers=bearer) as answer:
            assert answer.status == 200
            assert "# TYPE dispatch_requests_total counter" in await answer.text()
            assert answer.content_type == "text/plain"
        async with http.get(web.url + "metrics") as answer:
            assert answer.status == 401
        async with http.get(bare.url + "metrics", headers=bearer) as answer:
            assert answer.status == 404


# -- the command line ------------------------------------------------------------------------


async def _run(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *dispatch_argv(*args), cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, err.decode()


async def test_web_without_a_token_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet.yaml", {})
    db = str(tmp_path / "x.db")
    for args in (
        ("serve", "--console", "--fleet", str(fleet), "--db", db, "--web"),
        ("demo", "--script", "--db", db, "--web"),
    ):
        code, err = await _run(tmp_path, *args, env=cli_env())
        assert code == 2 and "Traceback" not in err, err
        [line] = err.strip().splitlines()
        assert line.startswith("dispatch: --web needs DISPATCH_WEB_TOKEN"), err
    code, err = await _run(
        tmp_path, "serve", "--console", "--fleet", str(fleet), "--db", db, "--web-port", "9999",
        env=cli_env(),
    )  # fmt: skip
    assert code == 2 and err.strip() == "dispatch: --web-host and --web-port only apply with --web"
    assert not (tmp_path / "x.db").exists()  # refused before anything started


async def test_demo_web_serves_the_board_while_the_script_plays(tmp_path: Path) -> None:
    env = {**cli_env(), "DISPATCH_WEB_TOKEN": TOKEN}
    process = await asyncio.create_subprocess_exec(
        *dispatch_argv("demo", "--script", "--speed", "8", "--db", str(tmp_path / "d.db"),
                       "--web", "--web-port", "0"),
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    said = ""
    while not (found := re.search(r"web board at (http://127\.0\.0\.1:\d+/)", said)):
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        assert line, said  # the board was announced before anything ended
        said += line
    url = found.group(1)
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "api/board") as answer:
            assert answer.status == 401
        async with http.get(
            url + "api/board", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as answer:
            assert answer.status == 200
            body = await answer.json()
            assert {lane["id"] for lane in body["lanes"]} >= {"dev", "designer", "image"}
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "all scenarios finished" in out.decode()
    assert TOKEN not in out.decode() + err.decode() + said
