"""The fleet manifest: which agents exist, what they are good at, and how to reach them.

A malformed manifest is refused before anything starts, with an error naming the file,
the agent and the field, because a routing table with a silent hole is worse than none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from bot.backends.config import BackendConfig, Duration, GatewayDiscovery
from bot.models import SessionKind

CATCH_ALL_ID = "subagent"
BACKEND_KINDS = ("a2a", "openclaw", "command", "http")
"""Discriminator tags pydantic puts in error paths; a reader does not need them."""
_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names file, agent and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSpec(_Strict):
    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(default="", max_length=40)
    """Shown to users; if left out, the agent's card (A2A) or its id fills it in."""
    emoji: str = Field(default="🤖", max_length=8)
    icon: str | None = None
    """Avatar where the platform shows one: an image URL or a Slack :shortcode:."""
    description: str = ""
    skills: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    """Other names users call this agent by ("coder" for Dev)."""
    session: SessionKind = "persistent"
    session_scope: Literal["agent", "channel", "user"] = "agent"
    """Who shares a persistent session: everyone (one main session), each channel, or each
    user. What one session's work leaves in the agent's memory, the next task there sees."""
    dm_in_main_session: bool = False
    """With `session_scope: agent`, also send DM work to the shared main session (by
    default each user's DM work gets a session of its own)."""
    backend: BackendConfig
    timeout: Duration = 600.0

    def session_key(
        self, *, platform: str, workspace: str, channel: str, user: str, is_dm: bool
    ) -> str:
        """Which of this agent's persistent sessions a request's work goes to ('' for the
        shared main session); disposable agents have none."""
        if self.session != "persistent":
            return ""
        if self.session_scope == "channel":
            return f"channel:{platform}:{workspace}:{channel}"
        if self.session_scope == "user" or (is_dm and not self.dm_in_main_session):
            return f"user:{platform}:{workspace}:{user}"
        return ""

    @model_validator(mode="after")
    def _default_name(self) -> AgentSpec:
        if not self.name.strip():
            object.__setattr__(self, "name", self.id.replace("-", " ").replace("_", " ").title())
        return self

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.name}"


class CatchAllSpec(_Strict):
    """The backend that runs disposable sub-agents for work no named agent covers."""

    name: str = "Sub-agent"
    emoji: str = "🧪"
    icon: str | None = None
    description: str = "A disposable general-purpose sub-agent for one-off work."
    backend: BackendConfig
    timeout: Duration = 300.0

    _agent: AgentSpec | None = PrivateAttr(default=None)

    def as_agent(self) -> AgentSpec:
        """Built once: routing and every board ask for it."""
        if self._agent is None:
            self._agent = AgentSpec(
                id=CATCH_ALL_ID,
                name=self.name,
                emoji=self.emoji,
                icon=self.icon,
                description=self.description,
                session="disposable",
                backend=self.backend,
                timeout=self.timeout,
            )
        return self._agent


class Fleet(_Strict):
    version: Literal[1] = 1
    agents: list[AgentSpec] = Field(default_factory=list)
    catch_all: CatchAllSpec
    gateways: list[GatewayDiscovery] = Field(default_factory=list)
    """OpenClaw gateways whose agents are discovered and added to the roster."""

    @model_validator(mode="after")
    def _someone(self) -> Fleet:
        if not self.agents and not any(g.discover for g in self.gateways):
            raise ValueError("list at least one agent, or a gateway with discover: true")
        return self

    @property
    def all_agents(self) -> list[AgentSpec]:
        """Named agents plus the catch-all, which routing treats as one more agent."""
        return [*self.agents, self.catch_all.as_agent()]

    def get(self, agent_id: str) -> AgentSpec | None:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        return self.catch_all.as_agent() if agent_id == CATCH_ALL_ID else None

    def agent(self, agent_id: str) -> AgentSpec:
        found = self.get(agent_id)
        if found is None:
            raise KeyError(agent_id)
        return found


def load_fleet(path: str | Path) -> Fleet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: file not found") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    return fleet_from_data(data, source=str(path))


def fleet_from_data(data: Any, *, source: str = "<manifest>") -> Fleet:
    if not isinstance(data, dict):
        raise ManifestError(
            f"{source}: the top level must be a mapping with 'agents' and 'catch_all'"
        )
    try:
        fleet = Fleet.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_describe(exc, data, source)) from None
    problems = _duplicates(fleet, source)
    if problems:
        raise ManifestError("\n".join(problems))
    return fleet


def _duplicates(fleet: Fleet, source: str) -> list[str]:
    """Ids, names and aliases must each pick out exactly one agent."""
    problems: list[str] = []
    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, agent in enumerate(fleet.agents):
        where = f"{source}: agent {agent.id!r} (agents[{index}])"
        if agent.id == CATCH_ALL_ID:
            problems.append(f"{where}: field 'id' {CATCH_ALL_ID!r} is reserved for the catch-all")
        if agent.id in ids:
            problems.append(
                f"{where}: field 'id' {agent.id!r} is already used by agents[{ids[agent.id]}]"
            )
        ids.setdefault(agent.id, index)
        for field, keys in (("name", [agent.name]), ("aliases", agent.aliases)):
            for key in keys:
                owner = names.get(key.lower())
                if owner is not None and owner != agent.id:
                    problems.append(
                        f"{where}: field {field!r} {key!r} is already used by agent {owner!r}"
                    )
                names.setdefault(key.lower(), agent.id)
        names.setdefault(agent.id, agent.id)
    return problems


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    lines = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "agents" and isinstance(loc[1], int):
            agents = data.get("agents") or []
            raw = agents[loc[1]] if loc[1] < len(agents) else None
            ident = raw.get("id") if isinstance(raw, dict) else None
            where = f"agent {ident!r} (agents[{loc[1]}])" if ident else f"agents[{loc[1]}]"
            loc = loc[2:]
        elif loc and loc[0] == "catch_all":
            where = "catch_all"
            loc = loc[1:]
        # Discriminated unions add the tag ('a2a') to the path; it is noise for a reader.
        field = ".".join(str(part) for part in loc if part not in BACKEND_KINDS)
        if not field and where == "catch_all":
            where, field = "", "catch_all"
        field = field or "(whole entry)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = "is not a known field"
        elif error["type"] == "union_tag_invalid":
            field = f"{field}.kind" if field != "(whole entry)" else "kind"
            ctx = error.get("ctx") or {}
            message = f"must be one of: {ctx.get('expected_tags', '')} (got {ctx.get('tag')!r})"
        lines.append(f"{source}: {where + ': ' if where else ''}field {field!r} {message}")
    return "\n".join(lines)
