"""Where a request lives: the thread its history is kept under, where replies go, and
the queueing of a message to go there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import render
from bot.manifest import AgentSpec
from bot.models import Request
from bot.outbound import Board, Outbound, StatusItem, Target
from bot.store import Row, ThreadKey, Tx


def thread_key(request: Request) -> ThreadKey:
    return ThreadKey(request.platform, request.workspace, request.channel, request.thread_key)


def key_of(row: Row) -> ThreadKey:
    """The thread of a stored request."""
    return ThreadKey(row["platform"], row["workspace"], row["channel"], row["thread"])


def target_from_request(request: Request) -> Target:
    return Target(
        platform=request.platform,
        workspace=request.workspace,
        channel=request.channel,
        thread=request.thread_key,
        user=request.user,
        is_dm=request.is_dm,
    )


def target_of(row: Row) -> Target:
    """Where replies to a stored request go."""
    return Target(
        platform=row["platform"],
        workspace=row["workspace"],
        channel=row["channel"],
        thread=row["thread"],
        user=row["user"],
        is_dm=bool(row["is_dm"]),
    )


def queue(
    tx: Tx,
    request_id: str,
    target: Target | Request,
    kind: str,
    text: str,
    *,
    task_id: str | None = None,
    agent: AgentSpec | None = None,
    files: Sequence[Any] = (),
    dedupe: str | None = None,
    board: Board | None = None,
    items: Sequence[StatusItem] = (),
) -> int | None:
    """Queue one message about a request; None when its `dedupe` key was queued before."""
    if isinstance(target, Request):
        target = target_from_request(target)
    message = Outbound(
        kind=kind,  # type: ignore[arg-type]
        text=text,
        agent=render.badge(agent) if agent else None,
        board=board,
        files=list(files),
        items=list(items),
        request_id=request_id,
        task_id=task_id,
    )
    payload = {"target": target.model_dump(), "message": message.model_dump()}
    return tx.enqueue(request_id, kind, payload, task_id=task_id, dedupe=dedupe)


def said(
    tx: Tx,
    request_id: str,
    request: Request,
    kind: str,
    text: str,
    done: bool,
    items: Sequence[StatusItem],
) -> None:
    """Queue what Dispatch says about a request, and keep it in the thread's history; a last
    word (`done`) finishes the request in the same transaction."""
    queue(tx, request_id, target_from_request(request), kind, text, items=items)
    if done:
        tx.finish_request(request_id)
    tx.add_history(thread_key(request), "Dispatch", "dispatch", text)
