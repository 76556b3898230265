"""`/metrics` over HTTP: on a port of its own (`DISPATCH_METRICS_PORT`), or mounted by
another listener (the board, behind its token) through `exposition`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.callbacks import listener
from bot.telemetry.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

__all__ = ["CONTENT_TYPE", "MetricsServer", "exposition"]

log = logging.getLogger(__name__)


SCRAPE_QUIET = 1.0
"""Seconds a scrape may wait for a burst of incoming messages to be acknowledged first
(Prometheus waits 10 s for a scrape by default)."""


async def exposition(dispatcher: Dispatcher) -> bytes | None:
    """The page a scrape gets (its media type is `CONTENT_TYPE`), with the task gauges
    counted afresh from the database; None when metrics are off."""
    metrics = dispatcher.telemetry.metrics
    if metrics is None:
        return None
    await dispatcher.intake.quiet(SCRAPE_QUIET)
    metrics.set_task_counts(await dispatcher.store.active_task_counts())
    return metrics.render()


class MetricsServer:
    """GET /metrics on `host:port` (0: any free port; `port` is the bound one once started)."""

    def __init__(
        self, dispatcher: Dispatcher, host: str, port: int, *, idle_timeout: float = 15.0
    ) -> None:
        self.dispatcher = dispatcher
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; a port that cannot be had is a ValueError naming the setting."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = listener(app, self.idle_timeout, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise ValueError(
                f"DISPATCH_METRICS_PORT: cannot listen on {self.host}:{self.port}"
                f" ({exc.strerror or exc})"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("metrics at http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await exposition(self.dispatcher)
        if body is None:
            raise web.HTTPNotFound(text="metrics are off\n")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
