"""Task and request states, and the sets the core reasons with.

The database stores their values; a `StrEnum` compares equal to its value, so rows read
back as plain strings still match."""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    WAITING = "waiting"
    QUEUED = "queued"
    RUNNING = "running"
    INPUT_REQUIRED = "input_required"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


class RequestState(StrEnum):
    RECEIVED = "received"
    CLARIFYING = "clarifying"
    RUNNING = "running"
    DONE = "done"


ACTIVE_TASK_STATES = (
    TaskState.WAITING,
    TaskState.QUEUED,
    TaskState.RUNNING,
    TaskState.INPUT_REQUIRED,
)
"""Not finished: a task in one of these may still run, and holds its owner's in-flight cap."""
FAILED_TASK_STATES = (
    TaskState.FAILED,
    TaskState.TIMED_OUT,
    TaskState.CANCELLED,
    TaskState.BLOCKED,
)
"""Ended without a result: what a retry may run again, and what stops a dependent."""
TERMINAL_TASK_STATES = (TaskState.COMPLETED, *FAILED_TASK_STATES)
