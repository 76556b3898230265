"""Prometheus metrics: what Dispatch counts, in a registry of its own.

The registry is not prometheus-client's global one, so two dispatchers in one process (the
tests) count apart, and nothing else a library registers shows up on Dispatch's page. Every
label is bounded: agent ids from the manifest, platforms, outbound kinds, task states, decision
kinds, planner names and fallback reasons. Never anything a user or an agent wrote.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE", "NAMES", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The exposition format's media type, for whoever serves `Metrics.render()`."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: acknowledgements and relays take milliseconds, a paced or retried post seconds."""
AGENT_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
"""Seconds: an agent call takes from a fraction of a second to hours."""
ACTIVE_STATES = ("waiting", "queued", "running", "input_required")
"""The task states `dispatch_tasks` shows; ended tasks are counted as they end instead."""


class Metrics:
    """Every metric Dispatch exposes; `NAMES` lists them for the README and the tests."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.tasks = Gauge(
            "dispatch_tasks",
            "Tasks in each active state, read from the database at each scrape.",
            ["state"],
            registry=r,
        )
        self.tasks_finished = Counter(
            "dispatch_tasks_finished",
            "Tasks that ended, by agent and final state.",
            ["agent", "state"],
            registry=r,
        )
        self.requests = Counter(
            "dispatch_requests",
            "Messages taken in, by decision kind (refused: over a limit) and the planner that"
            " decided.",
            ["kind", "planner"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "dispatch_ack_seconds",
            "From a message reaching the core to the first reply to it being posted, by"
            " platform and the reply's kind.",
            ["platform", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.relay_seconds = Histogram(
            "dispatch_relay_seconds",
            "From an agent's result being recorded to its relay being posted.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.agent_call_seconds = Histogram(
            "dispatch_agent_call_seconds",
            "One call to an agent, from sending (or following) to its end, by agent and outcome.",
            ["agent", "outcome"],
            buckets=AGENT_BUCKETS,
            registry=r,
        )
        self.planner_fallbacks = Counter(
            "dispatch_planner_fallbacks",
            "Plans the model planner left to the rules, by reason.",
            ["reason"],
            registry=r,
        )
        self.deliveries = Counter(
            "dispatch_deliveries",
            "Attempts to post a message, by platform, kind and outcome (sent, deferred,"
            " retried, dead).",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "dispatch_rate_limited",
            "Rate-limit answers (HTTP 429) from a platform, posts and board edits.",
            ["platform"],
            registry=r,
        )
        self.replicas = Gauge(
            "dispatch_replicas", "Dispatch replicas alive, as this one sees them.", registry=r
        )
        self.replica_heartbeat = Gauge(
            "dispatch_replica_heartbeat_timestamp_seconds",
            "When each replica last said it was alive (Unix time).",
            ["replica"],
            registry=r,
        )

    def set_task_counts(self, counts: Mapping[str, int]) -> None:
        """The active-state gauges from a fresh count (a state with no tasks shows 0)."""
        for state in ACTIVE_STATES:
            self.tasks.labels(state).set(counts.get(state, 0))

    def render(self) -> bytes:
        """The exposition text (Prometheus text format 0.0.4)."""
        return generate_latest(self.registry)


NAMES = (
    "dispatch_tasks",
    "dispatch_tasks_finished_total",
    "dispatch_requests_total",
    "dispatch_ack_seconds",
    "dispatch_relay_seconds",
    "dispatch_agent_call_seconds",
    "dispatch_planner_fallbacks_total",
    "dispatch_deliveries_total",
    "dispatch_rate_limited_total",
    "dispatch_replicas",
    "dispatch_replica_heartbeat_timestamp_seconds",
)
