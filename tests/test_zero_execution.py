"""Zero execution, end to end: whatever users type, Dispatch only routes, asks, reports and relays."""

from __future__ import annotations

import re

from bot.demo.agent_server import AgentCall, Outcome, Reply
from bot.outbound import OUTBOUND_KINDS
from tests.conftest import HarnessFactory
from tests.test_planner import ADVERSARIAL, ORDINARY, QUESTION_SHAPES, QUESTIONS

SHAPES = {
    "ack": re.compile(
        r"^(?:(?:.+ is unavailable right now \(.+\)\.|Moving “.+” from .+ to .+; I'll route requests like this to .+ from now on\.) )*"
        r"(On it: .+ → .+ \((main session|fresh disposable session)\)\. I'll post the result here\."
        r"|(Two|Three|Four|Five|Six|Seven|Eight|Nine|\d+) in parallel: .+\. Reporting as each finishes\."
        r"|(Two|Three|Four|Five|Six|Seven|Eight|Nine|\d+) steps: .+\. Reporting as each finishes\."
        r"|No specialist covers this, so a disposable 🧪 Sub-agent takes it: .+[.?!…] I'll post the result here\."
        r"|Back to .+ \((same session|new session, with this thread's context)\): .+[.?!…] I'll post the reply here\.)$",
        re.DOTALL,
    ),
    "closing": re.compile(r"^(Done|Finished) in [\d.hms]+: .+\.$"),
    "notice": re.compile(
        r"^(Routing…|Cancelled: .+\.|Nothing .+\.|There is nothing here to send elsewhere\.|Only the person who asked.+\.|Those had already finished\.|That message is [\d,]+ characters; .+"
        r"|That question is no longer open\.|.+ (failed|timed out|was cancelled) on “.+”.*"
        r"|You have \d+ task\(s\) in flight .+|That's more than \d+ requests from you .+"
        r"|Only .+, who made this request, or an admin can answer that\.)$",
        re.DOTALL,
    ),
    "status": re.compile(
        r"^(Nothing in flight .+\.|.*\d+ in flight .+:\n• .+|.+ has nothing in flight .+\.)$",
        re.DOTALL,
    ),
    "roster": re.compile(
        r"^(\d+ agents on call \(\d+ available\):\n• .+|For “.+”:\n• .+|No specialist covers “.+”\. .+)$",
        re.DOTALL,
    ),
}


def agent_reply(agent_id: str):  # type: ignore[no-untyped-def]
    async def handle(call: AgentCall) -> Outcome:
        return Reply(f"AGENT-OUTPUT from {agent_id} #{len(call.text)}")

    return handle


async def test_no_input_makes_dispatch_answer_a_work_request_itself(
    harness: HarnessFactory,
) -> None:
    ids = ["dev", "designer", "image", "writer", "social", "research", "subagent"]
    h = await harness(
        {agent_id: agent_reply(agent_id) for agent_id in ids},
        settings={"max_requests_per_minute": 0, "max_in_flight_per_user": 0},  # one user, many
    )
    inputs = ADVERSARIAL + ORDINARY
    for index, text in enumerate(inputs):
        await h.say(text, channel=f"C{index}")
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
            assert SHAPES[message.kind].match(message.text), (message.kind, message.text)
            assert "AGENT-OUTPUT" not in message.text
    # Every work request went to an agent: nothing was answered in place.
    work = await h.rows("SELECT id FROM requests WHERE kind IN ('work', 'followup')")
    with_tasks = await h.rows("SELECT DISTINCT request_id FROM tasks")
    assert {r["id"] for r in work} == {r["request_id"] for r in with_tasks}
    assert len(work) >= len(ORDINARY)
