"""Names Dispatch gives things on the gateway: session keys, idempotency keys, remote ids.

Kept in one place because they must stay stable across resends and restarts: a resend
of the same message has to land on the same run, and a remote task id written before a
restart has to parse after it. Key shapes from openclaw/openclaw (src/gateway/http-utils.ts
`resolveSessionKey`, src/gateway/agent-turn/agent-request-preflight.ts).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from bot.backends.base import BackendError


def agent_id(agent: str) -> str:
    """Gateways canonicalize agent ids and session keys to lower case; so do we."""
    return agent.strip().lower()


def _main_session_key(agent: str) -> str:
    """The agent's persistent main session: what `sessions_send` to the agent targets."""
    return f"agent:{agent_id(agent)}:main"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _disposable_session_key(agent: str, message_id: str) -> str:
    """A fresh session per task (never reused), stable across resends of the same message.

    Not under `subagent:`/`cron:`/`acp:`: those namespaces carry gateway semantics (spawn
    depth, collectors) and the HTTP API rejects them as explicit session keys.
    """
    return f"agent:{agent_id(agent)}:dispatch:{_digest(agent_id(agent), message_id)[:24]}"


def session_key(
    agent: str, persistent: bool, message_id: str, context_id: str | None, scope: str | None
) -> str:
    """`scope`: Dispatch's session key for a channel's or a user's own persistent
    session (the manifest's `session_scope`); without it, the agent's main session."""
    if persistent:
        if scope:
            digest = _digest("scope", agent_id(agent), scope)[:24]
            return f"agent:{agent_id(agent)}:dispatch:{digest}"
        return _main_session_key(agent)
    if context_id:
        return context_id  # continuing the same disposable conversation
    return _disposable_session_key(agent, message_id)


def idempotency_key(agent: str, message_id: str) -> str:
    """Derived from our message id, so a resend after a crash is deduped by the gateway."""
    return f"dispatch-{_digest('agent', agent_id(agent), message_id)[:40]}"


def ws_remote_id(run_id: str, session_key: str) -> str:
    return f"{run_id}|{session_key}"


def http_remote_id(session_key: str) -> str:
    return f"http|{session_key}"


def parse_remote_id(remote_task_id: str) -> tuple[Literal["ws", "http"], str, str]:
    """(kind, run id, session key) from what `send` reported as the remote task id."""
    head, sep, tail = remote_task_id.partition("|")
    if not sep or not head or not tail:
        raise BackendError(f"not an OpenClaw remote task id: {remote_task_id!r}")
    if head == "http":
        return "http", "", tail
    return "ws", head, tail
