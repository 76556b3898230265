"""Roster discovery: let agents describe themselves, and notice when one stops answering.

A2A agents publish an Agent Card; its name, description and skills fill in whatever the
manifest left out, so the planner routes on what the agent says it does. An OpenClaw
gateway with `discover: true` lists its agents. Everything found is cached in SQLite, so a
restart with an agent down still knows what that agent is for, and marks it unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.backends.base import Backend, BackendError, without_endpoints
from bot.backends.config import OpenClawBackendConfig
from bot.manifest import CATCH_ALL_ID, AgentSpec, Fleet
from bot.store import Store

log = logging.getLogger(__name__)

CARD_PATH = "/.well-known/agent-card.json"
PROBE_TIMEOUT = 5.0


@dataclass
class Roster:
    fleet: Fleet
    unavailable: dict[str, str] = field(default_factory=dict)
    """agent id → why it is not answering."""


async def fetch_card(url: str, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.get(url.rstrip("/") + CARD_PATH)
        response.raise_for_status()
        card = response.json()
    if not isinstance(card, dict):
        raise ValueError("the agent card is not a JSON object")
    return card


MAX_SKILLS = 20
"""Skills read from one card; each adds its name and at most MAX_TAGS tags as phrases."""
MAX_TAGS = 5
MAX_EXAMPLES = 10
"""Examples read from each skill of a card, its description first: what the skill is for, in
a sentence, carries the words requests for it use far more often than its name does."""
MAX_PHRASE = 60
MAX_EXAMPLE = 200
MAX_DESCRIPTION = 500
RESERVED_WORD = "dispatch"
"""No agent found by discovery may be called anything with this in it: it would post as
Dispatch itself."""


def name_key(name: str) -> str:
    """A name as routing compares names: case, spaces and punctuation ignored."""
    return re.sub(r"[\W_]+", "", name.casefold())


def reserved_names(fleet: Fleet, agent_id: str | None = None) -> set[str]:
    """Name keys a discovered name may not take: every other agent's id, name and aliases,
    and the catch-all's (RESERVED_WORD is refused anywhere in a name)."""
    names = {CATCH_ALL_ID, fleet.catch_all.name}
    for agent in fleet.agents:
        if agent.id != agent_id:
            names.update([agent.id, agent.name, *agent.aliases])
    return {name_key(n) for n in names}


def allowed_name(name: str, reserved: set[str]) -> bool:
    key = name_key(name)
    return bool(key) and RESERVED_WORD not in key and key not in reserved


def _texts(values: Any, limit: int, length: int, reserved: set[str]) -> list[str]:
    """Up to `limit` distinct non-empty strings of `values`, each cut to `length`; none that
    is a reserved name (it would answer to that name in routing)."""
    found: list[str] = []
    for value in values if isinstance(values, list) else []:
        if len(found) >= limit:
            break
        if isinstance(value, str) and value.strip():
            text = value.strip()[:length]
            if text not in found and allowed_name(text, reserved):
                found.append(text)
    return found


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _description(skill: dict[str, Any]) -> str | None:
    """A skill's description, unless it only repeats the name (the spec requires one, so
    many cards copy the name into it)."""
    text = skill.get("description")
    if not isinstance(text, str) or name_key(text) == name_key(str(skill.get("name") or "")):
        return None
    return text


def enrich(agent: AgentSpec, card: dict[str, Any], reserved: set[str] | None = None) -> AgentSpec:
    """Fill what the manifest left out from the card; the manifest always wins.

    A card is the agent's own say, so what it adds is bounded (MAX_SKILLS, MAX_TAGS,
    MAX_EXAMPLES, lengths) and may not take a `reserved` name or anything like "Dispatch":
    one card cannot pull in all the routing or post under another's name."""
    reserved = set() if reserved is None else reserved
    given = agent.model_fields_set
    update: dict[str, Any] = {}
    skills = [s for s in card.get("skills") or [] if isinstance(s, dict)][:MAX_SKILLS]
    name = card.get("name")
    if "name" not in given and isinstance(name, str) and allowed_name(name[:40], reserved):
        update["name"] = name.strip()[:40]
    if "description" not in given and isinstance(card.get("description"), str):
        update["description"] = card["description"].strip()[:MAX_DESCRIPTION]
    if "skills" not in given:
        phrases: list[str] = []
        for skill in skills:
            for phrase in _texts(
                [skill.get("name"), *(skill.get("tags") or [])[:MAX_TAGS]],
                1 + MAX_TAGS,
                MAX_PHRASE,
                reserved,
            ):
                if phrase not in phrases:
                    phrases.append(phrase)
        update["skills"] = phrases
    if "examples" not in given:
        update["examples"] = [
            e
            for s in skills
            for e in _texts(
                [_description(s), *_listed(s.get("examples"))],
                MAX_EXAMPLES,
                MAX_EXAMPLE,
                reserved,
            )
        ]
    return agent.model_copy(update=update) if update else agent


