"""An optional routing planner backed by a language model; the rule planner stays the net.

planner = LLMPlanner(config, fleet, soul, rule_planner=RulePlanner(fleet))
outcome = await planner.plan(text, context, lessons, history, in_flight, unavailable)
outcome.decision  # always usable: the model's checked plan, or the rule planner's
"""

from bot.llm.config import LLMConfig
from bot.llm.planner import LLMPlanner, PlanOutcome
from bot.llm.schema import plan_schema, strict_schema

__all__ = ["LLMConfig", "LLMPlanner", "PlanOutcome", "plan_schema", "strict_schema"]
