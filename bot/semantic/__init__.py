"""Routing by meaning: an offline embedding model, example phrasings, a grammar of requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.manifest import Fleet
from bot.planner import RulePlanner
from bot.semantic.embed import EmbeddingError, load_embedder
from bot.semantic.planner import SemanticPlanner

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["EmbeddingError", "SemanticPlanner", "make_planner"]


def make_planner(
    settings: Settings, fleet: Fleet, unavailable: dict[str, str] | None = None
) -> RulePlanner:
    """The planner the settings ask for; the embedding model loads once per process."""
    if settings.planner == "rules":
        return RulePlanner(fleet, unavailable)
    key = settings.llm_api_key or settings.openai_api_key
    embedder = load_embedder(settings.embeddings, key.get_secret_value() if key else None)
    return SemanticPlanner(fleet, unavailable, embedder=embedder, max_tasks=settings.max_tasks)