def gateway_agent_id(raw: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"oc-{slug}".strip("-")
    return slug[:32]


async def refresh(
    fleet: Fleet,
    store: Store,
    backend_factory: Callable[[AgentSpec], Backend],
    *,
    timeout: float = PROBE_TIMEOUT,
) -> Roster:
    """Probe every agent at once; fall back to the cached card for any that do not answer."""
    unavailable: dict[str, str] = {}
    agents = list(fleet.agents)

    async def probe(index: int, agent: AgentSpec) -> None:
        card: dict[str, Any] | None = None
        reason = await _reachable(agent, backend_factory, timeout)
        if agent.backend.kind == "a2a" and reason is None:
            try:
                card = await fetch_card(agent.backend.url, timeout)
            except (httpx.HTTPError, ValueError) as exc:
                reason = (
                    f"unreachable ({_short(exc)})"
                    if isinstance(exc, httpx.TransportError)
                    else f"no usable agent card ({_short(exc)})"
                )
        if card is not None:
            await store.save_card(agent.id, card, None)
        else:
            card = await store.cached_card(agent.id)
            if reason is not None:
                await store.save_card(agent.id, card, reason)
        if card is not None:
            agents[index] = enrich(agent, card, reserved_names(fleet, agent.id))
        if reason is not None:
            unavailable[agent.id] = reason

    await asyncio.gather(*(probe(i, a) for i, a in enumerate(agents)))
    agents += await _gateway_agents(
        fleet, store, backend_factory, {a.id for a in agents}, unavailable
    )
    return Roster(fleet.model_copy(update={"agents": agents}), unavailable)


async def _reachable(
    agent: AgentSpec, backend_factory: Callable[[AgentSpec], Backend], timeout: float
) -> str | None:
    """None if the agent looks reachable, else a short reason.

    A backend with `probe()` is asked the way a call would ask it (signed in, the agent
    named), so a wrong token or an unknown agent is not called available.
    """
    config = agent.backend
    if config.kind == "a2a":
        return None  # the card fetch is the probe
    if config.kind == "command" or config.kind == "openclaw":
        backend = backend_factory(agent)
        try:
            check = getattr(backend, "available", None)
            if callable(check):
                reason: str | None = check()
                return reason
            probe = getattr(backend, "probe", None)
            if callable(probe):
                await asyncio.wait_for(probe(), timeout)
            return None
        except BackendError as exc:
            return str(exc)
        except TimeoutError:
            return "unreachable (no answer in time)"
        finally:
            await backend.aclose()
    headers = {name: value.get_secret_value() for name, value in config.headers.items()}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.head(config.url, headers=headers)
    except httpx.HTTPError as exc:
        return f"unreachable ({_short(exc)})"
    if response.status_code in (401, 403):
        return f"refused the credentials (HTTP {response.status_code})"
    return None


async def _gateway_agents(
    fleet: Fleet,
    store: Store,
    backend_factory: Callable[[AgentSpec], Backend],
    taken: set[str],
    unavailable: dict[str, str],
) -> list[AgentSpec]:
    found: list[AgentSpec] = []
    reserved = reserved_names(fleet)
    for gateway in fleet.gateways:
        if not gateway.discover:
            continue
        key = f"gateway:{gateway.url}"
        probe = AgentSpec(
            id="gateway",
            backend=OpenClawBackendConfig(
                kind="openclaw",
                url=gateway.url,
                token=gateway.token,
                agent="main",
                allow_insecure=gateway.allow_insecure,
            ),
        )
        listed: list[dict[str, Any]] | None = None
        reason: str | None = None
        backend = backend_factory(probe)
        try:
            lister = getattr(backend, "list_agents", None)
            if callable(lister):
                listed = await asyncio.wait_for(lister(), PROBE_TIMEOUT)
                await store.save_card(key, {"agents": listed}, None)
        except Exception as exc:
            log.warning("could not list agents on %s: %s", gateway.url, _short(exc))
            cached = await store.cached_card(key)
            listed = cached.get("agents") if cached else None
            reason = f"gateway unreachable ({_short(exc)})"
        finally:
            await backend.aclose()
        for entry in listed or []:
            raw_id = str(entry.get("id") or "")
            agent_id = gateway_agent_id(raw_id)
            if not raw_id or raw_id in gateway.exclude or agent_id in taken:
                continue
            name = str(entry.get("name") or raw_id)[:40]
            if not allowed_name(name, reserved):
                name = agent_id  # listed under a name it may not have (say, "Dispatch")
            if not allowed_name(name, reserved):
                log.warning("gateway agent %r skipped: its id is a reserved name", raw_id)
                continue
            taken.add(agent_id)
            reserved.update({name_key(agent_id), name_key(name)})
            found.append(
                AgentSpec(
                    id=agent_id,
                    name=name,
                    emoji=str(entry.get("emoji") or "🦀")[:8],
                    description=str(entry.get("description") or "")[:MAX_DESCRIPTION],
                    skills=_texts(
                        [str(s) for s in entry.get("skills") or []],
                        MAX_SKILLS,
                        MAX_PHRASE,
                        reserved,
                    ),
                    session=gateway.session,
                    timeout=gateway.timeout,
                    backend=OpenClawBackendConfig(
                        kind="openclaw",
                        url=gateway.url,
                        token=gateway.token,
                        agent=raw_id,
                        allow_insecure=gateway.allow_insecure,
                    ),
                )
            )
            if reason:
                unavailable[agent_id] = reason
    return found


def _short(exc: BaseException) -> str:
    """Why a probe failed, fit for chat and the planner's prompt: no address in it."""
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return without_endpoints(str(exc).strip() or type(exc).__name__)[:120]
