"""A planner backed by a language model, with the rule planner as its safety net.

The model proposes; strict checks dispose. A plan that fails them gets one repair round
(the problems go back to the model); after that, or on any error, or when the time budget
runs out, the rule planner decides and the outcome says why. Whatever happens, `plan()`
returns a usable decision within about `config.timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel

from bot.brief import HistoryLine
from bot.llm.checks import PlanContext, check_plan
from bot.llm.config import LLMConfig
from bot.llm.prompt import system_prompt, thread_tasks, user_prompt
from bot.llm.providers import Completion, LLMClient, ProviderError, make_client
from bot.llm.schema import plan_schema
from bot.manifest import Fleet
from bot.models import Decision
from bot.planner import Lesson, RulePlanner, ThreadContext, ThreadTask

log = logging.getLogger(__name__)

_NONE: Mapping[str, str] = {}
SHORTLIST_FROM = 50
"""From this many agents on, the prompt names a shortlist instead of the whole roster."""
SHORTLIST = 12


class PlanOutcome(BaseModel):
    """The decision and how it was reached: which planner, why a fallback, at what cost."""

    decision: Decision
    planner: str
    """"llm", or the name of the planner that decided instead ("semantic", "rules")."""
    fallback_reason: str | None = None
    fallback_kind: str | None = None
    """The reason as one word, for the metrics: timeout, provider_error, invalid_plan, error."""
    repaired: bool = False
    """The model's first plan was unusable and its corrected one was taken."""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    model: str


class InvalidPlan(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class LLMPlanner:
    """Routing by a model, bounded in time, checked strictly, falling back to rules."""

    name = "llm"

    def __init__(
        self, config: LLMConfig, fleet: Fleet, soul: str, *, rule_planner: RulePlanner
    ) -> None:
        self.config = config
        self.fleet = fleet
        self.rule_planner = rule_planner
        self.system = system_prompt(soul)
        self._client: LLMClient = make_client(config)
        self._schema: tuple[tuple[str, ...], dict[str, Any]] | None = None

    def update_roster(self, fleet: Fleet, rule_planner: RulePlanner) -> None:
        """Follow a roster refresh without losing the client or what the endpoint supports."""
        self.fleet = fleet
        self.rule_planner = rule_planner

    @property
    def schema(self) -> dict[str, Any]:
        ids = tuple(agent.id for agent in self.fleet.all_agents)
        if self._schema is None or self._schema[0] != ids:
            self._schema = (ids, plan_schema(ids))
        return self._schema[1]

    async def plan(
        self,
        text: str,
        context: ThreadContext,
        lessons: Sequence[Lesson],
        history: Sequence[HistoryLine] = (),
        in_flight: Sequence[ThreadTask] = (),
        unavailable: Mapping[str, str] = _NONE,
    ) -> PlanOutcome:
        started = time.perf_counter()
        spent: list[Completion] = []
        down = {**self.rule_planner.unavailable, **unavailable}
        check = PlanContext(
            fleet=self.fleet,
            text=text,
            tasks=thread_tasks(context, in_flight),
            unavailable=down,
            pending_text=context.pending_text or "",
        )
        user = user_prompt(
            text,
            self.shortlist(text, context),
            context=context,
            lessons=lessons,
            history=history,
            in_flight=in_flight,
            unavailable=down,
        )
        reason: str
        try:
            async with asyncio.timeout(self.config.timeout):
                decision, repaired = await self._ask(user, check, spent)
            return self._outcome(decision, started, spent, repaired=repaired)
        except TimeoutError:
            reason, kind = f"timeout after {self.config.timeout:g}s", "timeout"
        except ProviderError as exc:
            reason, kind = str(exc), "provider_error"
        except InvalidPlan as exc:
            reason = "invalid plan after one repair: " + "; ".join(exc.problems[:3])
            kind = "invalid_plan"
        except Exception as exc:  # the safety net holds whatever breaks in here
            log.exception("LLM planner failed")
            reason, kind = f"planner error ({type(exc).__name__})", "error"
        log.warning("LLM planner fell back to the rules: %s", reason)
        rules = self.rule_planner
        if down != rules.unavailable:
            rules = rules.with_unavailable(down)
        decision = rules.plan(text, context, lessons)
        decision.planner = rules.name
        outcome = self._outcome(decision, started, spent, fallback=reason)
        outcome.fallback_kind = kind
        return outcome

    def shortlist(self, text: str, context: ThreadContext) -> Fleet:
        """A large fleet's prompt carries the likeliest agents, not the whole roster: the
        ones already in the thread, those named, then the closest by meaning."""
        if len(self.fleet.agents) < SHORTLIST_FROM:
            return self.fleet
        keep = {t.agent for t in context.tasks}
        keep.update(a.id for a in self.fleet.agents if a.name.lower() in text.lower())
        keep.update(a.id for a in self.rule_planner.shortlist(text, SHORTLIST))
        agents = [a for a in self.fleet.agents if a.id in keep]
        return self.fleet.model_copy(update={"agents": agents})

    async def _ask(
        self, user: str, check: PlanContext, spent: list[Completion]
    ) -> tuple[Decision, bool]:
        """One plan, and one repair round if it does not pass the checks."""
        first = await self._client.complete(self.system, user, self.schema)
        spent.append(first)
        decision, problems = _checked(first, check)
        if decision is not None:
            return decision, False
        log.info("LLM plan rejected, asking for a repair: %s", "; ".join(problems))
        second = await self._client.complete(
            self.system, user, self.schema, previous=first, problems=problems
        )
        spent.append(second)
        decision, problems = _checked(second, check)
        if decision is not None:
            return decision, True
        raise InvalidPlan(problems)

    def _outcome(
        self,
        decision: Decision,
        started: float,
        spent: Sequence[Completion],
        *,
        repaired: bool = False,
        fallback: str | None = None,
    ) -> PlanOutcome:
        outcome = PlanOutcome(
            decision=decision,
            planner=self.rule_planner.name if fallback else "llm",
            fallback_reason=fallback,
            repaired=repaired,
            input_tokens=sum(c.input_tokens for c in spent),
            output_tokens=sum(c.output_tokens for c in spent),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            model=self.config.model,
        )
        log.info(
            "planned %s by %s in %.0f ms (%d+%d tokens%s)",
            decision.kind,
            outcome.planner,
            outcome.latency_ms,
            outcome.input_tokens,
            outcome.output_tokens,
            ", repaired" if repaired else "",
        )
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _checked(completion: Completion, check: PlanContext) -> tuple[Decision | None, list[str]]:
    if completion.error is not None:
        return None, [completion.error]
    return check_plan(completion.data, check)
