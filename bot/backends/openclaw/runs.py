"""Following a run to its end, and reading what became of it.

The run lives on the gateway, not in our socket: `agent.wait` only ever stops *waiting*,
so a wait that times out means "still running". The subtle part, and why this is its own
module: after a gateway restart `agent.wait` can no longer speak for an old run, and only
the session's transcript (`chat.history`) says whether it finished, failed, or goes on
as a recovery run under a new id. Facts from openclaw/openclaw: `agent.wait` results
(src/gateway/agent-turn/agent-turn-service.ts `waitForTurn`, agent-job.ts,
docs/gateway/external-apps.md); restart recovery
(src/gateway/main-session-restart-recovery.ts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

from bot import render
from bot.backends.openclaw.client import GatewayClient
from bot.backends.openclaw.errors import Json, RpcError, redact
from bot.backends.openclaw.sessions import ws_remote_id
from bot.backends.openclaw.wire import RPC_TIMEOUT
from bot.models import AgentEvent

logger = logging.getLogger(__name__)

_HISTORY_PAGE = 200
_HISTORY_PAGES = 10
"""`chat.history` is read back a page at a time, newest first, until the run's own turn is
in it: a turn of many tool calls leaves hundreds of rows after the message that started it."""
_TERMINAL_REPLY_MAX = 4096
"""`agent.wait` cuts its terminalReply at this many characters, ending it with "…"
(src/agents/agent-run-terminal-reply.ts)."""
_HISTORY_CUT = "\n...(truncated)..."
_HISTORY_OMITTED = "[chat.history omitted"
"""How `chat.history` marks a row it shortened (past 8,000 characters) or left out; the
whole message is then read with `chat.message.get` (src/gateway/chat-display-projection)."""

_ABORT_REASONS = frozenset(
    {"rpc", "stop", "user", "abort", "aborted", "cancel", "cancelled", "canceled"}
)
_RUNNING_STATUSES = frozenset({"pending", "accepted", "in_flight", "queued", "running"})

_RECOVERY_TURN = "[System] Your previous turn was interrupted by a gateway restart"
"""How the gateway's restart recovery starts the turn that re-runs an interrupted one
(src/gateway/main-session-restart-recovery.ts); it runs under a new run id."""
_UNFINISHED_STOPS = frozenset({"toolUse", "tool_use", "tool_calls"})
_FAILED_STOPS = frozenset({"error", "aborted"})


def content_text(content: Any) -> str:
    """The text of a message's content: a string, text blocks, or one text object."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(block.get("text"))
            for block in content
            if isinstance(block, dict)
            and block.get("type") in (None, "text", "output_text")
            and isinstance(block.get("text"), str)
        ]
        return "\n".join(t for t in texts if t)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return str(content["text"])
    return ""


def _message_text(message: Json) -> str:
    text = content_text(message.get("content"))
    if not text and isinstance(message.get("text"), str):
        text = str(message["text"])
    return text.strip()


def _turn_run_id(row: Json) -> str:
    """The run a user turn started: the gateway tags it with idempotencyKey "<runId>:user"."""
    key = str(row.get("idempotencyKey") or row.get("runId") or "")
    return key.split(":")[0] if row.get("role") == "user" else ""


def _turn_index(rows: list[Json], run_id: str) -> int | None:
    found = None
    for index, row in enumerate(rows):
        if _turn_run_id(row) == run_id:
            found = index
    return found


def _reply_row(rows: list[Json], run_id: str) -> Json | None:
    """The run's final assistant message in a `chat.history` transcript.

    The gateway tags the run's user message with idempotencyKey "<runId>:user"; the reply
    is the last assistant text after it and before the next user message. Untagged
    transcripts fall back to the last assistant text after the last user message.
    """
    start = _turn_index(rows, run_id)
    if start is not None:
        reply = None
        for row in rows[start + 1 :]:
            if row.get("role") == "user":
                break
            if row.get("role") == "assistant" and _message_text(row):
                reply = row
        return reply
    for row in reversed(rows):
        if row.get("role") == "user":
            break
        if row.get("role") == "assistant" and _message_text(row):
            return row
    return None


def _cut_short(text: str) -> bool:
    return text.endswith(_HISTORY_CUT.strip()) or text.startswith(_HISTORY_OMITTED)


@dataclass
class _TurnOutcome:
    """What a session's transcript says became of a run's turn."""

    run_id: str
    """The run now carrying the turn: ours, or the recovery run that re-ran it."""
    state: Literal["running", "completed", "failed"]
    text: str = ""
    row: Json | None = None
    """The transcript row the text came from."""


