"""Boundary models: what adapters hand the core, what planners return, what agents report.

Everything that crosses a seam (adapter → core, planner → dispatcher, backend → dispatcher)
is one of these pydantic models, so each seam can be validated and serialized on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SessionKind = Literal["persistent", "disposable"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Attachment(BaseModel):
    """A file or link carried by a message, in either direction."""

    name: str = ""
    url: str | None = None
    mime: str | None = None
    size: int | None = None


class Request(BaseModel):
    """One chat message, normalized by an adapter. The raw payload stays opaque."""

    model_config = ConfigDict(frozen=True)

    platform: str
    workspace: str = ""
    channel: str
    thread: str | None = None
    """Root message id of the thread this message was posted in; None for a new top-level message."""
    message_id: str
    user: str
    user_name: str | None = None
    text: str
    is_dm: bool = False
    attachments: tuple[Attachment, ...] = ()
    time: datetime = Field(default_factory=utcnow)
    raw: Any = Field(default=None, exclude=True, repr=False)

    @property
    def thread_key(self) -> str:
        """The thread every reply to this message belongs in."""
        return self.thread or self.message_id

    @property
    def dedupe_key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.channel}:{self.message_id}"


class TaskSpec(BaseModel):
    """One unit of work in a plan: which agent, in which kind of session, after what."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    agent: str
    session: SessionKind
    summary: str = Field(min_length=1, max_length=500)
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("summary")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("summary is empty")
        return value


DecisionKind = Literal[
    "work", "followup", "answer", "clarify", "status", "roster", "cancel", "reroute"
]


class Aside(BaseModel):
    """A cancel or a status question said beside work (`Decision.also`); its fields mean what
    a decision of that kind means by them."""

    kind: Literal["cancel", "status"]
    target: str | None = None
    reason: str = ""

    def decision(self) -> Decision:
        return Decision(kind=self.kind, target=self.target, reason=self.reason)


class Decision(BaseModel):
    """Exactly one routing decision for one message. This is all a planner may produce."""

    kind: DecisionKind
    tasks: list[TaskSpec] = Field(default_factory=list)
    question: str | None = Field(default=None, max_length=300)
    """The single clarifying question (kind=clarify)."""
    target: str | None = None
    """kind=status: an agent id to ask about; kind=cancel: 'all' or words naming a task;
    kind=roster: the capability asked about; kind=answer: the task id being answered;
    kind=reroute: the agent id the user says should have the thread's work instead."""
    reason: str = ""
    """Why the planner decided this; shown by `dispatch plan`, never to chat users."""
    notes: list[str] = Field(default_factory=list)
    """Routing facts users should hear with the acknowledgement ("Dev is unavailable…")."""
    planner: str = "rules"
    confidence: float | None = None
    """How sure the planner is, 0 to 1 (None: it does not say); a configured model can be
    asked only below a bound (`DISPATCH_LLM_MODE=doubt`)."""
    also: Aside | None = None
    """kind=work or followup: a cancel or a status question in the same message ("scrap the
    banner and have the writer do the notes instead"), carried out beside the work, so that
    neither half is dropped. It never touches this message's own tasks."""

    def validate_against(self, agent_ids: set[str]) -> list[str]:
        """Problems that make this decision unusable with the given roster (empty if none)."""
        problems: list[str] = []
        if self.kind in ("work", "followup"):
            if not self.tasks:
                problems.append("a work decision has no tasks")
            ids = [t.id for t in self.tasks]
            if len(set(ids)) != len(ids):
                problems.append("task ids are not unique")
            for task in self.tasks:
                if task.agent not in agent_ids:
                    problems.append(f"task {task.id}: unknown agent {task.agent!r}")
                for dep in task.depends_on:
                    if dep not in ids:
                        problems.append(f"task {task.id}: depends on unknown task {dep!r}")
            if not problems and has_cycle({t.id: t.depends_on for t in self.tasks}):
                problems.append("depends_on has a cycle")
        if self.kind == "clarify" and not (self.question and self.question.strip()):
            problems.append("a clarify decision has no question")
        if self.kind == "reroute" and self.target not in agent_ids:
            problems.append(f"reroute to unknown agent {self.target!r}")
        if self.also is not None and self.kind not in ("work", "followup"):
            problems.append("only work can carry a cancel or a status question beside it")
        return problems


def has_cycle(graph: dict[str, list[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(dep) for dep in graph.get(node, [])):
            return True
        state[node] = 2
        return False

    return any(visit(node) for node in graph)


AgentState = Literal[
    "submitted", "working", "input_required", "completed", "failed", "canceled", "rejected"
]
TERMINAL_AGENT_STATES: frozenset[str] = frozenset({"completed", "failed", "canceled", "rejected"})


class AgentEvent(BaseModel):
    """What a backend reports about a remote task, in protocol-neutral terms."""

    state: AgentState
    remote_task_id: str | None = None
    context_id: str | None = None
    text: str = ""
    """completed: the full result; input_required: the agent's question; failed: the error;
    working: an optional progress note."""
    files: list[Attachment] = Field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_AGENT_STATES
