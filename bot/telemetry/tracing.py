"""OpenTelemetry traces, following the GenAI semantic conventions (the `otel` extra).

A request is one `invoke_workflow` span, from intake to its closing line (or to its answer,
for a message that makes no work). Each call to an agent is an `invoke_agent` span under it,
with `gen_ai.agent.name` and `gen_ai.conversation.id` (the agent's A2A contextId, else the
session key), and its W3C `traceparent` goes to the agent, so the agent's own spans join the
trace. Each delivery attempt is a span under the request too.

A request's tasks run across time (hours, for some) and may be picked up after a restart, so
spans are never "current": every parent is given explicitly. The request's span context is
kept in memory and its `traceparent` on the request's row, which parents the task spans of a
request recovered after a restart (its own span died with the process that began it).

Nothing a user or an agent wrote goes into an attribute unless `DISPATCH_OTEL_CONTENT=true`:
by default spans carry ids, agents, kinds, states and outcomes.

Imported only when traces are on: without the extra, `make_tracing` says how to install it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING, Any, NamedTuple

try:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import (
        NonRecordingSpan,
        Span,
        SpanContext,
        SpanKind,
        Status,
        StatusCode,
    )
    from opentelemetry.trace import set_span_in_context as _in_context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    AVAILABLE = True
except ImportError:  # the otel extra is not installed
    AVAILABLE = False

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.models import Request
    from bot.settings import Settings
    from bot.telemetry.yielding import YieldingExporter

INSTALL = "pip install 'dispatch[otel]'"
MAX_OPEN = 50_000
"""Request spans kept open (and request contexts kept for late children) at most: past it the
oldest goes, so a request that never closes cannot grow memory without bound."""
FAILED_OUTCOMES = frozenset({"failed", "timed_out"})
"""Agent-call outcomes that mark the span as an error."""
DELIVERY_SPANS_AFTER = 0.25
"""Seconds a delivery waits to become a span: building spans costs the event loop more than
the posts they describe, and a burst of acknowledgements should not wait on them."""


def make_tracing(settings: Settings) -> Tracing | None:
    """Tracing as the settings ask: None when off; a ValueError (one line) when it is on
    without the extra installed."""
    if not settings.otel:
        return None
    if not AVAILABLE:
        raise ValueError(f"DISPATCH_OTEL is on but OpenTelemetry is not installed: {INSTALL}")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create; the name
    # defaults to Dispatch's own rather than "unknown_service".
    name = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "dispatch"}
    provider = TracerProvider(resource=Resource.create(name))
    # The endpoint, headers and timeout come from OTEL_EXPORTER_OTLP_* as usual.
    from bot.telemetry.yielding import YieldingExporter

    exporter = YieldingExporter(OTLPSpanExporter())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider, content=settings.otel_content, owned=True, exporter=exporter)


def _messages(role: str, text: str) -> str:
    """`gen_ai.input.messages` / `gen_ai.output.messages` as their JSON schema has them."""
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


class _Delivery(NamedTuple):
    """One delivery attempt, kept until it is made into a span."""

    request_id: str
    outbox_id: int
    kind: str
    platform: str
    outcome: str
    attempt: int
    started_ns: int
    ended_ns: int


class Tracing:
    """Spans for requests, agent calls and deliveries, on `provider` (never the global one,
    so a test's provider and exporter are its own)."""

    def __init__(
        self,
        provider: TracerProvider,
        *,
        content: bool = False,
        owned: bool = False,
        max_open: int = MAX_OPEN,
        exporter: YieldingExporter | None = None,
    ) -> None:
        """`owned`: the provider is ours to shut down when Dispatch stops (else it is only
        flushed: whoever made it may use it again). `exporter`: the provider's, if it yields
        to the intake (`yield_to`)."""
        self.provider = provider
        self.exporter = exporter
        self.content = content
        self.owned = owned
        self.max_open = max_open
        self._tracer = provider.get_tracer("dispatch")
        self._propagator = TraceContextTextMapPropagator()
        self._requests: dict[str, Span] = {}
        """request id → its open span."""
        self._parents: dict[str, Context] = {}
        """request id → the context its children hang from (kept after its span ends)."""
        self._deliveries: list[_Delivery] = []
        """Deliveries not yet made into spans."""
        self._flush: asyncio.TimerHandle | None = None

    def yield_to(self, busy: Callable[[], bool]) -> None:
        """Exports wait a little while `busy()` (messages are being taken in)."""
        if self.exporter is not None:
            self.exporter.busy = busy

    # -- requests --------------------------------------------------------------------------

    def start_request(self, request_id: str, request: Request) -> str:
        """Open the request's span; returns its `traceparent` to store on the request row."""
        span = self._tracer.start_span(
            "invoke_workflow dispatch",
            context=Context(),  # a root: whatever is current belongs to someone else
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_workflow",
                "gen_ai.workflow.name": "dispatch",
                "dispatch.request.id": request_id,
                "dispatch.platform": request.platform,
            },
        )
        if self.content:
            span.set_attribute("gen_ai.input.messages", _messages("user", request.text))
        self._requests[request_id] = span
        # Children need only its ids: kept past its end, the span itself would be kept too.
        ids = span.get_span_context()
        self._remember(request_id, _in_context(NonRecordingSpan(ids)))
        if len(self._requests) > self.max_open:
            self._requests.pop(next(iter(self._requests))).end()
        return _traceparent(ids)

    def decided(self, request_id: str, kind: str, planner: str) -> None:
        span = self._requests.get(request_id)
        if span is not None:
            span.set_attributes({"dispatch.decision.kind": kind, "dispatch.planner": planner})

    def end_request(self, request_id: str) -> None:
        span = self._requests.pop(request_id, None)
        if span is not None:
            span.end()

    def drop_request(self, request_id: str) -> None:
        """Forget a request that was not taken in (a duplicate delivery): never exported."""
        self._requests.pop(request_id, None)
        self._parents.pop(request_id, None)

    # -- agent calls -----------------------------------------------------------------------

    def start_task(
        self,
        task_id: str,
        request_id: str,
        *,
        agent_id: str,
        agent_name: str,
        backend: str,
        conversation: str | None,
        traceparent: str | None,
        mode: str,
        attempt: int,
        brief: str,
    ) -> tuple[Span, dict[str, str]]:
        """Open the span of one call to an agent; returns it with the W3C headers
        (`traceparent`, maybe `tracestate`) that carry it to the agent."""
        parent = self._parents.get(request_id)
        if parent is None and traceparent:
            parent = self._propagator.extract({"traceparent": traceparent}, context=Context())
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": backend,
            "gen_ai.agent.id": agent_id,
            "gen_ai.agent.name": agent_name,
            "dispatch.task.id": task_id,
            "dispatch.task.mode": mode,
        }
        if attempt:
            attributes["dispatch.task.attempt"] = attempt
        if conversation:
            attributes["gen_ai.conversation.id"] = conversation
        if self.content and brief:
            attributes["gen_ai.input.messages"] = _messages("user", brief)
        span = self._tracer.start_span(
            f"invoke_agent {agent_name}",
            context=parent or Context(),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        ids = span.get_span_context()
        headers = {"traceparent": _traceparent(ids)}
        if ids.trace_state:
            headers["tracestate"] = ids.trace_state.to_header()
        return span, headers

    @staticmethod
    def conversation(span: Span, context_id: str) -> None:
        """The agent named its conversation (A2A contextId) once the call was under way."""
        span.set_attribute("gen_ai.conversation.id", context_id)

    def end_task(self, span: Span, outcome: str, result: str | None = None) -> None:
        span.set_attribute("dispatch.task.outcome", outcome)
        if outcome in FAILED_OUTCOMES:
            span.set_attribute("error.type", outcome)
            span.set_status(Status(StatusCode.ERROR))
        if self.content and result:
            span.set_attribute("gen_ai.output.messages", _messages("assistant", result))
        span.end()

    # -- deliveries ------------------------------------------------------------------------

    def delivered(
        self,
        request_id: str,
        outbox_id: int,
        kind: str,
        platform: str,
        outcome: str,
        attempt: int,
        started_ns: int,
    ) -> None:
        """One delivery attempt, begun at `started_ns`, ended now with `outcome`; its span is
        made a moment later (`DELIVERY_SPANS_AFTER`), with these times."""
        self._deliveries.append(
            _Delivery(
                request_id, outbox_id, kind, platform, outcome, attempt, started_ns, time.time_ns()
            )
        )
        if self._flush is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush_deliveries()
                return
            self._flush = loop.call_later(DELIVERY_SPANS_AFTER, self.flush_deliveries)

    def flush_deliveries(self) -> None:
        """Make the deliveries recorded so far into spans."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        deliveries, self._deliveries = self._deliveries, []
        for delivery in deliveries:
            self._delivery_span(delivery)

    def _delivery_span(self, d: _Delivery) -> None:
        attributes: dict[str, Any] = {
            "dispatch.outbox.id": d.outbox_id,
            "dispatch.outbound.kind": d.kind,
            "dispatch.platform": d.platform,
            "dispatch.delivery.outcome": d.outcome,
        }
        if d.attempt:
            attributes["dispatch.delivery.attempt"] = d.attempt
        parent = self._parents.get(d.request_id)
        if parent is None:  # from before a restart: the request is named instead
            attributes["dispatch.request.id"] = d.request_id
        span = self._tracer.start_span(
            f"deliver {d.kind}",
            context=parent or Context(),
            kind=SpanKind.CLIENT,
            start_time=d.started_ns,
            attributes=attributes,
        )
        if d.outcome == "dead":
            span.set_attribute("error.type", "dead")
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=d.ended_ns)

    async def flush(self) -> None:
        """Send every span so far, the deliveries still waiting to become spans included."""
        self.flush_deliveries()
        await asyncio.to_thread(self.provider.force_flush)  # may wait on the network

    async def aclose(self) -> None:
        """End the requests still open and flush to the exporter. Their work goes on after
        a restart (under new spans); these end here as interrupted, so they are not lost."""
        self.flush_deliveries()
        for span in self._requests.values():
            span.set_attribute("dispatch.request.interrupted", True)
            span.end()
        self._requests.clear()
        # Either may wait on the network: not on the event loop.
        await asyncio.to_thread(self.provider.shutdown if self.owned else self.provider.force_flush)

    # -- helpers ---------------------------------------------------------------------------

    def _remember(self, request_id: str, context: Context) -> None:
        self._parents[request_id] = context
        if len(self._parents) > self.max_open:
            del self._parents[next(iter(self._parents))]


def _traceparent(ids: SpanContext) -> str:
    """The W3C `traceparent` header of a span (what the propagator writes, without its
    checks: the ids come from our own spans)."""
    return f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}"


__all__ = ["AVAILABLE", "INSTALL", "Tracing", "make_tracing"]