def _turn_outcome(rows: list[Json], run_id: str) -> _TurnOutcome | None:
    """Reconcile a run from `chat.history` when `agent.wait` can no longer speak for it.

    After a gateway restart `agent.wait` answers "timeout" for an old run id forever. The
    transcript still knows: our tagged user turn followed by a final assistant message is
    the result; followed by the recovery turn, the work goes on under that turn's run id
    (and so on, if that one was interrupted too). None if our turn is not in the history.
    """
    start = _turn_index(rows, run_id)
    if start is None:
        return None
    outcome = _TurnOutcome(run_id, "running")
    for row in rows[start + 1 :]:
        if row.get("role") == "user":
            if outcome.state == "completed" or not _message_text(row).startswith(_RECOVERY_TURN):
                break  # the turn was answered; what follows is someone else's
            outcome = _TurnOutcome(_turn_run_id(row) or outcome.run_id, "running")
        elif row.get("role") == "assistant":
            stop = str(row.get("stopReason") or "")
            if stop in _FAILED_STOPS:
                error = str(row.get("errorMessage") or "") or _message_text(row)
                outcome = _TurnOutcome(outcome.run_id, "failed", error)
            elif stop not in _UNFINISHED_STOPS and _message_text(row):
                outcome = _TurnOutcome(outcome.run_id, "completed", _message_text(row), row)
    return outcome


_WaitState = Literal["running", "ok", "error", "timeout", "canceled", "superseded"]


def _wait_state(payload: Json) -> _WaitState:
    """Classify an `agent.wait` result.

    Verified in agent-turn-service.ts: an expired wait is `{runId, status:"timeout"}` with
    no terminal metadata, a queued run is `status:"pending"`, and a gateway shutting down
    answers `timeoutPhase:"gateway_draining"`: all of those mean the run is still alive.
    """
    status = str(payload.get("status") or "")
    stop = str(payload.get("stopReason") or "").lower()
    if status == "ok":
        return "ok"
    if status in _RUNNING_STATUSES or not status:
        return "running"
    terminal = any(payload.get(k) not in (None, "") for k in ("endedAt", "stopReason", "error"))
    if status == "timeout" and (not terminal or payload.get("timeoutPhase") == "gateway_draining"):
        return "running"
    if stop == "superseded":
        return "superseded"
    if stop in _ABORT_REASONS:
        return "canceled"
    if status == "timeout":
        return "timeout"
    if status == "error":
        return "error"
    return "running"


