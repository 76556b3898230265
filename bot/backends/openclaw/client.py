"""Gateway calls that outlive sockets: one current connection, reconnects and retries.

Apart from the socket (`wire.py`) because a socket is disposable and a call is not: a call
reconnects and retries until its window runs out, and the count of sockets opened tells
whoever follows a run that the gateway may have restarted in between.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

from bot.backends.base import BackendError
from bot.backends.openclaw.errors import (
    ConnectionLost,
    FrameTooLarge,
    Json,
    RpcError,
    WsUnavailable,
    redact,
    rpc_error,
)
from bot.backends.openclaw.wire import RPC_TIMEOUT, Connection

logger = logging.getLogger(__name__)


@dataclass
class GatewayClient:
    """RPCs to one gateway over whichever socket is current; `dial` opens a new one."""

    dial: Callable[[], Awaitable[Connection]]
    _: KW_ONLY
    base: str
    agent: str
    token: str
    reconnect_window: float
    generation: int = field(default=0, init=False)
    """Connections opened so far: a change while following a run means a reconnect."""
    _conn: Connection | None = field(default=None, init=False)
    _conn_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _closed: bool = field(default=False, init=False)

    async def call(
        self,
        method: str,
        params: Json,
        *,
        timeout: float = RPC_TIMEOUT,
        retry_window: float | None = None,
        raise_rpc: bool = False,
        retry_unavailable: bool = True,
    ) -> Json:
        """One RPC; reconnects and retries transient failures for `retry_window` seconds.

        Retrying is safe for everything we call: `agent` carries an idempotency key, the
        rest only read or abort. With retry_unavailable=False an UNAVAILABLE answer is
        raised as `RpcError` at once, for callers that have something better to do.
        """
        window = self.reconnect_window if retry_window is None else retry_window
        deadline = time.monotonic() + window
        delay = 0.25
        while True:
            conn: Connection | None = None
            try:
                conn = await self.connection()
                return await conn.request(method, params, timeout)
            except RpcError as exc:
                if exc.code == "UNAVAILABLE" and not retry_unavailable:
                    raise
                if exc.code != "UNAVAILABLE":
                    if raise_rpc:
                        raise
                    raise self.rpc_error(exc, method) from None
                problem = f"the gateway is busy ({redact(exc.message, self.token)})"
            except ConnectionLost as exc:
                problem = str(exc)
                if conn is not None:
                    await self._discard(conn)
            except WsUnavailable as exc:
                problem = exc.reason
            except FrameTooLarge as exc:
                if conn is not None:
                    await self._discard(conn)
                raise BackendError(
                    f"the OpenClaw gateway at {self.base} sent more than Dispatch reads "
                    f"for {method}: {exc}"
                ) from None
            if time.monotonic() + delay > deadline:
                raise BackendError(
                    f"the OpenClaw gateway at {self.base} is unreachable: {problem}",
                    unreachable=True,
                )
            logger.info("OpenClaw %s at %s: %s; retrying", method, self.base, problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def rpc_error(self, exc: RpcError, method: str) -> BackendError:
        return rpc_error(exc, method, self.agent, self.base, self.token)

    async def connection(self) -> Connection:
        async with self._conn_lock:
            if self._closed:
                raise BackendError(f"the backend for {self.base} is closed")
            if self._conn is not None and not self._conn.closed:
                return self._conn
            if self._conn is not None:
                await self._conn.close()
                self._conn = None
            self._conn = await self.dial()
            self.generation += 1
            return self._conn

    async def _discard(self, conn: Connection) -> None:
        """Forget a connection that failed us (a silent socket is as bad as a closed one)."""
        async with self._conn_lock:
            if self._conn is conn:
                self._conn = None
        await conn.close()

    async def aclose(self) -> None:
        """Close the socket for good. Never aborts a run: runs belong to the gateway."""
        self._closed = True
        async with self._conn_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
