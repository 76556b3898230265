"""Dispatch's voice: every sentence the dispatcher itself says comes from here.

Fast, direct, and transparent about who is doing what. Nothing here ever restates or
answers the work; it names agents, summaries (the user's own words), states and times.

Over the core's line budget by design: one module holds every sentence, so a reader finds
them all in one place and `tests/test_zero_execution.py` checks each posted text against it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.manifest import AgentSpec, CatchAllSpec
from bot.models import TaskSpec
from bot.outbound import AgentBadge, Board

ROUTING = "Routing…"
"""Said when planning takes longer than a second, so nobody waits in silence."""

WHAT_EXACTLY = "What exactly needs doing, and on what? A sentence or two is plenty."
"""The clarifying question for a request that carries too little to act on."""


NOT_ON_THE_LIST = (
    "Sorry, you're not on the list of people who can send work to Dispatch here."
    " An admin can add you."
)
NOT_IN_THIS_CHANNEL = (
    "Sorry, Dispatch doesn't take work in this channel. Try a channel it's enabled for, or DM me."
)
NOT_IN_THIS_SERVER = "Sorry, Dispatch doesn't take work in this server."
ROLES_MISSING = "Sorry, your roles don't include one that may send work to Dispatch."
DM_NOT_A_MEMBER = (
    "Sorry, Dispatch takes DMs only from members of the servers (and roles) it works for."
)
"""The allowlist refusals, the same on every way in (mentions, DMs, replies, commands)."""

STATUS_USE_SLASH = (
    "What's in flight for you includes work from other places, so I send it only where"
    " you alone can see it, and I can't DM you. Use /status: only you will see the answer."
)
"""A status asked in public on Discord, when the asker's DMs are closed to Dispatch."""


def rest_attached(agent: AgentBadge, chars: int, name: str) -> str:
    """The last message of a result too long for the chat: the rest is in a file."""
    return f"{agent.label}'s result goes on for {chars:,} more characters: they are in {name}."


def rest_file_name(agent: AgentBadge) -> str:
    return f"{agent.id}-result-continued.md"


def which_of(first: str, second: str) -> str:
    """The clarifying question that names the two likeliest agents."""
    return f"Is this one for {first} or {second}, and what exactly should they do?"


def too_many_tasks(count: int, limit: int) -> str:
    return (
        f"That would be {count} tasks; I take at most {limit} from one message."
        " Could you split it into smaller requests?"
    )


def answer_from(name: str, text: str) -> str:
    """A reply to an agent's question, as the agent receives it: it knows who answered."""
    return f"Answer from {name}: {text}"


def clarified(request: str, question: str, name: str, answer: str) -> str:
    """A request completed by the answer to Dispatch's clarifying question (the brief's words)."""
    return f"{request}\n(answer from {name} to “{question}”) {answer}"


def not_yours(owner: str | None) -> str:
    return f"Only {owner or 'the person who asked'}, who made this request, or an admin can answer that."


def rerouted(summary: str, old: str, new: str, name: str, *, for_everyone: bool) -> str:
    whose = "requests like this" if for_everyone else "your requests like this"
    return f"Moving “{summary}” from {old} to {new}; I'll route {whose} to {name} from now on."


def too_long(length: int, limit: int) -> str:
    return (
        f"That message is {length:,} characters; the limit is {limit:,}."
        " Please shorten it or attach it as a file."
    )


def too_many_in_flight(count: int, limit: int) -> str:
    return (
        f"You have {count} task(s) in flight and this would add more; the limit is {limit}"
        " per person. Please wait for some to finish (or cancel some) and ask again."
    )


def too_many_requests(limit: int) -> str:
    return (
        f"That's more than {limit} requests from you in a minute, so I set this one aside."
        " Please send it again in a moment."
    )


def question_lapsed(after: float) -> str:
    """Why a task ended whose question nobody answered (its failure notice says the rest)."""
    return f"its question went unanswered for {elapsed(after)}"


