"""7. A peer on the same workload: LangGraph with its SQLite checkpointer.

The same plan shapes as section 2 (fan-outs with `Send`, the chain, the diamond), against the
same kind of A2A agents (a fresh sidecar, same delays), called with the a2a-sdk client over
JSON-RPC with streaming, as Dispatch calls them. The graph is compiled with
`AsyncSqliteSaver` (langgraph-checkpoint-sqlite), so every super-step is checkpointed to a
SQLite file, like Dispatch's own state. Makespan: `ainvoke` called → `ainvoke` returned
(every result in hand; LangGraph posts nothing to a chat, so it has no relay step).

Optional: installed by the `bench` extra. Without langgraph the section is skipped with a
note saying how to install it.
"""

from __future__ import annotations

import operator
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import httpx

from bench.config import Sizes
from bench.rig import sidecar, workdir
from bench.sections.orchestration import Shape, orchestration_agents, shapes, summarize_runs
from bench.sidecar import AgentDef, parse_stamp

INSTALL_HINT = "pip install -e '.[bench]' (langgraph, langgraph-checkpoint-sqlite)"


def available() -> str | None:
    """None if the peer can run, else why not."""
    try:
        import langgraph.graph  # noqa: F401
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver  # noqa: F401
    except ImportError as exc:
        missing = (exc.name or "langgraph").split(".")[0]
        return f"skipped: {missing} is not installed; {INSTALL_HINT}"
    return None


class A2ACaller:
    """One a2a-sdk client per agent (card resolved once), streaming JSON-RPC."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, read=60.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=200),
        )
        self._clients: dict[str, Any] = {}

    async def _client(self, agent: str) -> Any:
        if agent not in self._clients:
            from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
            from a2a.utils.constants import TransportProtocol

            card = await A2ACardResolver(self.http, self.urls[agent]).get_agent_card()
            config = ClientConfig(
                httpx_client=self.http,
                streaming=True,
                supported_protocol_bindings=[TransportProtocol.JSONRPC],
            )
            self._clients[agent] = ClientFactory(config).create(card)
        return self._clients[agent]

    async def call(self, agent: str, text: str) -> str:
        """Send `text`; return the result artifact's text once the task is completed."""
        from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

        client = await self._client(agent)
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex, parts=[Part(text=text)])
        chunks: list[str] = []
        async for response in client.send_message(SendMessageRequest(message=message)):
            kind = response.WhichOneof("payload")
            if kind == "artifact_update":
                chunks += [p.text for p in response.artifact_update.artifact.parts]
            elif kind == "task" and response.task.artifacts:
                chunks = [p.text for a in response.task.artifacts for p in a.parts]
            state = (
                response.status_update.status.state
                if kind == "status_update"
                else response.task.status.state
                if kind == "task"
                else None
            )
            if state == TaskState.TASK_STATE_COMPLETED:
                break
            if state in (TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED):
                raise RuntimeError(f"agent {agent} ended in state {state}")
        return "".join(chunks)

    async def aclose(self) -> None:
        await self.http.aclose()


class State(TypedDict):
    request: str
    results: Annotated[list[dict[str, str]], operator.add]


class Call(TypedDict):
    """What a `Send` hands one fan-out branch."""

    agent: str
    brief: str


