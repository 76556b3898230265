"""Restarts: recovery finishes what an earlier process left, and only that."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.demo.agent_server import AgentCall, Outcome, Reply
from tests.conftest import Harness, both_stores

store_kind = both_stores


async def test_a_request_taken_in_before_recovery_reaches_its_agent_once(
    tmp_path: Path, new_db: Callable[[str], str]
) -> None:
    """Adapters listen before the dispatcher has recovered, and a platform's retry makes a
    message arriving in that gap normal. Its task must not start until recovery has run:
    recovery would take it for one a dead process left running and send it again."""
    release = asyncio.Event()
    calls: list[str] = []

    async def dev(call: AgentCall) -> Outcome:
        calls.append(call.context_id)
        await release.wait()
        return Reply("fixed")

    h = Harness(new_db("dispatch"), {"dev": dev}, state_dir=tmp_path)
    await h.start_agents()
    said = []

    async def message_in_the_gap() -> None:
        said.append(await h.say("@dev the login page returns a 500"))
        assert h.dispatcher is not None
        pumper = h.dispatcher.runner._pumper  # let intake's pump run now, as it would in the gap
        if pumper is not None:
            await asyncio.wait_for(asyncio.shield(pumper), 10)

    h.listening = message_in_the_gap
    try:
        await h.start()
        for _ in range(500):
            if calls:
                break
            await asyncio.sleep(0.01)
        release.set()
        await h.idle()
        assert len(calls) == 1, calls
        posted = h.adapter.in_thread(said[0].thread_key)
        assert [m.kind for m in posted] == ["ack", "result", "closing"]
        assert [m.text for m in posted if m.kind == "result"] == ["fixed"]
    finally:
        await h.close()
