"""Where a request lives: the thread its history is kept under, and where replies go."""

from __future__ import annotations

from bot.models import Request
from bot.outbound import Target
from bot.store import Row, ThreadKey


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
