"""The board's JSON, shaped from the store's rows: a request with its task graph, an agent's
lane, a recent request's outcome, a thread's transcript.

Each function here runs inside one `Store.read` hop (on the database thread), so it only
reads rows and builds plain dicts: no event-loop state, no awaiting."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.manifest import Fleet
from bot.store import Row, ThreadKey, Tx, loads

TEXT_CHARS = 280
"""How much of a request's text, or of a task's question or error, the board carries."""
LANE_HEADS = 3
"""Tasks listed per agent as busy, and as queued behind its main session."""
RECENT_LIMIT = 50
STATE_FILTERS: dict[str, tuple[str, ...]] = {
    "queued": ("waiting", "queued"),
    "running": ("running",),
    "asking": ("input_required",),
    "done": ("completed",),
    "failed": ("failed",),
    "timed_out": ("timed_out",),
    "cancelled": ("cancelled",),
    "blocked": ("blocked",),
}
"""The board's state filter: a word people use → the task states it means."""


@dataclass(frozen=True)
class Filters:
    """The recent list's filters, as the query string gives them."""

    user: str = ""
    channel: str = ""
    agent: str = ""
    state: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls(
            user=query.get("user", "").strip()[:200],
            channel=query.get("channel", "").strip()[:200],
            agent=query.get("agent", "").strip()[:200],
            state=query.get("state", "").strip() if query.get("state") in STATE_FILTERS else "",
        )


def _cut(text: str | None, limit: int = TEXT_CHARS) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _some(**fields: Any) -> dict[str, Any]:
    """A dict without its empty fields: a thousand requests in flight are sent at once,
    and the page reads a missing field as empty."""
    return {key: value for key, value in fields.items() if value not in (None, "", False)}


def _at(value: float | None) -> float | None:
    """A time to the hundredth of a second, which is all the board shows."""
    return None if value is None else round(value, 2)


def request_head(row: Row) -> dict[str, Any]:
    """A request as the board lists it (without its tasks)."""
    return _some(
        id=row["id"],
        platform=row["platform"],
        channel=row["channel"],
        user=row["user"],
        user_name=row["user_name"] or row["user"],
        text=_cut(row["text"]),
        dm=bool(row["is_dm"]),
        kind=row["kind"],
        state=row["state"],
        question=_cut(row["question"]),
        created_at=_at(row["created_at"]),
        finished_at=_at(row["finished_at"]),
    )


def task_node(row: Row) -> dict[str, Any]:
    """A task as a node of its request's graph. Agents' names and emoji come once, with
    the lanes."""
    return _some(
        id=row["id"],
        agent=row["agent"],
        summary=_cut(row["summary"], 160),
        state=row["state"],
        note=_cut(row["question"] if row["state"] == "input_required" else row["error"]),
        started_at=_at(row["started_at"]),
        finished_at=_at(row["finished_at"]),
        attempt=row["attempt"],
    )


