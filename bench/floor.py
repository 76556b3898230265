"""The fleet's own floor: what a fan-out takes with no orchestrator at all.

A minimal client (aiohttp, one JSON-RPC `SendStreamingMessage` per agent, each stream read to
its end and nothing parsed) calls every agent of a fan-out at once. Its makespan, over the
agents' delay, is what the stand-in fleet and this machine cost before any orchestrator does
anything: no plan, no database, no brief, no post. Its client spends about 0.3 ms of CPU per
call, where the a2a-sdk client (used by Dispatch and by the LangGraph peer) spends about 1.2.
So a ratio above 1.02 here is a floor no orchestrator on this rig can go under.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

import aiohttp

_ids = itertools.count(1)


async def _call(http: aiohttp.ClientSession, url: str) -> None:
    n = next(_ids)
    body = {
        "jsonrpc": "2.0",
        "id": n,
        "method": "SendStreamingMessage",
        "params": {
            "message": {
                "messageId": f"floor-{n}",
                "role": "ROLE_USER",
                "parts": [{"text": f"floor task {n}"}],
            }
        },
    }
    async with http.post(url, json=body, headers={"A2A-Version": "1.0"}) as response:
        response.raise_for_status()
        stream = await response.read()
    if b"TASK_STATE_COMPLETED" not in stream:
        raise RuntimeError(f"{url} did not complete: {stream[-300:]!r}")


async def fan_out_makespans(urls: Sequence[str], runs: int) -> list[float]:
    """`runs` fan-outs over `urls`, one after another: seconds from the first call to the
    last stream's end, each."""
    makespans = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(_call(http, url) for url in urls))  # connections, warm
        for _ in range(runs):
            start = time.monotonic()
            await asyncio.gather(*(_call(http, url) for url in urls))
            makespans.append(time.monotonic() - start)
    return makespans
