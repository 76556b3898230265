"""Metrics and traces: what the core reports, through one object, `Telemetry`.

The core calls a hook at each point that matters (a message taken in and decided, an agent
called and answered, a task ended, a message delivered) and reads on; each hook feeds the
Prometheus metrics (`bot.telemetry.metrics`) and the OpenTelemetry spans
(`bot.telemetry.tracing`) that are on, and costs one test when both are off (the default).
Serving `/metrics` is `bot.telemetry.server`'s.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.manifest import AgentSpec
    from bot.models import Request
    from bot.runner import Run
    from bot.settings import Settings
    from bot.store import Row
    from bot.telemetry.metrics import Metrics
    from bot.telemetry.tracing import Tracing

__all__ = ["AgentCall", "Telemetry"]

log = logging.getLogger(__name__)

MAX_PENDING = 100_000
"""Messages whose first reply is awaited, at most (for `dispatch_ack_seconds`); past it the
oldest is forgotten, so a message that is never answered cannot grow memory."""
FALLBACK_REASONS = frozenset({"timeout", "provider_error", "invalid_plan", "error"})


@dataclass(eq=False)
class AgentCall:
    """One call to an agent under way: when it began, and its span."""

    agent: str
    started: float = 0.0
    span: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    """What carries the call's trace to the agent (`traceparent`), for its metadata."""
    conversation: str = ""
    """The conversation id its span carries: every agent event names it again."""


NO_CALL = AgentCall("")
"""What `agent_call` returns when nothing is on: no headers, nothing to end."""


