"""Zero execution, end to end: whatever users type, Dispatch only routes, asks, reports and relays."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from bot import render
from bot.demo.agent_server import AgentCall, Outcome, Reply
from bot.outbound import OUTBOUND_KINDS
from tests.conftest import HarnessFactory
from tests.test_planner import ADVERSARIAL, ORDINARY, QUESTION_SHAPES, QUESTIONS

INPUTS = ADVERSARIAL + ORDINARY
LIMIT = max(len(text) for text in INPUTS)
ASIDES = ["what's in flight?", "who can make images?", "cancel everything", "x" * (LIMIT + 1)]
"""Messages Dispatch answers itself (status, roster, cancel, a refusal), so that each kind
of text it says is checked, not only acknowledgements and closing lines."""
WHOLE = {
    "ack": {"ack"},
    "closing": {"closing"},
    "status": {"status", "nothing_in_flight"},
    "roster": {"roster", "roster_for"},
}
"""The render functions whose output is a whole message of each kind; any other kind (a
notice) must be one of render's sentences too, whichever it is."""


class Said:
    """Every sentence `bot.render` made during a test, by the function that made it."""

    def __init__(self) -> None:
        self.by: dict[str, set[str]] = {}
        """text → the render functions that returned it (constants: their own name)."""
        for name, value in vars(render).items():
            if isinstance(value, str) and name.isupper():
                self.by.setdefault(value, set()).add(name)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            out = function(*args, **kwargs)
            if isinstance(out, str):
                self.by.setdefault(out, set()).add(name)
            return out

        return recorded

    def makers(self, text: str) -> set[str]:
        """Which render functions said exactly this; empty for a sentence made elsewhere."""
        return self.by.get(text, set())


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> Said:
    """Records every public render function's output. Callers look them up on the module
    (`render.ack(...)`), so each call goes through the wrapper."""
    record = Said()
    for name, value in list(vars(render).items()):
        if inspect.isfunction(value) and value.__module__ == render.__name__:
            if not name.startswith("_"):
                monkeypatch.setattr(render, name, record.wrap(name, value))
    return record


def test_a_sentence_made_outside_render_is_caught(said: Said) -> None:
    """The check below cannot be met by a look-alike: only render's own output passes."""
    made = render.too_many_requests(5)
    assert said.makers(made) == {"too_many_requests"}
    assert said.makers(render.ROUTING) == {"ROUTING"}
    assert said.makers(made.replace("5", "6")) == set()
    assert said.makers("Cancelled: everything.") == set()


def agent_reply(agent_id: str):  # type: ignore[no-untyped-def]
    async def handle(call: AgentCall) -> Outcome:
        return Reply(f"AGENT-OUTPUT from {agent_id} #{len(call.text)}")

    return handle


async def test_no_input_makes_dispatch_answer_a_work_request_itself(
    harness: HarnessFactory, said: Said
) -> None:
    ids = ["dev", "designer", "image", "writer", "social", "research", "subagent"]
    h = await harness(
        {agent_id: agent_reply(agent_id) for agent_id in ids},
        # One user sends many; the last aside is over the length limit.
        settings={
            "max_requests_per_minute": 0,
            "max_in_flight_per_user": 0,
            "max_message_chars": LIMIT,
        },
    )
    inputs = INPUTS
    for index, text in enumerate(inputs):
        await h.say(text, channel=f"C{index}")
    await h.idle(timeout=60)
    for text in ASIDES:  # in a thread with work in it, and in an empty channel
        await h.say(text, channel="C0")
        await h.say(text, channel="C-empty")
    await h.idle(timeout=60)

    posted = [p.message for p in h.adapter.posted]
    assert len(posted) >= len(inputs)
    results = {r["id"]: r["result"] for r in await h.rows("SELECT id, result FROM tasks")}
    for message in posted:
        assert message.kind in OUTBOUND_KINDS
        if message.kind == "result":
            # Word for word what the agent returned, attributed to that agent.
            assert message.task_id is not None and message.text == results[message.task_id]
            assert message.agent is not None
            assert message.text.startswith(f"AGENT-OUTPUT from {message.agent.id} #")
        elif message.kind == "clarify":
            assert message.text in QUESTIONS or QUESTION_SHAPES.match(message.text), message.text
        elif message.kind == "question":
            raise AssertionError("no agent asked anything")
        else:
            # Every word Dispatch says is render's: the exact output of one of its functions
            # (the one for that kind of message) or one of its sentences.
            makers = said.makers(message.text)
            assert makers, (message.kind, message.text)
            if message.kind in WHOLE:
                assert makers & WHOLE[message.kind], (message.kind, message.text, makers)
            assert "AGENT-OUTPUT" not in message.text
    # Every work request went to an agent: nothing was answered in place.
    work = await h.rows("SELECT id FROM requests WHERE kind IN ('work', 'followup')")
    with_tasks = await h.rows("SELECT DISTINCT request_id FROM tasks")
    assert {r["id"] for r in work} == {r["request_id"] for r in with_tasks}
    assert len(work) >= len(ORDINARY)
