"""OpenTelemetry traces: the SDK's in-memory exporter under the real dispatcher, real A2A and
HTTP agents that read the `traceparent` they were sent, and a real OTLP/HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.memory import MemoryAdapter
from bot.demo.agent_server import AgentCall, Outcome, Reply
from bot.runtime import wire
from bot.settings import PROJECT_ROOT, Settings
from bot.telemetry import Telemetry
from bot.telemetry.tracing import Tracing
from bot.telemetry.yielding import YieldingExporter
from tests.conftest import Harness, HarnessFactory, echo
from tests.fakes.server import LocalServer
from tests.test_http_backend import HTTPAgent, fleet_for, free_port

CHAIN = "Design the new zebra logo, then use it on the landing page"
SECRET_WORDS = ("zebra", "landing page", "did:")
"""From the request and the agents' results: never in an attribute unless content is on."""


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def telemetry(exporter: InMemorySpanExporter, *, content: bool = False) -> Telemetry:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Telemetry(tracing=Tracing(provider, content=content))


def traceparent(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


def named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


async def finished(h: Harness, exporter: InMemorySpanExporter) -> tuple[ReadableSpan, ...]:
    """The spans so far, the deliveries still waiting to become spans included."""
    assert h.dispatcher is not None and h.dispatcher.telemetry.tracing is not None
    await h.dispatcher.telemetry.tracing.flush()
    return exporter.get_finished_spans()


def texts(spans: Sequence[ReadableSpan]) -> str:
    """Every attribute value of every span, as one text to search."""
    return json.dumps([{k: str(v) for k, v in (s.attributes or {}).items()} for s in spans])


async def test_a_chain_is_one_trace_and_each_agent_gets_its_call_s_traceparent(
    harness: HarnessFactory, exporter: InMemorySpanExporter
) -> None:
    h = await harness(
        {"image": echo("image"), "designer": echo("designer")}, telemetry=telemetry(exporter)
    )
    await h.say(CHAIN)
    await h.idle()
    spans = await finished(h, exporter)

    [request] = named(spans, "invoke_workflow")
    assert request.parent is None and request.kind is SpanKind.INTERNAL
    assert request.attributes is not None
    assert request.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert request.attributes["dispatch.decision.kind"] == "work"
    assert request.attributes["dispatch.planner"] == "semantic"

    calls = named(spans, "invoke_agent")
    assert [s.name for s in calls] == ["invoke_agent Image", "invoke_agent Designer"]
    for span, agent in zip(calls, ("image", "designer"), strict=True):
        assert parent_id(span) == span_id(request)
        assert span.context.trace_id == request.context.trace_id
        assert span.kind is SpanKind.CLIENT
        attributes = span.attributes or {}
        assert attributes["gen_ai.operation.name"] == "invoke_agent"
        assert attributes["gen_ai.agent.id"] == agent
        assert attributes["dispatch.task.outcome"] == "completed"
        [call] = h.servers[agent].calls
        # The agent's own spans can join: the header (and the message metadata) carry the
        # call's span, and the conversation is the A2A context the agent saw.
        assert call.traceparent == traceparent(span)
        assert call.metadata["traceparent"] == traceparent(span)
        assert attributes["gen_ai.conversation.id"] == call.context_id
    image, designer = calls
    assert designer.start_time is not None and image.end_time is not None
    assert designer.start_time >= image.end_time  # a chain: one after the other

    deliveries = named(spans, "deliver")
    assert [(s.attributes or {})["dispatch.outbound.kind"] for s in deliveries] == [
        "ack", "result", "result", "closing",
    ]  # fmt: skip
    assert {parent_id(s) for s in deliveries} == {span_id(request)}
    assert all((s.attributes or {})["dispatch.delivery.outcome"] == "sent" for s in deliveries)
    # The request's span runs from intake to its closing line.
    assert request.start_time is not None and request.end_time is not None
    assert all(
        request.start_time <= (s.start_time or 0) and (s.end_time or 0) <= request.end_time
        for s in [*calls, *deliveries]
    )

    found = texts(spans)
    for words in SECRET_WORDS:
        assert words not in found, words


async def test_what_people_wrote_is_in_the_spans_only_with_content_on(
    harness: HarnessFactory, exporter: InMemorySpanExporter
) -> None:
    h = await harness(
        {"image": echo("image"), "designer": echo("designer")},
        telemetry=telemetry(exporter, content=True),
    )
    await h.say(CHAIN)
    await h.idle()
    spans = await finished(h, exporter)
    [request] = named(spans, "invoke_workflow")
    asked = json.loads(str((request.attributes or {})["gen_ai.input.messages"]))
    assert asked == [{"role": "user", "parts": [{"type": "text", "content": CHAIN}]}]
    image, designer = named(spans, "invoke_agent")
    brief = str((designer.attributes or {})["gen_ai.input.messages"])
    assert "use it on the landing page" in brief and "image did: Design the new zebra logo" in brief
    answer = json.loads(str((image.attributes or {})["gen_ai.output.messages"]))
    assert answer[0]["role"] == "assistant"
    assert answer[0]["parts"][0]["content"] == "image did: Design the new zebra logo"


async def test_after_a_restart_a_recovered_task_joins_its_request_s_trace(
    harness: HarnessFactory, exporter: InMemorySpanExporter
) -> None:
    gate = asyncio.Event()

    async def held(call: AgentCall) -> Outcome:
        await gate.wait()
        return Reply("validation added")

    h = await harness({"dev": held}, telemetry=telemetry(exporter))
    await h.say("Dev — the /api/users endpoint needs input validation")
    await h.adapter.wait_for(lambda: bool(h.servers["dev"].calls))
    [row] = await h.rows("SELECT traceparent FROM requests")
    stored = row["traceparent"]
    # A new process: nothing of the old one's spans in memory, only the request's row.
    h.telemetry = telemetry(exporter)
    await h.restart()
    gate.set()
    await h.idle()
    spans = await finished(h, exporter)
    first, recovered = named(spans, "invoke_agent Dev")
    assert (first.attributes or {})["dispatch.task.outcome"] == "interrupted"
    assert (recovered.attributes or {})["dispatch.task.mode"] == "watch"
    assert (recovered.attributes or {})["dispatch.task.outcome"] == "completed"
    _, trace_id, parent, _ = stored.split("-")
    assert recovered.context.trace_id == int(trace_id, 16) == first.context.trace_id
    assert parent_id(recovered) == int(parent, 16) == parent_id(first)


async def test_an_http_agent_gets_the_traceparent_header(
    tmp_path: Path, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRITER_TOKEN", "w-secret-123")

    async def answer(body: dict[str, Any]) -> web.Response:
        return web.json_response({"status": "completed", "result": "the newsletter"})

    settings = Settings(
        db=tmp_path / "d.db", callback_port=free_port(), soul=PROJECT_ROOT / "SOUL.md"
    )
    chat = MemoryAdapter()
    async with HTTPAgent(answer) as agent:
        service = await wire(settings, fleet_for(agent.url), [chat], telemetry=telemetry(exporter))
        try:
            await service.listen()
            await service.dispatcher.start()
            await chat.send("Writer: draft the newsletter")
            await service.dispatcher.idle(10)
        finally:
            await service.stop()
    [call] = named(exporter.get_finished_spans(), "invoke_agent")
    assert (call.attributes or {})["gen_ai.provider.name"] == "http"
    assert agent.headers[0]["traceparent"] == traceparent(call)
    assert agent.requests[0]["metadata"]["traceparent"] == traceparent(call)


class OTLPReceiver(LocalServer):
    """An OTLP/HTTP trace receiver: keeps each export request it is sent."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/traces", self._traces)

    async def _traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        self.exports.append(export)
        return web.Response(body=b"", content_type="application/x-protobuf")


@pytest.fixture
async def receiver() -> AsyncIterator[OTLPReceiver]:
    async with OTLPReceiver() as server:
        yield server


async def test_traces_are_exported_over_otlp_to_the_configured_endpoint(
    harness: HarnessFactory, receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base_url)
    h = await harness({"writer": echo("writer")}, settings={"otel": True})
    await h.say("Writer: draft the newsletter")
    await h.idle()
    assert h.dispatcher is not None and h.dispatcher.telemetry.tracing is not None
    # The exporter posts from its own thread, to a receiver served by this event loop.
    await h.dispatcher.telemetry.tracing.flush()
    exported = [
        (resource.resource, span)
        for export in receiver.exports
        for resource in export.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    names = {span.name for _, span in exported}
    assert {"invoke_workflow dispatch", "invoke_agent Writer", "deliver ack"} <= names
    service = {
        attribute.value.string_value
        for resource, _ in exported
        for attribute in resource.attributes
        if attribute.key == "service.name"
    }
    assert service == {"dispatch"}


def test_traces_on_without_the_extra_is_one_line(tmp_path: Path) -> None:
    # opentelemetry made unimportable, as in an install without the otel extra.
    script = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from bot.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")},
        "DISPATCH_OTEL": "true",
    }
    fleet = PROJECT_ROOT / "bot" / "demo" / "fleet.yaml"
    args = ["chat", "--fleet", str(fleet), "--db", str(tmp_path / "d.db")]
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr == (
        "dispatch: DISPATCH_OTEL is on but OpenTelemetry is not installed:"
        " pip install 'dispatch[otel]'\n"
    )


class Recording(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self.called = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.called.set()
        return super().export(spans)


def test_an_export_waits_while_messages_are_taken_in_then_goes() -> None:
    """Encoding spans takes the interpreter from a burst's acknowledgements: an export waits
    for the intake to fall quiet (bounded), then sends everything."""
    inner = Recording()
    exporter = YieldingExporter(inner, hold=600)
    busy = threading.Event()
    busy.set()
    exporter.busy = busy.is_set
    span = TracerProvider().get_tracer("t").start_span("two")
    span.end()
    sending = threading.Thread(target=exporter.export, args=([span],))
    sending.start()
    assert not inner.called.wait(0.1)  # held while busy
    busy.clear()
    sending.join()
    assert [s.name for s in inner.get_finished_spans()] == ["two"]


def test_an_export_held_past_its_bound_goes_anyway() -> None:
    inner = Recording()
    exporter = YieldingExporter(inner, hold=0.0)
    exporter.busy = lambda: True  # a stream of messages that never pauses
    span = TracerProvider().get_tracer("t").start_span("three")
    span.end()
    exporter.export([span])
    assert [s.name for s in inner.get_finished_spans()] == ["three"]


class Slices(Recording):
    """Records each export's span names; the second export makes the intake busy, as a
    burst that begins in the middle of a batch would."""

    def __init__(self, busy: threading.Event, fail_at: int | None = None) -> None:
        super().__init__()
        self.busy = busy
        self.fail_at = fail_at
        self.batches: list[list[str]] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.batches.append([s.name for s in spans])
        if len(self.batches) == self.fail_at:
            return SpanExportResult.FAILURE
        if len(self.batches) == 1:
            self.busy.set()
        return super().export(spans)


def _spans(n: int) -> list[ReadableSpan]:
    tracer = TracerProvider().get_tracer("t")
    spans = []
    for i in range(n):
        span = tracer.start_span(f"s{i}")
        span.end()
        spans.append(span)
    return spans  # type: ignore[return-value]


def test_a_batch_goes_in_slices_and_a_burst_in_the_middle_holds_the_rest() -> None:
    busy = threading.Event()
    inner = Slices(busy)
    exporter = YieldingExporter(inner, hold=600, slice_=2)
    exporter.busy = busy.is_set
    sending = threading.Thread(target=exporter.export, args=(_spans(5),))
    sending.start()
    assert busy.wait(60)  # the first slice went out, and the burst began (no race on time)
    assert sending.is_alive()  # held after the first slice
    assert inner.batches == [["s0", "s1"]]
    busy.clear()
    sending.join()
    assert inner.batches == [["s0", "s1"], ["s2", "s3"], ["s4"]]
    assert len(inner.get_finished_spans()) == 5


def test_a_slice_that_fails_ends_the_export() -> None:
    inner = Slices(threading.Event(), fail_at=2)
    exporter = YieldingExporter(inner, hold=0.0, slice_=2)
    assert exporter.export(_spans(6)) is SpanExportResult.FAILURE
    assert inner.batches == [["s0", "s1"], ["s2", "s3"]]
