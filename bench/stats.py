"""Small, dependency-free statistics for latency samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], pct: float) -> float:
    """The `pct` percentile (0..100) by linear interpolation between closest ranks."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    """p50 / p99 / max / mean in milliseconds, with the sample count."""
    ms = [s * 1000.0 for s in samples_s]
    if not ms:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def relay_split(relayed: Sequence[tuple[float, float]], sent: dict[float, float]) -> dict[str, Any]:
    """Relay (agent's end stamp → result posted), and its two parts where the sidecar logged
    when the result left the agent: the agents' own lag, and Dispatch's part after it."""
    timed = [(end, sent[end], posted) for end, posted in relayed if end in sent]
    return {
        "relay": summary_ms([posted - end for end, posted in relayed]),
        "agent_send_lag": summary_ms([at - end for end, at, _ in timed]),
        "relay_after_send": summary_ms([posted - at for _, at, posted in timed]),
    }
