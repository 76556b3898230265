"""The live status board of a request, drawn from its rows.

Read in a transaction on the database thread, so nothing here touches event-loop state:
which persistent sessions are busy is passed in, as a snapshot the loop took."""

from __future__ import annotations

import time
from collections.abc import Collection

from bot import render
from bot.manifest import Fleet
from bot.outbound import Board, BoardRow, Outbound
from bot.states import FAILED_TASK_STATES
from bot.store import Row, Tx, loads

Session = tuple[str, str]
"""A persistent session: its agent and session key."""


def session_of(task: Row) -> Session:
    """The persistent session a task runs in."""
    return task["agent"], task["session_key"]


def label(fleet: Fleet, agent_id: str) -> str:
    """An agent as people read it ("🎨 Image"), or its id once it has left the fleet."""
    agent = fleet.get(agent_id)
    return agent_id if agent is None else agent.label


def waiting_note(tx: Tx, task: Row, fleet: Fleet, busy: Collection[Session]) -> str:
    """What a task not yet running waits on: other tasks, its session, or an answer."""
    if task["state"] == "waiting":
        deps = [d for d in tx.dependencies(task["id"]) if d["state"] != "completed"]
        names = ", ".join(label(fleet, d["agent"]) for d in deps)
        return render.waiting_on(names) if names else ""
    if task["state"] == "queued" and task["session_kind"] == "persistent":
        held = session_of(task) in busy
        return render.waiting_for_session(label(fleet, task["agent"])) if held else ""
    if task["state"] == "input_required":
        return render.WAITING_ON_ANSWER
    return ""


def read(tx: Tx, request_id: str, fleet: Fleet, busy: Collection[Session]) -> Board:
    """The board of one request: a row per task, with its state, time and note."""
    request = tx.request(request_id)
    tasks = tx.request_tasks(request_id)
    now = time.time()
    rows = []
    for task in tasks:
        agent = fleet.get(task["agent"])
        started, finished = task["started_at"], task["finished_at"]
        if task["state"] in FAILED_TASK_STATES:
            note = task["error"] or ""
        elif task["state"] == "input_required":
            note = render.WAITING_ON_ANSWER
        else:
            note = waiting_note(tx, task, fleet, busy)
        rows.append(
            BoardRow(
                task_id=task["id"],
                agent=render.badge(agent if agent else fleet.catch_all.as_agent()),
                summary=task["summary"],
                state=task["state"],
                elapsed=(finished or now) - started if started else None,
                note=note,
            )
        )
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