class Telemetry:
    """The hooks the core calls. `Telemetry()` is all off; `from_settings` follows the
    settings (`DISPATCH_METRICS`, `DISPATCH_METRICS_PORT`, `DISPATCH_OTEL`)."""

    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self.on = metrics is not None or tracing is not None
        self._acks: dict[str, tuple[float, str]] = {}
        """request id → (when it reached the core, its platform), until its first reply."""
        self._calls: dict[str, AgentCall] = {}
        """task id → the call to its agent under way."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Telemetry:
        """Raises ValueError (one line) when traces are asked for without the otel extra.
        Each part is imported only when it is on (prometheus-client alone takes 0.1 s)."""
        metrics = tracing = None
        if settings.metrics_enabled:
            from bot.telemetry.metrics import Metrics

            metrics = Metrics()
        if settings.otel:
            from bot.telemetry.tracing import make_tracing

            tracing = make_tracing(settings)
        return cls(metrics, tracing)

    # -- intake ------------------------------------------------------------------------------

    def yield_to(self, busy: Callable[[], bool]) -> None:
        """Span exports wait (a little) while `busy()` says messages are being taken in."""
        if self.tracing is not None:
            self.tracing.yield_to(busy)

    def request_received(self, request_id: str, request: Request) -> str | None:
        """A message reached the core; returns the `traceparent` its row keeps, if tracing."""
        if self.metrics is not None:
            self._acks[request_id] = (time.monotonic(), request.platform)
            if len(self._acks) > MAX_PENDING:
                del self._acks[next(iter(self._acks))]
        if self.tracing is not None:
            return self.tracing.start_request(request_id, request)
        return None

    def request_dropped(self, request_id: str) -> None:
        """A duplicate delivery: it was never taken in."""
        if self.on:
            self._acks.pop(request_id, None)
            if self.tracing is not None:
                self.tracing.drop_request(request_id)

    def request_decided(self, request_id: str, kind: str, planner: str) -> None:
        """A message's decision: `kind` (or "refused": over a limit) by `planner`."""
        if not self.on:
            return
        if self.metrics is not None:
            self.metrics.requests.labels(kind, planner).inc()
            if kind == "answer":  # an answer goes to the agent that asked: nothing is said
                self._acks.pop(request_id, None)
        if self.tracing is not None:
            self.tracing.decided(request_id, kind, planner)

    def request_taken(self, request_id: str) -> None:
        """Intake is all there is to a message (it started no work): its span ends. One that
        started work ends with its closing line."""
        if self.tracing is not None:
            self.tracing.end_request(request_id)

    def planner_fallback(self, reason: str) -> None:
        """The model planner left a plan to the rules (`reason` is one of FALLBACK_REASONS)."""
        if self.metrics is not None:
            self.metrics.planner_fallbacks.labels(reason).inc()

    # -- agents --------------------------------------------------------------------------------

    def agent_call(
        self, task_id: str, run: Run, agent: AgentSpec, mode: str, brief: str
    ) -> AgentCall:
        """A call to an agent begins (a brief, an answer, or following a task it has)."""
        if not self.on:
            return NO_CALL
        call = AgentCall(agent.id, time.monotonic())
        if self.tracing is not None:
            call.conversation = run.context_id or run.session_key or ""
            call.span, call.headers = self.tracing.start_task(
                task_id,
                run.request_id,
                agent_id=agent.id,
                agent_name=agent.name,
                backend=agent.backend.kind,
                conversation=call.conversation or None,
                traceparent=run.traceparent,
                mode=mode,
                attempt=run.attempt,
                brief=brief,
            )
        self._calls[task_id] = call
        return call

    def agent_conversation(self, task_id: str, context_id: str) -> None:
        if self.tracing is None or (call := self._calls.get(task_id)) is None:
            return
        if call.conversation != context_id:
            call.conversation = context_id
            self.tracing.conversation(call.span, context_id)

    def agent_call_ended(
        self,
        task_id: str,
        outcome: str,
        *,
        result: str | None = None,
        call: AgentCall | None = None,
    ) -> None:
        """The call for `task_id` ended (if `call` is given: only if it is still that one)."""
        if not self.on:
            return
        current = self._calls.get(task_id)
        if current is None or (call is not None and current is not call):
            return
        del self._calls[task_id]
        if self.metrics is not None:
            self.metrics.agent_call_seconds.labels(current.agent, outcome).observe(
                time.monotonic() - current.started
            )
        if self.tracing is not None:
            self.tracing.end_task(current.span, outcome, result)

    def task_ended(self, task_id: str, agent: str, state: str, result: str | None) -> None:
        """A task reached a terminal state (and the call to its agent, if any, ended)."""
        if not self.on:
            return
        if self.metrics is not None:
            self.metrics.tasks_finished.labels(agent, state).inc()
        self.agent_call_ended(task_id, state, result=result)

    # -- deliveries ----------------------------------------------------------------------------

    def delivered(
        self, row: Row, platform: str, outcome: str, started_ns: int, *, rate_limited: bool = False
    ) -> None:
        """One attempt to post outbox message `row`, begun at `started_ns` (time.time_ns):
        sent, deferred, retried or dead. Never raises: it runs between a post and its record."""
        if not self.on:
            return
        try:
            self._delivered(row, platform, outcome, started_ns, rate_limited)
        except Exception:
            log.exception("recording a delivery's telemetry failed")

    def _delivered(
        self, row: Row, platform: str, outcome: str, started_ns: int, rate_limited: bool
    ) -> None:
        kind, request_id = row["kind"], row["request_id"]
        if self.metrics is not None:
            self.metrics.deliveries.labels(platform, kind, outcome).inc()
            if rate_limited:
                self.metrics.rate_limited.labels(platform).inc()
            if outcome == "sent":
                if (pending := self._acks.pop(request_id, None)) is not None:
                    self.metrics.ack_seconds.labels(platform, kind).observe(
                        time.monotonic() - pending[0]
                    )
                if kind == "result":
                    # Queued in the transaction that recorded the result.
                    self.metrics.relay_seconds.labels(platform).observe(
                        max(time.time() - row["created_at"], 0.0)
                    )
        if self.tracing is not None:
            self.tracing.delivered(
                request_id, row["id"], kind, platform, outcome, row["attempts"], started_ns
            )
            if kind == "closing" and outcome == "sent":
                self.tracing.end_request(request_id)

    def rate_limited(self, platform: str) -> None:
        """A platform answered 429 outside a delivery (a status-board edit)."""
        if self.metrics is not None:
            self.metrics.rate_limited.labels(platform).inc()

    # -- replicas (fed by whoever runs several replicas) ---------------------------------

    def replicas(self, alive: int) -> None:
        if self.metrics is not None:
            self.metrics.replicas.set(alive)

    def replica_heartbeat(self, replica: str, at: float) -> None:
        if self.metrics is not None:
            self.metrics.replica_heartbeat.labels(replica).set(at)

    # -- lifetime ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """End the calls still open (as interrupted: the work resumes after a restart) and
        flush the traces."""
        for task_id in list(self._calls):
            self.agent_call_ended(task_id, "interrupted")
        if self.tracing is not None:
            await self.tracing.aclose()
