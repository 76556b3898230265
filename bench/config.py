"""Workload sizes: the full run (targets judged) and the smoke run (tiny, structure only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """Every knob of the workload; `FULL` and `SMOKE` below are the two shipped settings."""

    smoke: bool
    # 1. acknowledgement latency
    ack_in_flight: int
    """Tasks already in flight for the loaded half of the ack section."""
    running_share: float
    """Share of in-flight tasks actually running on an agent (the rest queued)."""
    ack_requests: dict[int, int]
    """concurrency → requests measured at that concurrency (rounds of `concurrency`)."""
    work_delay: float
    """Seconds the agents behind measured requests take."""
    # 2. orchestration overhead (and 7. the peer)
    agent_delay: float
    fan_outs: tuple[int, ...]
    chain_length: int
    repeats: dict[str, int]
    # 3. relay latency
    relay_delay: float
    relay_sequential: int
    relay_rounds: int
    relay_width: int
    # 4. status query latency
    status_total_tasks: int
    status_in_flight: int
    status_queries: int
    # 5. throughput
    throughput_rates: tuple[int, ...]
    throughput_step_s: float
    # 6. memory
    memory_in_flight: int
    # 9. the web board
    board_in_flight: int
    """Requests (of three tasks) in flight when the board is loaded."""
    board_loads: int
    """Measured loads of the board per viewport (after one warm-up)."""
    board_acks: int
    """Acknowledgements timed with a browser watching, and as many without."""
    extra: dict[str, Any] = field(default_factory=dict)
    # 11. the stores side by side (`python -m bench --store postgres`)
    store_replicas: tuple[int, ...] = (1, 3)
    """Replica processes sharing one PostgreSQL database in the throughput comparison."""
    failover_dead_after: tuple[float, ...] = (10.0, 2.0)
    """DISPATCH_REPLICA_DEAD_AFTER values the failover is timed at (10 s is the default)."""
    failover_trials: int = 3
    failover_agent_delay: float = 1.0
    """Seconds the agents of a failover trial take (they finish soon after the kill)."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ack_requests"] = {str(k): v for k, v in self.ack_requests.items()}
        return data


FULL = Sizes(
    smoke=False,
    ack_in_flight=10_000,
    running_share=0.2,
    ack_requests={1: 100, 10: 200, 100: 500},
    work_delay=0.05,
    agent_delay=1.0,
    fan_outs=(3, 100),
    chain_length=5,
    repeats={"fan_out_3": 10, "fan_out_100": 5, "chain_5": 5, "diamond": 8},
    relay_delay=0.2,
    relay_sequential=100,
    relay_rounds=20,
    relay_width=10,
    status_total_tasks=100_000,
    status_in_flight=10_000,
    status_queries=200,
    throughput_rates=(50, 75, 100, 150, 200, 300),
    throughput_step_s=8.0,
    memory_in_flight=10_000,
    board_in_flight=1_000,
    board_loads=10,
    board_acks=200,
)

SMOKE = Sizes(
    smoke=True,
    ack_in_flight=50,
    running_share=0.2,
    ack_requests={1: 3, 4: 8},
    work_delay=0.01,
    agent_delay=0.05,
    fan_outs=(3, 10),
    chain_length=5,
    repeats={"fan_out_3": 1, "fan_out_10": 1, "chain_5": 1, "diamond": 1},
    relay_delay=0.02,
    relay_sequential=3,
    relay_rounds=1,
    relay_width=3,
    status_total_tasks=1_000,
    status_in_flight=50,
    status_queries=5,
    throughput_rates=(10, 20),
    throughput_step_s=1.0,
    memory_in_flight=50,
    board_in_flight=20,
    board_loads=1,
    board_acks=4,
    failover_dead_after=(2.0,),
    failover_trials=1,
)