def build_graph(shape: Shape, caller: A2ACaller) -> Any:
    """The shape as a LangGraph: `Send` for a fan-out, plain edges for a chain or diamond."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    graph = StateGraph(State)
    if not shape.deps:  # a fan-out: one Send per agent

        async def call(arg: Call) -> dict[str, Any]:
            text = await caller.call(arg["agent"], arg["brief"])
            return {"results": [{"agent": arg["agent"], "text": text}]}

        def route(state: State) -> list[Any]:  # Send objects (evaluated by LangGraph)
            return [
                Send(
                    "call", {"agent": a.id, "brief": f"Task: {a.skill} task\n\n{state['request']}"}
                )
                for a in shape.agents
            ]

        graph.add_node("call", call)  # type: ignore[call-overload]  # a Send target
        graph.add_conditional_edges(START, route, ["call"])
        graph.add_edge("call", END)
        return graph

    def node(agent: AgentDef) -> Callable[[State], Any]:
        async def run(state: State) -> dict[str, Any]:
            prior = "\n".join(r["text"] for r in state["results"])
            text = await caller.call(agent.id, f"Task: {agent.skill} task\n\n{prior}")
            return {"results": [{"agent": agent.id, "text": text}]}

        return run

    for agent in shape.agents:
        graph.add_node(agent.id, node(agent))  # type: ignore[call-overload]
    dependents = {d for deps in shape.deps.values() for d in deps}
    for agent in shape.agents:
        deps = shape.deps.get(agent.id, [])
        if not deps:
            graph.add_edge(START, agent.id)
        elif len(deps) == 1:
            graph.add_edge(deps[0], agent.id)
        else:
            graph.add_edge(deps, agent.id)
        if agent.id not in dependents:
            graph.add_edge(agent.id, END)
    return graph


async def run_shape(
    compiled: Any, shape: Shape, runs: int
) -> tuple[list[float], dict[str, list[float]]]:
    makespans: list[float] = []
    gaps: dict[str, list[float]] = {"entry": [], "handoff": [], "exit": []}
    for _ in range(runs):
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        start = time.monotonic()
        state = await compiled.ainvoke({"request": shape.text, "results": []}, config)
        end = time.monotonic()
        makespans.append(end - start)
        stamps: dict[str, tuple[float, float]] = {}
        for result in state["results"]:
            stamp = parse_stamp(result["text"])
            assert stamp is not None
            stamps[result["agent"]] = stamp
        dependents = {d for deps in shape.deps.values() for d in deps}
        for agent in shape.agents:
            deps = shape.deps.get(agent.id, [])
            began, finished = stamps[agent.id]
            if deps:
                gaps["handoff"].append(began - max(stamps[d][1] for d in deps))
            else:
                gaps["entry"].append(began - start)
            if agent.id not in dependents:  # a last step: its result ends the graph
                gaps["exit"].append(end - finished)
    return makespans, gaps


async def run(sizes: Sizes, note: Callable[[str], None]) -> dict[str, Any]:
    why_not = available()
    if why_not is not None:
        note(why_not)
        return {"skipped": why_not}
    import importlib.metadata

    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    agents = orchestration_agents(sizes)
    out: dict[str, Any] = {}
    async with sidecar(agents) as sc, workdir() as tmp:
        caller = A2ACaller(sc.urls)
        try:
            async with AsyncSqliteSaver.from_conn_string(str(Path(tmp) / "peer.db")) as saver:
                all_shapes = shapes(agents, sizes)
                compiled = {
                    s.name: build_graph(s, caller).compile(checkpointer=saver) for s in all_shapes
                }
                widest = f"fan_out_{max(sizes.fan_outs)}"
                await run_shape(
                    compiled[widest], next(s for s in all_shapes if s.name == widest), 1
                )
                for shape in all_shapes:
                    makespans, gaps = await run_shape(
                        compiled[shape.name], shape, sizes.repeats[shape.name]
                    )
                    out[shape.name] = summarize_runs(shape, sizes.agent_delay, makespans, gaps)
                    note(
                        f"langgraph {shape.name}: overhead p50"
                        f" {out[shape.name]['overhead']['p50_ms']} ms"
                    )
        finally:
            await caller.aclose()
    return {
        "workload": {
            "agent_delay_s": sizes.agent_delay,
            "repeats": sizes.repeats,
            "peer": "langgraph "
            + importlib.metadata.version("langgraph")
            + ", langgraph-checkpoint-sqlite "
            + importlib.metadata.version("langgraph-checkpoint-sqlite"),
            "makespan_ends": "when ainvoke returns (results in hand; no chat relay)",
        },
        "shapes": out,
    }
