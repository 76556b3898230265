"""Strict checks on a model's routing decision; each problem is a sentence the model can fix.

A model's plan is untrusted input. Beyond the schema, it must fit the roster (known,
available agents in their own session kind), the thread (an answer goes to a task that is
waiting; a follow-up to an agent already here) and zero execution: the only free text a user
can see is a task summary or one short question, and any target echoed back to the user must
be made of words the user or the manifest already used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.llm.schema import MODEL_FIELDS, MODEL_KINDS
from bot.manifest import Fleet
from bot.models import Decision
from bot.planner import ThreadTask, content_stems

MAX_TASKS = 8
MAX_SUMMARY = 200
MAX_QUESTION = 200
MAX_TARGET = 80
MAX_REASON = 300

_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|incl|mr|mrs|ms|dr|no)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!;](?=\s)")
_TOKEN = re.compile(r"\d[\d,.:]*\d|\d|[^\W\d_][\w'’-]*")
MAX_NEW_WORDS = 3
"""A summary may use this many words the user did not (more, if they are under half)."""
_EVERYTHING = frozenset({"", "all", "everything", "all of it", "it", "that", "this", "them"})


@dataclass(frozen=True)
class PlanContext:
    """Everything a plan is checked against."""

    fleet: Fleet
    text: str
    tasks: Sequence[ThreadTask]
    """The thread's tasks (in flight or done)."""
    unavailable: Mapping[str, str]
    pending_text: str = ""
    """The request a pending clarifying question is about: its words are the user's too."""

    def users_words(self) -> list[str]:
        """What the user and the thread already said, and the roster's own words: all a
        summary or a question may take its facts from."""
        return [
            self.text, self.pending_text, *(t.summary for t in self.tasks),
            *_roster_words(self.fleet),
        ]  # fmt: skip


def check_plan(data: Any, ctx: PlanContext) -> tuple[Decision | None, list[str]]:
    """The decision if `data` is a usable plan, else None and what is wrong with it."""
    if not isinstance(data, dict):
        return None, [
            "the reply must be one JSON object with kind, tasks, question, target, reason"
        ]
    problems = [
        f"unexpected field {name!r}: use only {', '.join(MODEL_FIELDS)}"
        for name in sorted(set(data) - set(MODEL_FIELDS))
    ]
    fields = {k: v for k, v in data.items() if k in MODEL_FIELDS}
    for key in ("tasks", "reason"):  # JSON mode may send null for "nothing"
        if fields.get(key, "") is None:
            del fields[key]
    if isinstance(fields.get("tasks"), list):
        fields["tasks"] = [_tidy_task(task) for task in fields["tasks"]]
    if "kind" in fields and fields["kind"] not in MODEL_KINDS:
        return None, [*problems, f"kind must be one of {', '.join(MODEL_KINDS)}"]
    try:
        decision = Decision.model_validate({**fields, "planner": "llm"})
    except ValidationError as exc:
        return None, problems + [_describe(error) for error in exc.errors()]
    problems += decision.validate_against({agent.id for agent in ctx.fleet.all_agents})
    problems += _semantics(decision, ctx)
    if problems:
        return None, problems
    decision.reason = _clip(decision.reason, MAX_REASON)
    decision.notes = unavailable_notes(decision, ctx)
    return decision, []


def question_problems(question: str) -> list[str]:
    """A clarifying question is one short sentence ending in its only '?'; anything else
    could be the dispatcher answering the request instead of asking about it."""
    question = question.strip()
    problems: list[str] = []
    if len(question) > MAX_QUESTION:
        problems.append(f"the question is {len(question)} characters; at most {MAX_QUESTION}")
    if "\n" in question:
        problems.append("the question must be one line")
    if not question.endswith("?"):
        problems.append(
            "question must be one clarifying question ending in '?', not a statement or answer"
        )
    elif question.count("?") != 1:
        problems.append(f"ask exactly one question (found {question.count('?')} '?')")
    if _SENTENCE_END.search(_ABBREVIATIONS.sub("", question)):
        problems.append("the question must be a single sentence, with nothing before or after it")
    return problems


