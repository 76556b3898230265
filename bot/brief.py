"""Context assembly: the brief an agent can start from at once.

An agent that receives a bare "fix it" is a bug. Every brief carries what to do, the
user's own words, who asked and where, the outputs it builds on, and the thread so far.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.models import Attachment, Decision, Request

MAX_PRIOR_CHARS = 20_000


class PriorWork(BaseModel):
    agent: str
    summary: str
    output: str


class HistoryLine(BaseModel):
    author: str
    text: str


class Brief(BaseModel):
    task: str
    request: str
    """The user's original words, verbatim."""
    requester: str
    platform: str
    channel: str
    thread: str
    is_dm: bool = False
    session: str = "persistent"
    depends_on: list[PriorWork] = Field(default_factory=list)
    thread_results: list[PriorWork] = Field(default_factory=list)
    history: list[HistoryLine] = Field(default_factory=list)
    followup: bool = False
    attachments: list[Attachment] = Field(default_factory=list)
    """Files and links the user attached to the request."""

    def render(self) -> str:
        """The text actually sent to the agent."""
        where = "a direct message" if self.is_dm else f"channel {self.channel}"
        lines = [
            f"Task: {self.task}",
            "",
            f"Requested by {self.requester} on {self.platform}, in {where} (thread {self.thread}).",
            "Their words, verbatim:",
            *(f"> {line}" for line in self.request.splitlines() or [""]),
        ]
        if self.attachments:
            lines += ["", "Attached by the requester:"]
            lines += [f"- {a.name or 'file'}: {a.url or '(no link)'}" for a in self.attachments]
        if self.followup:
            lines += ["", "This is a follow-up to earlier work in the same thread."]
        if self.depends_on:
            lines += ["", "This builds on work that just finished:"]
            for prior in self.depends_on:
                lines += [f"--- {prior.agent}: {prior.summary} ---", _clip(prior.output)]
        if self.thread_results:
            lines += ["", "Earlier results in this thread:"]
            for prior in self.thread_results:
                lines += [f"--- {prior.agent}: {prior.summary} ---", _clip(prior.output)]
        if self.history:
            lines += ["", "Recent thread history:"]
            lines += [f"- {h.author}: {_one_line(h.text)}" for h in self.history]
        lines += [
            "",
            "Dispatch routed this to you and will relay your reply to the requester word for word."
            " If you need something from them first, ask one clear question.",
        ]
        return "\n".join(lines)


def briefs_for(decision: Decision, request: Request, words: str, requester: str) -> dict[str, str]:
    """Each planned task's brief, as stored with the task (by the task's id in the plan)."""
    return {
        spec.id: Brief(
            task=spec.summary,
            request=words,
            requester=requester,
            platform=request.platform,
            channel=request.channel,
            thread=request.thread_key,
            is_dm=request.is_dm,
            session=spec.session,
            followup=decision.kind == "followup",
            attachments=list(request.attachments),
        ).model_dump_json()
        for spec in decision.tasks
    }


def _clip(text: str) -> str:
    if len(text) <= MAX_PRIOR_CHARS:
        return text
    return text[:MAX_PRIOR_CHARS] + f"\n[… {len(text) - MAX_PRIOR_CHARS} more characters not shown]"


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
