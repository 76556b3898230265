"""The one local-server base the fakes share: an aiohttp app on 127.0.0.1, port 0.

A fake says what it serves (`routes`) and what to close before it stops (`closing`, e.g.
its open websockets); starting, binding, the port and stopping are written once here, as
httpx's `MockTransport` and opsdroid's shared mock API server do for their fakes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from aiohttp import web


class LocalServer:
    """Serves `routes()` on 127.0.0.1 at a free port from `start` (or `async with`) to `stop`."""

    port: int = 0
    """The bound TCP port (0 until started)."""
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's routes to `app`."""
        raise NotImplementedError

    def application(self) -> web.Application:
        """The app to serve: a new one holding `routes`."""
        app = web.Application()
        self.routes(app)
        return app

    async def closing(self) -> None:
        """Close what would keep the server from stopping at once (websockets, handlers)."""

    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:PORT"."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Bind 127.0.0.1:0 and start serving."""
        runner = web.AppRunner(self.application(), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Run `closing`, then stop serving; a second call does nothing."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await self.closing()
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class _AppServer(LocalServer):
    def __init__(self, app: web.Application) -> None:
        self._app = app

    def application(self) -> web.Application:
        return self._app


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app (e.g. bolt's `app.web_app()`) on 127.0.0.1:0; yields its base URL."""
    async with _AppServer(app) as server:
        yield server.base_url
