"""Roster discovery: let agents describe themselves, and notice when one stops answering.

A2A agents publish an Agent Card; its name, description and skills fill in whatever the
manifest left out, so the planner routes on what the agent says it does. An OpenClaw
gateway with `discover: true` lists its agents. Everything found is cached in SQLite, so a
restart with an agent down still knows what that agent is for, and marks it unavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.backends.base import Backend, BackendError
from bot.backends.config import OpenClawBackendConfig
from bot.manifest import AgentSpec, Fleet
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


def enrich(agent: AgentSpec, card: dict[str, Any]) -> AgentSpec:
    """Fill what the manifest left out from the card; the manifest always wins."""
    given = agent.model_fields_set
    update: dict[str, Any] = {}
    skills = [s for s in card.get("skills") or [] if isinstance(s, dict)]
    if "name" not in given and isinstance(card.get("name"), str) and card["name"].strip():
        update["name"] = card["name"].strip()[:40]
    if "description" not in given and isinstance(card.get("description"), str):
        update["description"] = card["description"].strip()
    if "skills" not in given:
        phrases: list[str] = []
        for skill in skills:
            for phrase in [skill.get("name"), *(skill.get("tags") or [])]:
                if isinstance(phrase, str) and phrase.strip() and phrase not in phrases:
                    phrases.append(phrase.strip())
        update["skills"] = phrases
    if "examples" not in given:
        update["examples"] = [
            e for s in skills for e in (s.get("examples") or []) if isinstance(e, str) and e.strip()
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
            await _save(store, agent.id, card, None)
        else:
            cached = await store.one("SELECT card FROM agent_cards WHERE agent = ?", (agent.id,))
            card = json.loads(cached["card"]) if cached and cached["card"] else None
            if reason is not None:
                await _save(store, agent.id, card, reason)
        if card is not None:
            agents[index] = enrich(agent, card)
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
    for gateway in fleet.gateways:
        if not gateway.discover:
            continue
        key = f"gateway:{gateway.url}"
        probe = AgentSpec(
            id="gateway",
            backend=OpenClawBackendConfig(
                kind="openclaw", url=gateway.url, token=gateway.token, agent="main"
            ),
        )
        listed: list[dict[str, Any]] | None = None
        reason: str | None = None
        backend = backend_factory(probe)
        try:
            lister = getattr(backend, "list_agents", None)
            if callable(lister):
                listed = await asyncio.wait_for(lister(), PROBE_TIMEOUT)
                await _save(store, key, {"agents": listed}, None)
        except Exception as exc:
            log.warning("could not list agents on %s: %s", gateway.url, _short(exc))
            cached = await store.one("SELECT card FROM agent_cards WHERE agent = ?", (key,))
            listed = json.loads(cached["card"]).get("agents") if cached and cached["card"] else None
            reason = f"gateway unreachable ({_short(exc)})"
        finally:
            await backend.aclose()
        for entry in listed or []:
            raw_id = str(entry.get("id") or "")
            agent_id = gateway_agent_id(raw_id)
            if not raw_id or raw_id in gateway.exclude or agent_id in taken:
                continue
            taken.add(agent_id)
            found.append(
                AgentSpec(
                    id=agent_id,
                    name=str(entry.get("name") or raw_id)[:40],
                    emoji=str(entry.get("emoji") or "🦀")[:8],
                    description=str(entry.get("description") or ""),
                    skills=[str(s) for s in entry.get("skills") or []],
                    session=gateway.session,
                    timeout=gateway.timeout,
                    backend=OpenClawBackendConfig(
                        kind="openclaw", url=gateway.url, token=gateway.token, agent=raw_id
                    ),
                )
            )
            if reason:
                unavailable[agent_id] = reason
    return found


async def _save(store: Store, agent: str, card: dict[str, Any] | None, reason: str | None) -> None:
    await store.write(
        "INSERT INTO agent_cards(agent, card, fetched_at, available, reason) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(agent) DO UPDATE SET card = COALESCE(excluded.card, agent_cards.card),"
        " fetched_at = CASE WHEN excluded.card IS NULL THEN agent_cards.fetched_at ELSE excluded.fetched_at END,"
        " available = excluded.available, reason = excluded.reason",
        (
            agent,
            json.dumps(card) if card is not None else None,
            time.time(),
            reason is None,
            reason,
        ),
    )


def _short(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return (str(exc).strip() or type(exc).__name__)[:120]
