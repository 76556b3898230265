"""How the gateway says no: the wire's own exceptions, and each refusal as one sentence.

Shared by the WebSocket and the HTTP paths so that a wrong token, an unpaired device or a
forbidden agent reads the same whichever way Dispatch reached the gateway, and so that no
message ever carries the token. Error codes from openclaw/openclaw
(packages/gateway-protocol/src/gateway-error-details.ts, connect-error-details.ts).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.backends.base import BackendError

Json = dict[str, Any]

_TOKEN_CODES = frozenset(
    {
        "AUTH_REQUIRED",
        "AUTH_UNAUTHORIZED",
        "AUTH_TOKEN_MISSING",
        "AUTH_TOKEN_MISMATCH",
        "AUTH_TOKEN_NOT_CONFIGURED",
        "AUTH_PASSWORD_MISSING",
        "AUTH_PASSWORD_MISMATCH",
        "AUTH_DEVICE_TOKEN_MISMATCH",
        "AUTH_RATE_LIMITED",
    }
)
_PAIRING_CODES = frozenset({"PAIRING_REQUIRED", "DEVICE_IDENTITY_REQUIRED", "NOT_PAIRED"})


class RpcError(Exception):
    """A `res` frame with ok:false."""

    def __init__(self, error: Any) -> None:
        error = error if isinstance(error, dict) else {}
        self.code = str(error.get("code") or "")
        self.message = str(error.get("message") or "request failed")
        details = error.get("details")
        self.details: Json = details if isinstance(details, dict) else {}
        self.detail_code = str(self.details.get("code") or "")
        super().__init__(f"{self.code}: {self.message}")


class ConnectionLost(Exception):
    """The socket went away or an answer never came; the run itself is unaffected."""


class FrameTooLarge(Exception):
    """The gateway sent a frame over our limit; aiohttp stopped reading it part way."""


class WsUnavailable(Exception):
    """The gateway does not offer a usable WebSocket; `sticky` means don't try again."""

    def __init__(self, reason: str, *, sticky: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sticky = sticky


class HandshakeClosed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def connector_reason(exc: aiohttp.ClientConnectorError) -> str:
    """Why a connection could not be made, the same words for the socket and for HTTP."""
    refused = isinstance(exc.os_error, ConnectionRefusedError)
    return "connection refused" if refused else type(exc.os_error).__name__


def redact(text: str, token: str) -> str:
    if token and len(token) >= 4:
        text = text.replace(token, "***")
    return text


def mentions_agent(message: str) -> bool:
    lowered = message.lower()
    return "agent" in lowered and any(
        word in lowered for word in ("unknown", "not allowed", "forbidden", "not found", "invalid")
    )


def agent_error(agent: str, base: str, message: str) -> BackendError:
    return BackendError(f"agent '{agent}' is not allowed on the gateway at {base}: {message}")


def connect_error(exc: RpcError, base: str, token: str) -> Exception:
    message = redact(exc.message, token)
    if exc.detail_code in _TOKEN_CODES or message.lower().startswith("unauthorized"):
        why = {
            "AUTH_TOKEN_MISSING": "no token was sent",
            "AUTH_TOKEN_MISMATCH": "token mismatch",
            "AUTH_RATE_LIMITED": "too many failed attempts; wait and retry",
        }.get(exc.detail_code, message)
        return BackendError(f"the OpenClaw gateway at {base} refused the token ({why})")
    if exc.detail_code in _PAIRING_CODES or exc.code == "NOT_PAIRED":
        request_id = exc.details.get("requestId")
        hint = (
            f"approve it with `openclaw devices approve {request_id}`"
            if request_id
            else "approve the pending device with `openclaw devices list`/`approve`"
        )
        return BackendError(
            f"the OpenClaw gateway at {base} requires this client to be paired: {hint}"
        )
    if exc.detail_code == "PROTOCOL_MISMATCH" or "protocol mismatch" in message:
        return BackendError(
            f"the OpenClaw gateway at {base} speaks an unsupported protocol version"
        )
    if exc.code == "UNAVAILABLE":
        return ConnectionLost(f"the gateway is not ready ({message})")
    return BackendError(f"the OpenClaw gateway at {base} refused the connection: {message}")


def closed_handshake_error(exc: HandshakeClosed, base: str, token: str) -> Exception:
    reason = redact(exc.reason, token)
    lowered = reason.lower()
    if "unauthorized" in lowered or "token" in lowered:
        return BackendError(f"the OpenClaw gateway at {base} refused the token ({reason})")
    if "pairing" in lowered or "device identity" in lowered:
        return BackendError(
            f"the OpenClaw gateway at {base} requires this client to be paired ({reason})"
        )
    return ConnectionLost(
        f"the gateway closed the connection during the handshake ({exc.code}: {reason})"
    )


def rpc_error(exc: RpcError, method: str, agent: str, base: str, token: str) -> BackendError:
    message = redact(exc.message, token)
    if exc.detail_code == "MISSING_SCOPE" or "missing scope" in message.lower():
        return BackendError(
            f"the OpenClaw gateway at {base} did not grant the scope {method} needs "
            f"({message}); give Dispatch a paired device identity or use the HTTP API"
        )
    if method in ("agent", "chat.history", "chat.abort") and (
        exc.code == "FORBIDDEN" or mentions_agent(message)
    ):
        return agent_error(agent, base, message)
    return BackendError(
        f"the OpenClaw gateway at {base} rejected {method}: {exc.code or 'error'}: {message}"
    )