_COUNT = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}

STATE_LABEL = {
    "waiting": "waiting",
    "queued": "queued",
    "running": "working",
    "input_required": "needs your answer",
    "completed": "done",
    "failed": "failed",
    "timed_out": "timed out",
    "cancelled": "cancelled",
    "blocked": "stopped",
}
STATE_ICON = {
    "waiting": "⏸",
    "queued": "⏳",
    "running": "⚙️",
    "input_required": "❓",
    "completed": "✅",
    "failed": "❌",
    "timed_out": "⌛",
    "cancelled": "🚫",
    "blocked": "⛔",
}


def badge(agent: AgentSpec) -> AgentBadge:
    return AgentBadge(id=agent.id, name=agent.name, emoji=agent.emoji, icon=agent.icon)


def elapsed(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def size(count: int) -> str:
    """A byte count as people read it: 1 MiB, 64 KiB, 900 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def result_cut(text: str, limit: int, *, cut: bool = False) -> str:
    """A result longer than `limit` bytes (UTF-8): its head, then a line saying it was cut.
    `cut`: `text` is already only the head (the rest was never read).

    The agent's own text is relayed, never summarised; only its tail is dropped."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit and not cut:
        return text
    head = data[:limit].decode("utf-8", "ignore").rstrip()
    return f"{head}\n\n✂️ The result was cut here: it is longer than {size(limit)}."


def count_word(n: int) -> str:
    return _COUNT.get(n, str(n))


def sentence(text: str) -> str:
    """End with a full stop unless the text already ends a sentence ("…price of Bitcoin?")."""
    return text if text.endswith((".", "?", "!", "…")) else f"{text}."


ACK_LISTED = 6
"""Tasks named in an acknowledgement; the board lists them all."""
_ARROW_SUMMARY = 120


def _arrow(agent: AgentSpec, task: TaskSpec) -> str:
    summary = task.summary
    if len(summary) > _ARROW_SUMMARY:
        summary = summary[: _ARROW_SUMMARY - 1].rstrip() + "…"
    return f"{agent.emoji} {agent.name} → {summary}"


def ack(tasks: Sequence[TaskSpec], agents: dict[str, AgentSpec], *, followup: bool = False) -> str:
    """The routing decision, stated before any agent is called."""
    by_id = {t.id: t for t in tasks}
    roots = [t for t in tasks if not t.depends_on]
    later = [t for t in tasks if t.depends_on]
    session_note = {
        "persistent": "main session",
        "disposable": "fresh disposable session",
    }
    if followup and len(tasks) == 1:
        task = tasks[0]
        agent = agents[task.agent]
        where = (
            "same session"
            if task.session == "persistent"
            else "new session, with this thread's context"
        )
        return f"Back to {agent.emoji} {agent.name} ({where}): {sentence(task.summary)} I'll post the reply here."
    if len(tasks) == 1:
        task = tasks[0]
        agent = agents[task.agent]
        if agent.id == "subagent":
            return (
                f"No specialist covers this, so a disposable {agent.emoji} {agent.name} takes it:"
                f" {sentence(task.summary)} I'll post the result here."
            )
        return f"On it: {_arrow(agent, task)} ({session_note[task.session]}). I'll post the result here."
    if not later:
        listed = ", ".join(_arrow(agents[t.agent], t) for t in roots[:ACK_LISTED])
        return (
            f"{count_word(len(roots))} in parallel: {listed}{_more(len(roots))}."
            " Reporting as each finishes."
        )
    shown_roots = roots[:ACK_LISTED]
    shown_later = later[: max(ACK_LISTED - len(roots), 1)]
    first = ", ".join(_arrow(agents[t.agent], t) for t in shown_roots)
    steps = [first if len(roots) == 1 else f"{first} (in parallel)"]
    for task in shown_later:
        after = " and ".join(agents[by_id[d].agent].name for d in task.depends_on if d in by_id)
        steps.append(f"{_arrow(agents[task.agent], task)} (after {after}, with its output)")
    return (
        f"{count_word(len(tasks))} steps: "
        + "; then ".join(steps)
        + _more(len(tasks), len(shown_roots) + len(shown_later))
        + ". Reporting as each finishes."
    )


def _more(total: int, shown: int = ACK_LISTED) -> str:
    """The acknowledgement stays short: a handful of tasks, then how many more."""
    return f", and {total - shown} more" if total > shown else ""


def closing(counts: dict[str, int], seconds: float) -> str:
    total = sum(counts.values())
    done = counts.get("completed", 0)
    if done == total:
        what = {1: "1 task finished", 2: "both tasks finished"}.get(
            total, f"all {total} tasks finished"
        )
        return f"Done in {elapsed(seconds)}: {what}."
    parts = [f"{done} of {total} done"]
    for state in ("failed", "timed_out", "cancelled", "blocked"):
        if counts.get(state):
            parts.append(f"{counts[state]} {STATE_LABEL[state]}")
    return f"Finished in {elapsed(seconds)}: " + ", ".join(parts) + "."


def failure(agent: AgentBadge, summary: str, state: str, error: str, stopped: Sequence[str]) -> str:
    verb = {"failed": "failed", "timed_out": "timed out", "cancelled": "was cancelled"}.get(
        state, state
    )
    text = f"{agent.label} {verb} on “{summary}”"
    text += f": {error}" if error and state != "cancelled" else "."
    if not text.endswith("."):
        text += "."
    if stopped:
        text += " Stopped what depended on it: " + "; ".join(stopped) + "."
    return text


def where(platform: str, channel: str, thread: str, is_dm: bool) -> str:
    """Where a task lives, in a status line. A terminal's thread is named as its screen names
    it: the console's thread ids end in the thread's number ("<run>-5" is #5)."""
    if is_dm:
        return "DM"
    if platform == "console":
        return f"#{thread.rsplit('-', 1)[-1]}"
    return f"#{channel} thread {thread}"


def board_lines(board: Board) -> list[str]:
    lines = []
    for row in board.rows:
        when = f" · {elapsed(row.elapsed)}" if row.elapsed is not None else ""
        note = f" · {row.note}" if row.note else ""
        icon = STATE_ICON.get(row.state, "•")
        label = STATE_LABEL.get(row.state, row.state)
        lines.append(f"{icon} {row.agent.label} — {row.summary} · {label}{when}{note}")
    return lines


# -- the terminal ---------------------------------------------------------------------------

REPLY_NEEDS_TEXT = "A reply needs some text: '^ your answer' (latest thread) or '^N your answer'."
NO_THREAD_YET = "There is no thread to reply to yet: type a request to start one."


def no_such_thread(number: int, threads: int) -> str:
    """`^N` names a thread this terminal did not start (threads are #1…#threads)."""
    known = "none yet" if threads == 0 else "#1" if threads == 1 else f"#1 to #{threads}"
    return f"There is no thread #{number} (threads so far: {known}). Nothing was sent."


def interrupted(command: str, demo: bool) -> str:
    """The one line `dispatch` prints on Ctrl-C: what became of the work in flight."""
    if demo:
        return "interrupted; any unfinished demo work was cancelled (its agents stop with it)."
    if command in ("chat", "serve"):
        return "interrupted; work in flight is recorded and resumes on the next start."
    return "interrupted."


# -- answers from the records: status, roster, cancel, retry, reroute -----------------------

UNROUTABLE = "I couldn't work out how to route that. Which agent should take it?"
"""The question when a planner produced a decision that names no usable agent."""
SAY_MORE = "Could you say a bit more?"
HOLD_WHICH = (
    "Which work should I hold? Reply in its thread, or name it ('don't post the launch tweet')."
)
QUESTION_CLOSED = "That question is no longer open."
NOTHING_TO_REROUTE = "There is nothing here to send elsewhere."
REROUTE_NOT_YOURS = "Only the person who asked, or an admin, can reroute this."
CANCEL_NOT_YOURS = "Only the person who asked for that, or an admin, can cancel it."
ALREADY_FINISHED = "Those had already finished."
NOTHING_RUNNING = "Nothing here was still running."
REQUEST_GONE = "That request is no longer on record."
TASK_GONE = "That task is no longer on record."
AGENT_ASKS = "The agent needs more information."
"""An agent's question that came without words."""
WAITING_ON_ANSWER = "waiting on your answer"
STATUS_MORE = "…and more; ask in a thread to see just that request."


def task_label(agent: str, summary: str) -> str:
    """A task as cancel, retry and stopped dependents name it: "🎨 Image → the logo"."""
    return f"{agent} → {summary}"


def cancelled(labels: Sequence[str], *, none: str) -> str:
    return "Cancelled: " + "; ".join(labels) + "." if labels else none


def cancelled_one(label: str, done: bool) -> str:
    return f"Cancelled: {label}." if done else f"{label} had already finished."


def nothing_matching(target: str) -> str:
    what = "in flight here" if target == "all" else f"matching “{target}” is in flight"
    return f"Nothing {what}."


def only_owner(who: str) -> str:
    return f"Only {who}, who made this request, or an admin can do that."


def cancelled_by(actor: str) -> str:
    return f"cancelled by {actor}"


def rerouted_to(name: str) -> str:
    return f"rerouted to {name}"


def nothing_to_retry(label: str, state: str) -> str:
    return f"{label} is {STATE_LABEL.get(state, state)}; nothing to retry."


def retrying(label: str, actor: str) -> str:
    return f"Retrying {label} (asked by {actor})."


# The errors a task ends with, shown on its board and in its notice.

CANCELLED_BY_AGENT = "cancelled by the agent"
NO_RESULT = "the agent ended the conversation without a result"


def left_fleet(agent_id: str) -> str:
    return f"agent {agent_id!r} left the fleet"


def gone_from_fleet(agent_id: str) -> str:
    return f"agent {agent_id!r} is no longer in the fleet"


def no_result_within(seconds: float) -> str:
    return f"no result within {elapsed(seconds)}"


def agent_reported(state: str) -> str:
    return f"the agent reported {state}"


def ended(agent: str, state: str) -> str:
    """Why a dependent did not start: "🎨 Image failed"."""
    return f"{agent} {STATE_LABEL[state]}"


def did_not_finish(agent: str) -> str:
    return f"{agent} did not finish"


def not_started(why: str) -> str:
    return f"not started: {why}"


def waiting_on(names: str) -> str:
    return f"waiting on {names}"


def waiting_for_session(agent: str) -> str:
    return f"waiting for {agent}'s session"


def status_scope(in_thread: bool, mine: bool) -> str:
    return "in this thread" if in_thread else ("for you" if mine else "overall")


def nothing_in_flight(scope: str, agent: str | None = None, others: int = 0) -> str:
    """No active task in scope; for one agent, whether it is busy with others' work."""
    if agent is None:
        return f"Nothing in flight {scope}."
    busy = f" (busy with {others} task(s) for others)" if others else ""
    return f"{agent} has nothing in flight {scope}{busy}."


def status_line(agent: str, summary: str, state: str, took: float | None, note: str) -> str:
    """One task in a status answer; `note` is what it waits on, if anything."""
    when = f" {elapsed(took)}" if took is not None else ""
    note = f" · {note}" if note else ""
    return f"{agent} — {summary} · {STATE_LABEL.get(state, state)}{when}{note}"


def status(
    agent: str | None,
    count: int,
    more: bool,
    scope: str,
    lines: Sequence[str],
    places: Sequence[str] | None,
    down: Sequence[tuple[str, str]],
) -> str:
    """The status answer: a heading, one line per task (with where it lives, `places`, when
    not asked in its thread), then agents not answering."""
    head = f"{agent} — " if agent else ""
    shown = f"{count}+" if more else str(count)
    text = [f"{head}{shown} in flight {scope}:"]
    if places is None:
        text += [f"• {line}" for line in lines]
    else:
        text += [f"• {line} · {place}" for line, place in zip(lines, places, strict=True)]
    if more:
        text.append(STATUS_MORE)
    text += [f"⚠️ {label} is unavailable right now: {why}." for label, why in down]
    return "\n".join(text)


def _down(reason: str | None) -> str:
    return f" ⚠️ Unavailable right now: {reason}." if reason else ""


def roster(
    agents: Sequence[AgentSpec], catch_all: CatchAllSpec, unavailable: dict[str, str]
) -> str:
    """Who is on call, what each is good at, and who is not answering."""
    up = len(agents) - len(unavailable.keys() & {a.id for a in agents})
    lines = [f"{len(agents)} agents on call ({up} available):"]
    for agent in agents:
        kind = "main session" if agent.session == "persistent" else "disposable sessions"
        skills = ", ".join(agent.skills[:6])
        lines.append(
            f"• {agent.label} — {agent.description} ({kind}) Good at: {skills}."
            f"{_down(unavailable.get(agent.id))}"
        )
    lines.append(
        f"• {catch_all.emoji} {catch_all.name} — anything else, in a fresh disposable session."
    )
    return "\n".join(lines)


def roster_for(
    query: str, ranked: Sequence[AgentSpec], catch_all: CatchAllSpec, unavailable: dict[str, str]
) -> str:
    """Who would take work like `query`: the three best, or the disposable catch-all."""
    if not ranked:
        return (
            f"No specialist covers “{query}”. A disposable {catch_all.emoji} {catch_all.name}"
            " would take it."
        )
    lines = [f"For “{query}”:"]
    lines += [f"• {a.label} — {a.description}{_down(unavailable.get(a.id))}" for a in ranked[:3]]
    return "\n".join(lines)


REPLICAS_MORE = "  …and {n} older"
NO_REPLICAS = "No replica on record yet (none has started on this database)."


def _clock(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _counted(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def replicas_report(
    rows: Sequence[Mapping[str, Any]],
    *,
    now: float,
    dead_after: float,
    shared: bool,
    limit: int = 20,
) -> str:
    """`dispatch status --replicas`: each replica on record, newest first. With PostgreSQL a
    replica is alive while its heartbeat is newer than the bound; SQLite keeps no heartbeats
    (one process owns the file), so there a record is stopped, or running, or was killed."""
    if not rows:
        return NO_REPLICAS
    if shared:
        head = (
            f"{_counted(len(rows), 'replica')} on record; one is dead after"
            f" {elapsed(dead_after)} without a heartbeat:"
        )
    else:
        head = (
            f"{_counted(len(rows), 'run')} on record (SQLite: one process at a time,"
            " no heartbeats):"
        )
    lines = [head]
    for row in rows[:limit]:
        stopped = row["stopped_at"]
        if stopped is not None:
            state = f"stopped {_clock(stopped)} ({elapsed(now - stopped)} ago)"
        elif not shared:
            state = "not stopped: running now, or ended without a clean stop"
        elif row["heartbeat_at"] >= now - dead_after:
            state = "alive"
        else:
            state = "dead (its work goes to the living)"
        beat = f", heartbeat {elapsed(now - row['heartbeat_at'])} ago" if shared else ""
        lines.append(
            f"  {row['host']} pid {row['pid']} [{row['id']}]: {state}; started"
            f" {_clock(row['started_at'])} ({elapsed(now - row['started_at'])} ago){beat};"
            f" owns {_counted(int(row['tasks']), 'task')}, {_counted(int(row['threads']), 'thread')}"
        )
    if len(rows) > limit:
        lines.append(REPLICAS_MORE.format(n=len(rows) - limit))
    return "\n".join(lines)
