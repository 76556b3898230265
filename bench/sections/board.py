"""11. The web board: first paint with requests in flight, and what watching costs acks.

`board_in_flight` requests are put in flight through `Dispatcher.receive` (three tasks
each: a fifth of them fan-outs running on agents that hold their task, the rest chains
queued behind the persistent agents' main sessions). The real board (`bot.web.WebBoard`)
serves them on 127.0.0.1, and Debian's Chromium, under Playwright, loads it signed in:

- first paint: navigation start → the board drawn from its first event (the page's own
  `boardPaintedAt` mark, taken after the frame that shows it), `board_loads` loads after
  one warm-up, at a desktop and at a phone size;
- `/api/board`: the whole board as JSON, timed at the client, and its size;
- acknowledgements with a browser watching the live feed beside none: one-task requests to
  an instant agent, one at a time, in alternating blocks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.config import Sizes
from bench.load import Tracker, fill_in_flight, hold_fleet
from bench.rig import Rig, chain, fan_out, fleet_for, rig, sidecar, workdir
from bench.sidecar import AgentDef
from bench.stats import summary_ms

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TOKEN = "bench-board-token-0123456789"
TASKS_PER_REQUEST = 3
ACK_BLOCK = 25
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


def missing() -> str | None:
    """Why the section cannot run here, if it cannot."""
    if not CHROMIUM.exists():
        return "skipped: Debian's chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "skipped: playwright is not installed (pip install -e '.[bench]')"
    return None


def requests_text(count: int, hold: Any) -> list[str]:
    """`count` requests: every fifth a fan-out of three running tasks, the others chains of
    three behind the persistent agents (the first queued, the rest waiting on it)."""
    texts = []
    for i in range(count):
        if i % 5 == 0:
            agents = [hold.disposable[(i + k) % len(hold.disposable)] for k in range(3)]
            texts.append(fan_out(agents))
        else:
            agents = [hold.persistent[(i + k) % len(hold.persistent)] for k in range(3)]
            texts.append(chain(agents))
    return texts


MARKS = (
    "Object.fromEntries(performance.getEntriesByType('mark')"
    ".map(m => [m.name.replace('board-', ''), m.startTime]))"
)
"""The page's own marks: script running (connect), first data received, parsed, the
cards built, the frame painted."""
CARDS = "document.querySelectorAll('#flight .card').length"


async def all_cards(page: Any, count: int) -> None:
    """Wait until every request has its card (the older ones come after the first paint).
    Polled: the page's content security policy forbids the evaluated predicates of
    `wait_for_function`."""
    for _ in range(600):
        if await page.evaluate(CARDS) >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the board never showed {count} cards")


async def first_paints(
    browser: Any, url: str, cookie: dict[str, Any], loads: int, count: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (width, height) in VIEWPORTS.items():
        context = await browser.new_context(viewport={"width": width, "height": height})
        await context.add_cookies([cookie])
        samples: list[float] = []
        phases: dict[str, list[float]] = {}
        cards = drawn = 0
        for n in range(loads + 1):  # the first load warms the browser's caches up
            page = await context.new_page()
            await page.goto(url)
            await page.wait_for_selector("body[data-painted='1']", timeout=60_000)
            painted = await page.evaluate("window.boardPaintedAt")
            marks = await page.evaluate(MARKS)
            # Every card is on the page once the older requests have come too.
            await all_cards(page, count)
            cards = await page.locator(".card").count()
            drawn = await page.locator(".card svg").count()
            await page.close()
            if n:
                samples.append(painted / 1000)
                for mark, at in marks.items():
                    phases.setdefault(mark, []).append(at)
        await context.close()
        out[name] = {
            **summary_ms(samples),
            "cards": cards,
            "graphs_drawn": drawn,
            "phases_p50_ms": {k: round(sorted(v)[len(v) // 2], 1) for k, v in phases.items()},
        }
    return out


async def api_board(url: str, times: int) -> dict[str, Any]:
    samples, size = [], 0
    async with aiohttp.ClientSession() as http:
        for _ in range(times):
            start = time.monotonic()
            async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
                body = await answer.read()
            samples.append(time.monotonic() - start)
            size = len(body)
    return {**summary_ms(samples), "bytes": size}


async def acks(r: Rig, tracker: Tracker, quick: AgentDef, count: int, tag: str) -> list[float]:
    """One-task requests, one at a time; each waits for its closing line."""
    samples = []
    for n in range(count):
        request = r.request(f"{quick.skill} task", user=f"UA{n % 10}", channel=f"CA-{tag}")
        start = time.monotonic()
        await r.dispatcher.receive(request)
        log = await tracker.wait(request.thread_key, lambda lg: lg.closing_at is not None)
        assert log.ack_at is not None
        samples.append(log.ack_at - start)
        tracker.forget(request.thread_key)
    return samples


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    why = missing()
    if why is not None:
        note(why)
        return {"skipped": why}
    from playwright.async_api import async_playwright

    from bot.web import WebBoard
    from bot.web.auth import COOKIE

    count = sizes.board_in_flight
    hold = hold_fleet(count * TASKS_PER_REQUEST, 0.2)
    quick = AgentDef("quick", 0.0, "disposable")
    sub = AgentDef("sub", 0.0, "disposable")
    agents = [*hold.all, quick, sub]
    async with (
        sidecar(agents) as sc,
        workdir() as tmp,
        rig(tmp / "board.db", fleet_for(agents, sc.urls, sub), settings={"web_token": TOKEN}) as r,
    ):
        tracker = Tracker(r.adapter)
        fill = await fill_in_flight(
            r, hold, count * TASKS_PER_REQUEST, running_share=0.2, steady=True,
            texts=requests_text(count, hold),
        )  # fmt: skip
        note(f"{fill['requests']:,} requests in flight ({fill['states']}) in {fill['settle_s']}s")
        web = WebBoard(r.dispatcher, r.dispatcher.settings, host="127.0.0.1", port=0)
        await web.start()
        try:
            board = await api_board(web.url + "api/board", 10 if not sizes.smoke else 2)
            note(f"/api/board p50 {board['p50_ms']} ms, {board['bytes']:,} bytes")
            cookie: Any = {"name": COOKIE, "value": web.auth.cookie_value, "url": web.url}
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    paints = await first_paints(browser, web.url, cookie, sizes.board_loads, count)
                    note(
                        "first paint "
                        + ", ".join(f"{k} p50 {v['p50_ms']} / max {v['max_ms']} ms" for k, v in paints.items())
                    )  # fmt: skip
                    watched: list[float] = []
                    unwatched: list[float] = []
                    await acks(r, tracker, quick, 3, "warm")
                    blocks = max(1, sizes.board_acks // ACK_BLOCK // 2)
                    per_block = min(ACK_BLOCK, sizes.board_acks)
                    context = await browser.new_context()
                    await context.add_cookies([cookie])
                    for block in range(blocks):
                        page = await context.new_page()
                        await page.goto(web.url)
                        await page.wait_for_selector(".live[data-live='1']", timeout=60_000)
                        await all_cards(page, count)  # watching, not loading
                        reads = web.feed.reads
                        watched += await acks(r, tracker, quick, per_block, f"w{block}")
                        # The feed reads at most every PUSH_INTERVAL: a quick block may end
                        # before its changes are read, but they are read next.
                        async with asyncio.timeout(30):
                            while web.feed.reads == reads:
                                await asyncio.sleep(0.05)
                        await page.close()
                        while web.feed.clients:  # the stream has closed
                            await asyncio.sleep(0.05)
                        unwatched += await acks(r, tracker, quick, per_block, f"u{block}")
                    await context.close()
                finally:
                    await browser.close()
        finally:
            await web.stop()
        figures = {"watched": summary_ms(watched), "unwatched": summary_ms(unwatched)}
        note(
            "ack p99 watched "
            f"{figures['watched']['p99_ms']} ms, unwatched {figures['unwatched']['p99_ms']} ms"
        )
    return {
        "workload": {"requests_in_flight": count, "fill": fill},
        "first_paint": paints,
        "api_board": board,
        "ack": figures,
    }
