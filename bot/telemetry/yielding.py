"""A span exporter that lets a burst of incoming messages go first.

Encoding spans for OTLP is Python work in the exporter's own thread, and it takes the
interpreter's lock from the acknowledgements of a burst as surely as work on the event loop
would. So an export waits, a bounded while, for the intake to fall quiet; the batch processor
keeps queueing (and, past its queue, dropping) spans meanwhile, as it would for a slow
collector. A batch goes in slices, each waiting in turn, so a burst that begins while one is
being encoded waits on that slice only, not on the whole batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

EXPORT_HOLD = 0.25
"""Seconds an export waits at most for the intake to fall quiet: longer than a burst takes to
be acknowledged, short enough that under a steady stream (always busy) the exporter still
sends about two thousand spans a second, where the batch processor would start dropping."""
POLL = 0.01
SLICE = 128
"""Spans encoded and sent at a time: a few milliseconds of encoding each."""


class YieldingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, hold: float = EXPORT_HOLD, slice_: int = SLICE) -> None:
        self.inner = inner
        self.hold = hold
        self.slice = slice_
        self.busy: Callable[[], bool] = lambda: False
        """Whether messages are being taken in; read from the exporter's thread."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """The whole batch waits `hold` at most between its slices; a slice that fails ends
        the export (the exporter has already retried it), as one failed batch would."""
        deadline = time.monotonic() + self.hold
        for start in range(0, len(spans), self.slice):
            while self.busy() and time.monotonic() < deadline:
                time.sleep(POLL)
            result = self.inner.export(spans[start : start + self.slice])
            if result is not SpanExportResult.SUCCESS:
                return result
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
