"""The live status board of a request, drawn from its rows.

Read in a transaction on the database thread, so nothing here touches event-loop state:
which persistent sessions are busy is passed in, as a snapshot the loop took."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from bot import render
from bot.manifest import Fleet
from bot.outbound import Board, BoardRow, Outbound
from bot.states import FAILED_TASK_STATES
from bot.store import Row, Tx, loads

Session = tuple[str, str]
"""A persistent session: its agent and session key."""


def session_of(task: Row | Mapping[str, Any]) -> Session:
    """The persistent session a task runs in."""
    return task["agent"], task["session_key"]


def label(fleet: Fleet, agent_id: str) -> str:
    """An agent as people read it ("🎨 Image"), or its id once it has left the fleet."""
    agent = fleet.get(agent_id)
    return agent_id if agent is None else agent.label


def waiting_note(
    tx: Tx | None,
    task: Row | Mapping[str, Any],
    fleet: Fleet,
    busy: Collection[Session],
    waits_on: Sequence[str] | None = None,
) -> str:
    """What a task not yet running waits on: other tasks, its session, or an answer.
    `waits_on`: the agents of its unfinished dependencies, when known without reading."""
    if task["state"] == "waiting":
        if waits_on is None and tx is not None:
            deps = tx.dependencies(task["id"])
            waits_on = [d["agent"] for d in deps if d["state"] != "completed"]
        names = ", ".join(label(fleet, agent) for agent in waits_on or ())
        return render.waiting_on(names) if names else ""
    if task["state"] == "queued" and task["session_kind"] == "persistent":
        held = session_of(task) in busy
        return render.waiting_for_session(label(fleet, task["agent"])) if held else ""
    if task["state"] == "input_required":
        return render.WAITING_ON_ANSWER
    return ""


def _row(task: Row | Mapping[str, Any], fleet: Fleet, note: str, now: float) -> BoardRow:
    agent = fleet.get(task["agent"])
    started, finished = task["started_at"], task["finished_at"]
    return BoardRow(
        task_id=task["id"],
        agent=render.badge(agent if agent else fleet.catch_all.as_agent()),
        summary=task["summary"],
        state=task["state"],
        elapsed=(finished or now) - started if started else None,
        note=note,
    )


def read(tx: Tx, request_id: str, fleet: Fleet, busy: Collection[Session]) -> Board:
    """The board of one request: a row per task, with its state, time and note."""
    request = tx.request(request_id)
    tasks = tx.request_tasks(request_id)
    now = time.time()
    rows = []
    for task in tasks:
        if task["state"] in FAILED_TASK_STATES:
            note = task["error"] or ""
        elif task["state"] == "input_required":
            note = render.WAITING_ON_ANSWER
        else:
            note = waiting_note(tx, task, fleet, busy)
        rows.append(_row(task, fleet, note, now))
    done = bool(request and request["state"] == "done")
    start = request["created_at"] if request else now
    end = (request["finished_at"] if request else None) or now
    return Board(request_id=request_id, rows=rows, done=done, elapsed=end - start)


def redrawn(tx: Tx, request_id: str, fleet: Fleet, busy: Collection[Session]) -> Outbound | None:
    """A request's acknowledgement with its board drawn anew (None before it has one)."""
    ack = tx.ack_payload(request_id)
    if ack is None:
        return None
    message = Outbound.model_validate(loads(ack)["message"])
    message.board = read(tx, request_id, fleet, busy)
    return message


def fresh(
    request_id: str,
    tasks: Sequence[Sequence[Any]],
    depends_on: Sequence[Sequence[str]],
    fleet: Fleet,
    busy: Collection[Session],
) -> Board:
    """The board of a request whose tasks were written a moment ago in this transaction, from
    the values written (`TaskVerbs.insert_tasks`' rows): what `read` would draw, unread."""
    now = time.time()
    written = [
        {
            "id": v[0], "agent": v[3], "session_kind": v[4], "summary": v[5], "state": v[7],
            "session_key": v[9], "started_at": None, "finished_at": None,
        }
        for v in tasks
    ]  # fmt: skip
    agent_of = {task["id"]: task["agent"] for task in written}
    rows = [
        _row(task, fleet, waiting_note(None, task, fleet, busy, [agent_of[d] for d in deps]), now)
        for task, deps in zip(written, depends_on, strict=True)
    ]
    return Board(request_id=request_id, rows=rows, done=False, elapsed=0.0)
