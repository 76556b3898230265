"""What the core sends out, in platform-neutral form. Adapters decide how it looks.

The set of kinds is closed on purpose: it is the whole of what a dispatcher may say.
There is no kind for "an answer Dispatch wrote itself".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from bot.models import Attachment

OutboundKind = Literal[
    "ack",  # acknowledgement + routing decision; carries the live status board
    "clarify",  # Dispatch's one clarifying question
    "question",  # an agent's question, relayed word for word
    "result",  # an agent's result, relayed word for word
    "notice",  # a task failed, timed out, was cancelled or blocked; a refusal
    "closing",  # the short outcome line at the end of a request
    "status",  # an answer to "what's in flight?"
    "roster",  # an answer to "who can do X?"
]
OUTBOUND_KINDS: frozenset[str] = frozenset(OutboundKind.__args__)  # type: ignore[attr-defined]


class AgentBadge(BaseModel):
    id: str
    name: str
    emoji: str
    icon: str | None = None
    """An avatar for platforms that show one: an image URL or a Slack :shortcode:."""

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.name}"


class BoardRow(BaseModel):
    task_id: str
    agent: AgentBadge
    summary: str
    state: str
    elapsed: float | None = None
    note: str = ""
    """What it is waiting on, why it stopped, or the agent's question."""


class Board(BaseModel):
    """The live status view of one request; adapters render and refresh it in place."""

    request_id: str
    rows: list[BoardRow] = Field(default_factory=list)
    done: bool = False
    elapsed: float = 0.0


class Target(BaseModel):
    """Where a message goes: a thread in a channel, or a user's DMs."""

    platform: str
    workspace: str = ""
    channel: str
    thread: str | None = None
    user: str | None = None
    is_dm: bool = False
    private: bool = False
    """Only `user` may see it (a status asked in public): a Slack ephemeral, a Discord DM."""


class StatusItem(BaseModel):
    """One line of a status answer, with where its task lives (adapters link to it)."""

    line: str
    platform: str
    workspace: str = ""
    channel: str
    thread: str
    is_dm: bool = False


class Outbound(BaseModel):
    kind: OutboundKind
    text: str
    agent: AgentBadge | None = None
    board: Board | None = None
    files: list[Attachment] = Field(default_factory=list)
    items: list[StatusItem] = Field(default_factory=list)
    """kind=status: the lines of the answer with their threads."""
    request_id: str | None = None
    task_id: str | None = None
    posted: list[str] = Field(default_factory=list)
    """Parts of this message already out (ids, in order), when a message posted in several
    parts is delivered again after a restart: the adapter carries on after them."""
    key: str = ""
    """Names this delivery on the platform (Slack message metadata), so a process that
    cannot tell whether a crashed one posted it can look (`Recall.posted_parts`)."""


PartsRecorder = Callable[[list[str]], Awaitable[None]]
record_parts: ContextVar[PartsRecorder | None] = ContextVar("record_parts", default=None)
"""Set by the courier around one delivery: an adapter posting a message in several parts
calls it with the ids of the parts out so far, so a restart never posts them again."""


class MessageRef(BaseModel):
    """A posted message, so it can be updated later (the status board)."""

    platform: str
    channel: str
    id: str
    thread: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


_URL_UNSAFE = {ord(c): f"%{ord(c):02X}" for c in '<>|"` '}


def safe_url(url: str | None) -> str | None:
    """An agent's file link, fit to put inside a platform's link syntax; None if it is not
    plain http(s). Agents are not trusted: a `javascript:` link, or one carrying `>` or `|`
    to close Dispatch's own link and write after it, must never reach a channel as a link."""
    if not url or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.translate(_URL_UNSAFE)