def new_facts(phrase: str, vocabulary: Sequence[str]) -> list[str]:
    """Numbers and names in `phrase` that no text of `vocabulary` has: what a summary or a
    question would carry if it answered the request instead of restating or asking."""
    known = {_bare(token) for text in vocabulary for token in _TOKEN.findall(text)}
    found = []
    for index, token in enumerate(_TOKEN.findall(phrase)):
        number = token[0].isdigit()
        name = index > 0 and len(token) > 1 and token[0].isupper()
        if (number or name) and _bare(token) not in known:
            found.append(token)
    return found


def summary_problems(summary: str, vocabulary: Sequence[str]) -> list[str]:
    """A summary says what to do in the user's words: no new numbers or names, and no
    more than a few words of its own (an answer would need them)."""
    problems = []
    facts = new_facts(summary, vocabulary)
    if facts:
        problems.append(
            f"the summary brings in {', '.join(facts)}, which the user did not write;"
            " restate the request in the user's words, never answer it"
        )
    stems = set(content_stems(summary))
    known: set[str] = set()
    for text in vocabulary:
        known.update(content_stems(text))
    new = stems - known
    if len(new) > max(MAX_NEW_WORDS, len(stems) // 2):
        problems.append(
            "the summary is mostly words the user did not write; use the user's own words"
        )
    return problems


def _bare(token: str) -> str:
    """A token as compared: lower case, and a number without its separators."""
    return token.replace(",", "").replace(".", "") if token[0].isdigit() else token.lower()


def unavailable_notes(decision: Decision, ctx: PlanContext) -> list[str]:
    """Say so when the user named an agent that is down (the model's words never get here)."""
    if decision.kind not in ("work", "followup"):
        return []
    notes = []
    for agent in ctx.fleet.agents:
        reason = ctx.unavailable.get(agent.id)
        if reason is None:
            continue
        names = "|".join(re.escape(n) for n in {agent.id, agent.name, *agent.aliases} if n)
        if re.search(rf"(?<![\w-])@?(?:{names})(?![\w-])", ctx.text, re.IGNORECASE):
            notes.append(f"{agent.label} is unavailable right now ({reason}).")
    return notes


def _semantics(decision: Decision, ctx: PlanContext) -> list[str]:
    problems: list[str] = []
    if decision.kind != "clarify" and (decision.question or "").strip():
        problems.append(f"question must be null unless kind is clarify (kind is {decision.kind})")
    if decision.kind in ("work", "followup"):
        decision.target = None
        return problems + _task_problems(decision, ctx)
    if decision.tasks:
        problems.append(f"a {decision.kind} decision must have tasks []")
    return problems + _target_problems(decision, ctx)


def _task_problems(decision: Decision, ctx: PlanContext) -> list[str]:
    """Tasks go to available agents, in their manifest's session kind; a follow-up goes
    back to an agent that already worked in this thread."""
    agents = {agent.id: agent for agent in ctx.fleet.all_agents}
    thread_agents = sorted({task.agent for task in ctx.tasks})
    followup = decision.kind == "followup"
    problems: list[str] = []
    if len(decision.tasks) > MAX_TASKS:
        problems.append(f"{len(decision.tasks)} tasks; at most {MAX_TASKS}")
    if followup and not thread_agents:
        problems.append("followup needs earlier tasks in this thread; use kind work")
    vocabulary = ctx.users_words()
    for task in decision.tasks:
        task.summary = " ".join(task.summary.split())
        if len(task.summary) > MAX_SUMMARY:
            problems.append(
                f"task {task.id}: summary is {len(task.summary)} characters; at most {MAX_SUMMARY}"
            )
        problems += [
            f"task {task.id}: {problem}" for problem in summary_problems(task.summary, vocabulary)
        ]
        agent = agents.get(task.agent)
        if agent is None:
            continue  # validate_against reported it
        if task.agent in ctx.unavailable:
            problems.append(
                f"task {task.id}: agent {task.agent!r} is unavailable"
                f" ({ctx.unavailable[task.agent]}); route to another agent or 'subagent'"
            )
        if task.session != agent.session:
            problems.append(
                f"task {task.id}: agent {task.agent!r} runs {agent.session} sessions,"
                f" not {task.session}"
            )
        if followup and thread_agents and task.agent not in thread_agents:
            problems.append(
                f"task {task.id}: a followup goes back to an agent of this thread"
                f" ({', '.join(thread_agents)}); use kind work for another agent"
            )
    return problems


def _target_problems(decision: Decision, ctx: PlanContext) -> list[str]:
    """Each kind's target must point at something real; a target the dispatcher may echo
    to the user (roster, cancel) must be words the user or the manifest already used."""
    kind = decision.kind
    target = (decision.target or "").strip()
    problems: list[str] = []
    if kind == "clarify":
        decision.target = None
        if decision.question and decision.question.strip():
            decision.question = decision.question.strip()
            problems += question_problems(decision.question)
            facts = new_facts(decision.question, ctx.users_words())
            if facts:
                problems.append(
                    f"the question brings in {', '.join(facts)}, which nobody here wrote;"
                    " ask about the request, never state an answer"
                )
    elif kind == "answer":
        waiting = [task.id for task in ctx.tasks if task.state == "input_required"]
        if not waiting:
            problems.append("no agent in this thread is waiting for an answer; pick another kind")
        elif target not in waiting:
            problems.append(
                f"an answer's target must be the waiting task's id: {', '.join(waiting)}"
            )
    elif kind == "status":
        decision.target = _resolve(target, ctx.fleet) if target else None
        if target and decision.target is None:
            problems.append(f"a status target must be an agent id or null, not {target!r}")
    elif kind == "roster":
        decision.target = target or None
        if target and not _echoes(target, [ctx.text, *_roster_words(ctx.fleet)]):
            problems.append(
                "a roster target must be the capability in the user's own words"
                f" (at most {MAX_TARGET} characters), or null"
            )
    elif kind == "cancel":
        vocabulary = [ctx.text, *(f"{t.summary} {t.agent}" for t in ctx.tasks)]
        if target.lower() in _EVERYTHING:
            decision.target = "all"
        elif target not in {t.id for t in ctx.tasks} and not _echoes(target, vocabulary):
            problems.append(
                "a cancel target must be 'all', a task id from this thread, or the user's"
                " words naming the task"
            )
    elif kind == "reroute":
        if not ctx.tasks:
            problems.append("reroute needs earlier tasks in this thread")
        if target in ctx.unavailable:
            problems.append(f"agent {target!r} is unavailable ({ctx.unavailable[target]})")
    return problems


def _echoes(phrase: str, vocabulary: Sequence[str]) -> bool:
    """Whether `phrase` is short and made only of words already in `vocabulary`."""
    if len(phrase) > MAX_TARGET or "\n" in phrase:
        return False
    stems = set(content_stems(phrase))
    known: set[str] = set()
    for text in vocabulary:
        known.update(content_stems(text))
    return bool(stems) and stems <= known


def _roster_words(fleet: Fleet) -> list[str]:
    return [
        " ".join([agent.id, agent.name, agent.description, *agent.skills, *agent.aliases])
        for agent in fleet.all_agents
    ]


def _resolve(name: str, fleet: Fleet) -> str | None:
    name = name.lower().lstrip("@")
    for agent in fleet.all_agents:
        if name in {agent.id, agent.name.lower(), *(a.lower() for a in agent.aliases)}:
            return agent.id
    return None


def _tidy_task(task: Any) -> Any:
    if isinstance(task, dict) and task.get("depends_on", "") is None:
        return {k: v for k, v in task.items() if k != "depends_on"}
    return task


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "decision"
    return f"{where}: {error['msg']}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
