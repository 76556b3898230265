"""One gateway WebSocket: the handshake, then requests multiplexed by frame id.

Apart from the calls (`client.py`) because a socket is disposable: after any loss a new
one is opened and the runs carry on. Frames and handshake from openclaw/openclaw
(docs/gateway/protocol.md, docs/gateway/protocol/handshake.md,
docs/gateway/protocol/auth.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
import uuid

import aiohttp

from bot.backends.openclaw.errors import (
    ConnectionLost,
    FrameTooLarge,
    HandshakeClosed,
    Json,
    RpcError,
    WsUnavailable,
    closed_handshake_error,
    connect_error,
    connector_reason,
)
from bot.backends.openclaw.identity import DeviceIdentity, device_auth_payload_v3

logger = logging.getLogger(__name__)

_PROTOCOL_MIN = 3
_PROTOCOL_MAX = 4
"""We speak protocol v4 (current) and accept v3 gateways; the frames we use are the same."""
_CLIENT_ID = "gateway-client"
_CLIENT_MODE = "backend"
"""Client ids are a closed set on the gateway (packages/gateway-protocol/src/client-info.ts)."""
_SCOPES = ("operator.read", "operator.write")
_CLIENT_VERSION = "0.1.0"

_HANDSHAKE_TIMEOUT = 15.0
_CHALLENGE_WAIT = 5.0
RPC_TIMEOUT = 30.0
MIN_FRAME = 32 * 1024 * 1024
"""Frames hold whole transcripts (chat.history), so they may be well over one result;
gateways send at most policy.maxPayload (25 MiB by default)."""
_CLOSING = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)


class Connection:
    """A handshaken gateway socket; requests are multiplexed by frame id.

    The gateway may answer one request twice (`agent` sends "accepted", then the final
    result): only the first answer counts, later ones are dropped.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, max_frame: int) -> None:
        self._ws = ws
        self._max_frame = max_frame
        self._pending: dict[str, asyncio.Future[Json]] = {}
        self.closed = False
        self._reader = asyncio.create_task(self._read(), name="openclaw-ws-reader")

    async def request(self, method: str, params: Json, timeout: float = RPC_TIMEOUT) -> Json:
        if self.closed:
            raise ConnectionLost("the gateway connection is closed")
        frame_id = uuid.uuid4().hex
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._pending[frame_id] = future
        try:
            frame = {"type": "req", "id": frame_id, "method": method, "params": params}
            await self._ws.send_str(json.dumps(frame))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise ConnectionLost(f"no answer to {method} within {timeout:.0f}s") from None
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise ConnectionLost(f"{type(exc).__name__} while sending {method}") from None
        finally:
            self._pending.pop(frame_id, None)

    async def _read(self) -> None:
        reason = "the gateway closed the connection"
        too_large = False
        try:
            async for message in self._ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._dispatch(message.data)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    reason = f"connection error: {type(self._ws.exception()).__name__}"
                    break
            if self._ws.close_code is not None:
                reason = f"the gateway closed the connection ({self._ws.close_code})"
            # aiohttp stops reading a frame over max_msg_size and closes with 1009.
            too_large = self._ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        except Exception as exc:  # the reader must always release waiters
            reason = f"connection error: {type(exc).__name__}"
        finally:
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        FrameTooLarge(f"a message was over the {self._max_frame}-byte limit")
                        if too_large
                        else ConnectionLost(reason)
                    )

    def _dispatch(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            logger.debug("ignoring a non-JSON frame from the gateway")
            return
        if not isinstance(frame, dict) or frame.get("type") != "res":
            return  # events (tick, health, chat, ...) are not needed to follow a run
        future = self._pending.get(str(frame.get("id")))
        if future is None or future.done():
            return
        if frame.get("ok"):
            payload = frame.get("payload")
            future.set_result(payload if isinstance(payload, dict) else {})
        else:
            future.set_exception(RpcError(frame.get("error")))

    async def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


async def open_connection(
    http: aiohttp.ClientSession,
    ws_url: str,
    *,
    base: str,
    token: str,
    identity: DeviceIdentity | None,
    max_frame: int,
) -> Connection:
    """Connect and handshake: connect.challenge -> connect -> hello-ok."""
    try:
        ws = await http.ws_connect(ws_url + "/", max_msg_size=max_frame, autoping=True)
    except aiohttp.WSServerHandshakeError as exc:
        raise WsUnavailable(
            f"the WebSocket upgrade was refused (HTTP {exc.status})", sticky=True
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise WsUnavailable(connector_reason(exc), sticky=False) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise WsUnavailable(f"{type(exc).__name__}", sticky=False) from None
    try:
        async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
            hello = await _handshake(ws, token, identity)
    except TimeoutError:
        await ws.close()
        raise ConnectionLost("the gateway did not complete the handshake") from None
    except HandshakeClosed as exc:
        await ws.close()
        raise closed_handshake_error(exc, base, token) from None
    except RpcError as exc:
        await ws.close()
        raise connect_error(exc, base, token) from None
    except BaseException:
        await ws.close()
        raise
    if "operator.write" not in _granted_scopes(hello):
        await ws.close()
        raise WsUnavailable(
            "the gateway accepted the token but granted no operator.write scope "
            "(a device identity and pairing approval are needed off loopback)",
            sticky=True,
        )
    return Connection(ws, max_frame)


def _granted_scopes(hello: Json) -> list[str]:
    """The scopes hello-ok grants; gateways that do not say grant what we asked for."""
    auth = hello.get("auth")
    scopes = auth.get("scopes") if isinstance(auth, dict) else None
    return [str(s) for s in scopes] if isinstance(scopes, list) else list(_SCOPES)


async def _receive_frame(ws: aiohttp.ClientWebSocketResponse) -> Json | None:
    """The next JSON object frame (None for anything else); raises if the socket closes."""
    message = await ws.receive()
    if message.type in _CLOSING:
        raise HandshakeClosed(ws.close_code, str(message.extra or ""))
    if message.type != aiohttp.WSMsgType.TEXT:
        return None
    try:
        frame = json.loads(message.data)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


async def _handshake(
    ws: aiohttp.ClientWebSocketResponse, token: str, identity: DeviceIdentity | None
) -> Json:
    nonce, challenge_ts = await _await_challenge(ws)
    frame_id = uuid.uuid4().hex
    params = _connect_params(token, identity, nonce, challenge_ts)
    await ws.send_str(
        json.dumps({"type": "req", "id": frame_id, "method": "connect", "params": params})
    )
    while True:
        frame = await _receive_frame(ws)
        if frame is None or frame.get("type") != "res" or frame.get("id") != frame_id:
            continue
        if not frame.get("ok"):
            raise RpcError(frame.get("error"))
        payload = frame.get("payload")
        return payload if isinstance(payload, dict) else {}


async def _await_challenge(ws: aiohttp.ClientWebSocketResponse) -> tuple[str | None, int | None]:
    """The pre-connect nonce; gateways older than connect.challenge never send one."""
    try:
        async with asyncio.timeout(_CHALLENGE_WAIT):
            while True:
                frame = await _receive_frame(ws)
                if frame and frame.get("event") == "connect.challenge":
                    payload = frame.get("payload") or {}
                    nonce = payload.get("nonce")
                    ts = payload.get("ts")
                    return (
                        str(nonce) if nonce else None,
                        int(ts) if isinstance(ts, int | float) else None,
                    )
    except TimeoutError:
        return None, None


def _connect_params(
    token: str, identity: DeviceIdentity | None, nonce: str | None, challenge_ts: int | None
) -> Json:
    client: Json = {
        "id": _CLIENT_ID,
        "displayName": "Dispatch",
        "version": _CLIENT_VERSION,
        "platform": sys.platform,
        "mode": _CLIENT_MODE,
        "instanceId": uuid.uuid4().hex,
    }
    params: Json = {
        "minProtocol": _PROTOCOL_MIN,
        "maxProtocol": _PROTOCOL_MAX,
        "client": client,
        "role": "operator",
        "scopes": list(_SCOPES),
        "caps": [],
        "auth": {"token": token} if token else {},
        "userAgent": f"dispatch/{_CLIENT_VERSION}",
    }
    if identity is not None and nonce:
        signed_at = challenge_ts if challenge_ts is not None else int(time.time() * 1000)
        payload = device_auth_payload_v3(
            device_id=identity.device_id,
            client_id=_CLIENT_ID,
            client_mode=_CLIENT_MODE,
            role="operator",
            scopes=list(_SCOPES),
            signed_at_ms=signed_at,
            token=token,
            nonce=nonce,
            platform=sys.platform,
            device_family="",
        )
        params["device"] = {
            "id": identity.device_id,
            "publicKey": identity.public_key_b64url,
            "signature": identity.sign(payload),
            "signedAt": signed_at,
            "nonce": nonce,
        }
    return params