def graphs(tx: Tx, request_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Each request with its task graph: a node per task, an edge per dependency."""
    if not request_ids:
        return []
    heads = {row["id"]: request_head(row) for row in tx.board_requests(request_ids)}
    for head in heads.values():
        head["tasks"], head["edges"] = [], []
    owner: dict[str, str] = {}
    for row in tx.board_tasks(list(heads)):
        heads[row["request_id"]]["tasks"].append(task_node(row))
        owner[row["id"]] = row["request_id"]
    for edge in tx.board_edges(list(heads)):
        request_id = owner.get(edge["task_id"])
        if request_id is not None:
            heads[request_id]["edges"].append([edge["depends_on"], edge["task_id"]])
    return [heads[request_id] for request_id in request_ids if request_id in heads]


def start_of_today(now: float) -> float:
    """Local midnight: "today" as the person running Dispatch counts it."""
    local = time.localtime(now)
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))


def lanes(tx: Tx, fleet: Fleet, unavailable: Mapping[str, str], now: float) -> list[dict[str, Any]]:
    """Each agent as a lane: what it is busy with, what waits behind its main session,
    whether it answers, and today's finished work."""
    out: dict[str, dict[str, Any]] = {}
    for agent in fleet.all_agents:
        out[agent.id] = {
            "id": agent.id,
            "name": agent.name,
            "emoji": agent.emoji,
            "session": agent.session,
            "unavailable": unavailable.get(agent.id),
            "busy": [],
            "queue": [],
            "running": 0,
            "asking": 0,
            "queued": 0,
            "today": {"completed": 0, "failed": 0, "timed_out": 0},
        }
    names = {"queued": "queued", "running": "running", "input_required": "asking"}
    for row in tx.lane_counts(list(out)):
        out[row["agent"]][names[row["state"]]] += row["n"]
    for row in tx.lane_heads(list(out), LANE_HEADS):
        lane = out.get(row["agent"])
        if lane is None:
            continue
        lane[row["lane"]].append(
            {
                "task": row["id"],
                "request": row["request_id"],
                "summary": _cut(row["summary"], 120),
                "state": row["state"],
                "started_at": _at(row["started_at"]),
            }
        )
    for row in tx.finished_per_agent(start_of_today(now)):
        lane = out.get(row["agent"])
        if lane is not None:
            lane["today"][row["state"]] = row["n"]
    return list(out.values())


def outcomes(tx: Tx, heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recent requests with what became of their tasks (counts per state, and the agents
    that had them) and how long each took."""
    by_id = {head["id"]: head for head in heads}
    for head in heads:
        head["outcome"], head["agents"] = {}, []
        finished = head.get("finished_at")
        head["duration"] = None if finished is None else max(0.0, finished - head["created_at"])
    for row in tx.task_outcomes(list(by_id)):
        head = by_id[row["request_id"]]
        head["outcome"][row["state"]] = head["outcome"].get(row["state"], 0) + row["n"]
        if row["agent"] not in head["agents"]:
            head["agents"].append(row["agent"])
    return heads


def recent(tx: Tx, filters: Filters, before: float | None = None) -> list[dict[str, Any]]:
    rows = tx.finished_requests(
        user=filters.user,
        channel=filters.channel,
        agent=filters.agent,
        states=STATE_FILTERS.get(filters.state, ()),
        before=before,
        limit=RECENT_LIMIT,
    )
    return outcomes(tx, [request_head(row) for row in rows])


def transcript(tx: Tx, request_id: str) -> dict[str, Any] | None:
    """A request's thread as it was posted: people's words, the acknowledgement, each
    result as relayed (the stored result the courier reads at send time), questions,
    answers, notices and the closing line. Private answers (a status only its asker saw)
    are left out."""
    request = tx.request(request_id)
    if request is None:
        return None
    key = ThreadKey(
        request["platform"], request["workspace"], request["channel"], request["thread"]
    )
    said: list[dict[str, Any]] = []
    for row in tx.thread_messages(key):
        payload = loads(row["payload"]) or {}
        if (payload.get("target") or {}).get("private"):
            continue
        message = payload.get("message") or {}
        agent = message.get("agent") or None
        text = row["task_result"] if row["kind"] == "result" else message.get("text", "")
        said.append(
            {
                "who": "agent" if agent else "dispatch",
                "author": f"{agent['emoji']} {agent['name']}" if agent else "Dispatch",
                "kind": row["kind"],
                "text": text or "",
                "request": row["request_id"],
                "task": row["task_id"],
                "delivery": row["state"],
                "at": row["sent_at"] or row["created_at"],
                "queued_at": row["created_at"],
            }
        )
    words = [
        {"who": "user", "author": row["author"], "kind": "message", "text": row["text"],
         "at": row["at"], "queued_at": row["at"]}
        for row in tx.thread_words(key)
    ]  # fmt: skip
    return {
        "request": graphs(tx, [request_id])[0],
        "thread": [request_head(row) for row in tx.thread_requests(key)],
        "messages": _merge(words, said),
    }


def _merge(words: list[dict[str, Any]], said: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two lists, each kept in its own order, merged by when each entry was recorded
    (people's words first on a tie: Dispatch answers what it has read)."""
    merged: list[dict[str, Any]] = []
    i = j = 0
    while i < len(words) or j < len(said):
        if j >= len(said) or (i < len(words) and words[i]["queued_at"] <= said[j]["queued_at"]):
            merged.append(words[i])
            i += 1
        else:
            merged.append(said[j])
            j += 1
    return merged