@dataclass
class RunFollower:
    """Turns `agent.wait` and `chat.history` answers into `AgentEvent`s until a run ends."""

    client: GatewayClient
    _: KW_ONLY
    base: str
    token: str
    wait_ms: int
    """One agent.wait's length. Tests may go below the config minimum here."""
    poll_interval: float
    max_result_bytes: int

    def working(self, run_id: str, key: str) -> AgentEvent:
        return AgentEvent(state="working", remote_task_id=ws_remote_id(run_id, key), context_id=key)

    async def now(self, run_id: str, key: str) -> AgentEvent:
        """The run's state now: one zero-length agent.wait, plus the reply if it finished."""
        payload = await self.client.call("agent.wait", {"runId": run_id, "timeoutMs": 0})
        if _wait_state(payload) != "running":
            return await self._final_event(run_id, key, payload)
        # "Running" is also all a restarted gateway says about a run it has forgotten.
        outcome = await self._history_outcome(run_id, key)
        if outcome is None or (outcome.run_id == run_id and outcome.state == "running"):
            return self.working(run_id, key)
        if outcome.state == "running":
            return await self.now(outcome.run_id, key)
        return self._outcome_event(outcome, key)

    async def follow(
        self, run_id: str, key: str, *, reconcile: bool = False
    ) -> AsyncGenerator[AgentEvent, None]:
        """agent.wait until terminal; every expired wait yields a `working` heartbeat.

        After a reconnect or an UNAVAILABLE answer (a gateway draining for a restart) the
        gateway may have restarted, and then `agent.wait` says "timeout" for our run id
        forever. From then on every round also reads the session's history: it holds the
        reply, or the recovery turn whose new run carries on the work (`reconcile`).
        """
        loop = asyncio.get_running_loop()
        wait_s = self.wait_ms / 1000
        backoff = self.poll_interval
        while True:
            started = loop.time()
            if reconcile:
                outcome = await self._history_outcome(run_id, key)
                if outcome is not None and outcome.state != "running":
                    yield self._outcome_event(outcome, key)
                    return
                if outcome is not None and outcome.run_id != run_id:
                    logger.info(
                        "OpenClaw run %s in %s was resumed as run %s after a gateway restart",
                        run_id,
                        key,
                        outcome.run_id,
                    )
                    run_id, reconcile = outcome.run_id, False
                    yield self.working(run_id, key)
                    continue
            generation = self.client.generation
            try:
                payload = await self.client.call(
                    "agent.wait",
                    {"runId": run_id, "timeoutMs": self.wait_ms},
                    timeout=wait_s + RPC_TIMEOUT,
                    retry_unavailable=False,
                )
            except RpcError as exc:  # UNAVAILABLE: draining for a restart; the run goes on
                logger.info("OpenClaw gateway at %s: %s", self.base, self._redact(exc.message))
                reconcile = True
                yield self.working(run_id, key)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, max(wait_s, self.poll_interval))
                continue
            backoff = self.poll_interval
            reconcile = reconcile or self.client.generation != generation
            if _wait_state(payload) != "running":
                yield await self._final_event(run_id, key, payload)
                return
            yield self.working(run_id, key)
            if loop.time() - started < min(self.poll_interval, wait_s):
                await asyncio.sleep(self.poll_interval)  # e.g. "pending" answers at once

    async def _history_outcome(self, run_id: str, key: str) -> _TurnOutcome | None:
        """What the session's history says of the run; None while it cannot be read."""
        try:
            rows = await self._transcript(run_id, key, retry_unavailable=False)
            outcome = _turn_outcome(rows, run_id)
            if outcome is not None and outcome.state == "completed":
                outcome.text = await self._whole(key, outcome.row, outcome.text)
        except RpcError:
            return None  # still draining; ask again next round
        return outcome

    async def _transcript(
        self, run_id: str, key: str, *, retry_unavailable: bool = True
    ) -> list[Json]:
        """The session's latest rows, oldest first, read back a page at a time until they
        hold the run's own turn (or there is no more)."""
        rows: list[Json] = []
        params: Json = {"sessionKey": key, "limit": _HISTORY_PAGE}
        for _ in range(_HISTORY_PAGES):
            page = await self.client.call(
                "chat.history", params, retry_unavailable=retry_unavailable
            )
            messages = page.get("messages")
            if isinstance(messages, list):
                rows = [m for m in messages if isinstance(m, dict)] + rows
            offset = page.get("nextOffset")
            if _turn_index(rows, run_id) is not None or not page.get("hasMore"):
                break
            if not isinstance(offset, int) or offset <= params.get("offset", 0):
                break
            params = {**params, "offset": offset}
        return rows

    async def _whole(self, key: str, row: Json | None, text: str) -> str:
        """A reply the transcript shortened, read whole with `chat.message.get` when the
        gateway still has it; otherwise what was shown, as it was shown."""
        meta = row.get("__openclaw") if row is not None else None
        message_id = meta.get("id") if isinstance(meta, dict) else None
        if not (_cut_short(text) and isinstance(message_id, str)):
            return text
        try:
            found = await self.client.call(
                "chat.message.get", {"sessionKey": key, "messageId": message_id}
            )
        except RpcError as exc:  # an older gateway without it: the shortened text stands
            logger.info("OpenClaw gateway at %s: %s", self.base, self._redact(exc.message))
            return text
        message = found.get("message")
        whole = _message_text(message) if found.get("ok") and isinstance(message, dict) else ""
        return whole or text

    def _outcome_event(self, outcome: _TurnOutcome, key: str) -> AgentEvent:
        return AgentEvent(
            state="completed" if outcome.state == "completed" else "failed",
            remote_task_id=ws_remote_id(outcome.run_id, key),
            context_id=key,
            text=self._capped(
                self._redact(outcome.text) if outcome.state == "failed" else outcome.text
            ),
        )

    def _capped(self, text: str) -> str:
        """At most max_result_bytes of a result, and a note where it was cut."""
        return render.result_cut(text, self.max_result_bytes)

    def _redact(self, text: str) -> str:
        return redact(text, self.token)

    async def _final_event(self, run_id: str, key: str, payload: Json) -> AgentEvent:
        state = _wait_state(payload)
        remote = ws_remote_id(run_id, key)
        error = self._redact(str(payload.get("error") or ""))
        if state == "ok":
            return AgentEvent(
                state="completed",
                remote_task_id=remote,
                context_id=key,
                text=self._capped(await self._reply(run_id, key, payload)),
            )
        if state == "canceled":
            return AgentEvent(state="canceled", remote_task_id=remote, context_id=key, text=error)
        if state == "superseded":
            text = f"the run was superseded by a newer message in OpenClaw session {key}"
        elif state == "timeout":
            text = error or "the agent's run timed out on the OpenClaw gateway"
        else:
            text = error or "the agent's run failed on the OpenClaw gateway"
        return AgentEvent(state="failed", remote_task_id=remote, context_id=key, text=text)

    async def _reply(self, run_id: str, key: str, payload: Json) -> str:
        """The final assistant text: agent.wait's terminalReply, else chat.history, and the
        whole message where either was cut."""
        reply = payload.get("terminalReply")
        shown = ""
        if isinstance(reply, dict):
            if reply.get("disposition") == "visible" and isinstance(reply.get("text"), str):
                shown = str(reply["text"])
                if len(shown) < _TERMINAL_REPLY_MAX or not shown.endswith("…"):
                    return shown
            elif reply.get("disposition") in ("silent", "empty"):
                return ""
        row = _reply_row(await self._transcript(run_id, key), run_id)
        if row is None:
            return shown
        text = _message_text(row)
        return max(await self._whole(key, row, text), shown, key=len)  # the most of it there is
