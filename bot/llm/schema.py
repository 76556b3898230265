"""The JSON schema a model must fill in: the routing fields of `Decision`, nothing more.

It is generated from the pydantic models so it cannot drift from what the dispatcher
validates, then cut down to an allow-list: a model may choose a kind, tasks, one question, a
target and a reason. Fields users would see verbatim (`notes`) are never offered.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any, get_args

from bot.models import Decision, DecisionKind

SCHEMA_NAME = "routing_decision"
MODEL_FIELDS = ("kind", "tasks", "question", "target", "reason")
"""The only Decision fields a model may set; everything else the planner fills in itself."""
MODEL_KINDS: tuple[str, ...] = tuple(
    kind
    for kind in (
        "work",
        "followup",
        "answer",
        "clarify",
        "status",
        "roster",
        "cancel",
        "reroute",
    )
    if kind in get_args(DecisionKind)
)
"""Kinds the LLM may pick (those the dispatcher knows and this module checks)."""

_HINTS = {
    "kind": "The decision kind; see the routing rules.",
    "tasks": "work/followup: one entry per agent; every other kind: [].",
    "question": "clarify only: ONE short question ending in '?'; otherwise null.",
    "target": (
        "answer: the waiting task id; status: an agent id or null; roster: the capability in"
        " the user's words or null; cancel: 'all' or the user's words naming the task;"
        " reroute: the agent id the user wants instead; otherwise null."
    ),
    "reason": "One short sentence for the operator's log (never shown to the user).",
}
_TASK_HINTS = {
    "id": "t1, t2, … (lowercase, unique in this plan).",
    "agent": "An agent id from the roster.",
    "session": "Exactly the agent's session kind from the roster.",
    "summary": "What this agent should do, in the user's words; at most 200 characters.",
    "depends_on": "Ids of tasks in this plan whose output this one needs; [] if independent.",
}

# Keywords OpenAI's strict mode (and several compatible servers) refuse; their meaning moves
# into the description, and the planner's own checks enforce them.
_DESCRIBED = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "pattern": "matches {}",
    "format": "format {}",
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "more than {}",
    "exclusiveMaximum": "less than {}",
    "multipleOf": "a multiple of {}",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "uniqueItems": "unique items",
}
_DROPPED = frozenset({"title", "default", "examples", "$schema"})


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema rewritten for OpenAI's strict structured outputs.

    $refs are inlined; every object gets additionalProperties false and lists all its
    properties as required; a property that was optional with no default (or a None default)
    becomes nullable through anyOf [..., null], while one with a real default, or a list
    (empty when left out), stays non-null and must be filled in; unsupported keywords move
    into the description.
    """
    defs = schema.get("$defs", {})

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            merged = {**copy.deepcopy(defs[name]), **{k: v for k, v in node.items() if k != "$ref"}}
            return convert(merged)
        out: dict[str, Any] = {}
        notes: list[str] = []
        for key, value in node.items():
            if key in _DROPPED or key == "$defs":
                continue
            if key in _DESCRIBED:
                notes.append(_DESCRIBED[key].format(value))
            elif key == "properties":
                out[key] = {name: convert(sub) for name, sub in value.items()}
            elif key in ("items", "anyOf", "oneOf", "allOf"):
                out["anyOf" if key == "oneOf" else key] = convert(value)
            else:
                out[key] = value
        if notes:
            description = out.get("description", "")
            out["description"] = (description + " " if description else "") + (
                "(" + "; ".join(notes) + ")"
            )
        if "properties" in out:
            required = set(node.get("required", []))
            for name, sub in node["properties"].items():
                if name in required:
                    continue
                has_default = sub.get("default") is not None or sub.get("type") == "array"
                if not has_default and not _nullable(out["properties"][name]):
                    out["properties"][name] = {"anyOf": [out["properties"][name], {"type": "null"}]}
            out["type"] = "object"
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out

    result = convert(schema)
    assert isinstance(result, dict)
    return result


def _nullable(node: dict[str, Any]) -> bool:
    kinds = node.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(_nullable(option) for option in node.get("anyOf", []) if isinstance(option, dict))


def plan_schema(agent_ids: Collection[str] = ()) -> dict[str, Any]:
    """The strict schema of a routing decision; `agent_ids` (the roster) bound `tasks[].agent`.

    Pass every agent in the fleet, available or not: the schema then stays the same while
    availability changes (OpenAI compiles each new strict schema, slowly, the first time).
    """
    schema = strict_schema(Decision.model_json_schema())
    schema["properties"] = {name: schema["properties"][name] for name in MODEL_FIELDS}
    schema["required"] = list(MODEL_FIELDS)
    schema["description"] = "Exactly one routing decision for one message."
    props = schema["properties"]
    props["kind"]["enum"] = list(MODEL_KINDS)
    task = props["tasks"]["items"]
    if agent_ids:
        task["properties"]["agent"]["enum"] = sorted(agent_ids)
    for name, hint in _HINTS.items():
        props[name]["description"] = hint
    for name, hint in _TASK_HINTS.items():
        task["properties"][name]["description"] = hint
    return schema
