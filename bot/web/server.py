"""The web board's HTTP server (aiohttp): the page, its data, its live feed, two actions.

Routes, and who may use them:

    GET  /                      the board to a token holder, else the login form (no data)
    POST /login, /logout        set or clear the board's cookie
    GET  /static/…              the page's own script, style and icon (they hold no data)
    GET  /api/board             the whole board as JSON              ┐
    GET  /api/events            the live feed (server-sent events)   │ token holders only:
    GET  /api/requests          recent requests, filtered            │ bearer header or the
    GET  /api/requests/{id}     one request's graph and transcript   │ cookie; 401 otherwise
    POST /api/tasks/{id}/cancel, /api/tasks/{id}/retry,              │
         /api/requests/{id}/cancel   as the configured admin         │ (+ CSRF for cookies)
    GET  /metrics               `metrics()`'s exposition text, when one is mounted ┘

The board only reads, except Cancel and Retry, which go through the chat buttons' own path
(`Dispatcher.act`) as the admin named by DISPATCH_WEB_ADMIN: the same permission check, the
same notice in the thread. Without that setting the board is read-only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.ports import Action, ActionKind
from bot.settings import Settings
from bot.web import views
from bot.web.auth import Auth, Credential, check_settings, same_origin
from bot.web.live import Feed

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

STATIC = Path(str(files("bot.web").joinpath("static")))
KEEPALIVE = 15.0
"""Seconds between comments on an idle event stream, so proxies keep it open."""
LOOK_GONE = 1.0
"""Seconds between looks at whether an idle stream's browser has gone (it then stops
costing the feed anything)."""
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

Metrics = Callable[[], Awaitable[bytes | None]]
"""Returns the Prometheus exposition (None: metrics are off), served at /metrics behind the
board's token."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


class WebBoard:
    """`start()` binds and serves; `stop()` closes the live streams and the listener."""

    def __init__(
        self,
        core: Dispatcher,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        metrics: Metrics | None = None,
        interval: float | None = None,
    ) -> None:
        check_settings(settings)
        assert settings.web_token is not None
        self.core = core
        self.host = host if host is not None else settings.web_host
        self.port = port if port is not None else settings.web_port
        self.auth = Auth(settings.web_token)
        self.admin = settings.web_admin.strip()
        self.metrics = metrics
        self.feed = Feed(core) if interval is None else Feed(core, interval=interval)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._headers, self._guard])
        app.router.add_get("/", self.index)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
        app.router.add_get("/api/board", self.board)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/api/requests", self.requests)
        app.router.add_get("/api/requests/{id:[^/]+}", self.request_detail)
        app.router.add_post("/api/tasks/{id:.+}/cancel", self.cancel_task)
        app.router.add_post("/api/tasks/{id:.+}/retry", self.retry_task)
        app.router.add_post("/api/requests/{id:[^/]+}/cancel", self.cancel_request)
        app.router.add_get("/metrics", self.metrics_text)
        return app

    async def start(self) -> None:
        """Bind and serve; an address that cannot be used is a ValueError with one line."""
        runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ValueError(
                f"--web: cannot listen on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.feed.start({"csrf": self.auth.csrf_value, "admin": self.admin or None})

    async def stop(self) -> None:
        await self.feed.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- middleware -----------------------------------------------------------------------

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        for name, value in (
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
        ):
            if not response.prepared:
                response.headers.setdefault(name, value)
        if not response.prepared and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if isinstance(response, web.HTTPException):
            raise response
        return response

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Nothing under /api/ or at /metrics for anyone without the token; no change
        without the CSRF check."""
        if request.path.startswith("/api/") or request.path == "/metrics":
            credential = self.auth.credential(request)
            if credential is Credential.NONE:
                return web.json_response(
                    {"error": "unauthorized"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="dispatch"'},
                )
            if request.method == "POST" and not self.auth.may_change(request, credential):
                return web.json_response({"error": "missing or wrong CSRF value"}, status=403)
        return await handler(request)

    # -- pages ------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        if self.auth.credential(request) is Credential.NONE:
            return self._login_page(request.query.get("wrong") == "1")
        return web.Response(text=_page("index.html"), content_type="text/html")

    def _login_page(self, wrong: bool, status: int = 200) -> web.Response:
        note = '<p class="wrong" role="alert">That token is not right.</p>' if wrong else ""
        text = _page("login.html").replace("<!--note-->", note)
        return web.Response(text=text, content_type="text/html", status=status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            return web.Response(text="cross-site login refused", status=403)
        form = await request.post()
        offered = form.get("token")
        if not isinstance(offered, str) or not self.auth.token_matches(offered.strip()):
            return self._login_page(True, status=401)
        response = web.Response(status=303, headers={"Location": "/"})
        self.auth.sign_in(response, request)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            return web.Response(text="cross-site logout refused", status=403)
        response = web.Response(status=303, headers={"Location": "/"})
        self.auth.sign_out(response)
        return response

    # -- data -------------------------------------------------------------------------------

    async def board(self, request: web.Request) -> web.Response:
        return web.json_response(await self.feed.board())

    async def requests(self, request: web.Request) -> web.Response:
        filters = views.Filters.of(request.query)
        before = _number(request.query.get("before"))
        rows = await self.core.store.read(lambda tx: views.recent(tx, filters, before))
        return web.json_response({"recent": rows})

    async def request_detail(self, request: web.Request) -> web.Response:
        request_id = request.match_info["id"]
        detail = await self.core.store.read(lambda tx: views.transcript(tx, request_id))
        if detail is None:
            return web.json_response({"error": "no such request"}, status=404)
        return web.json_response(detail)

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
            }
        )
        await response.prepare(request)
        client = await self.feed.join()
        try:
            await response.write(b"retry: 1000\n\n")
            quiet = 0.0
            while not _gone(request):
                try:
                    message = await asyncio.wait_for(client.queue.get(), LOOK_GONE)
                except TimeoutError:
                    quiet += LOOK_GONE
                    if quiet < KEEPALIVE:
                        continue
                    message = b": keepalive\n\n"
                if message is None:
                    break
                quiet = 0.0
                await response.write(message)
        except ConnectionResetError:
            return response
        finally:
            self.feed.leave(client)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def metrics_text(self, request: web.Request) -> web.Response:
        page = None if self.metrics is None else await self.metrics()
        if page is None:
            raise web.HTTPNotFound(text="no metrics are mounted")
        return web.Response(
            body=page, content_type="text/plain", charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    # -- actions ----------------------------------------------------------------------------

    async def cancel_task(self, request: web.Request) -> web.Response:
        return await self._act("cancel_task", request.match_info["id"])

    async def retry_task(self, request: web.Request) -> web.Response:
        return await self._act("retry_task", request.match_info["id"])

    async def cancel_request(self, request: web.Request) -> web.Response:
        return await self._act("cancel_request", request.match_info["id"])

    async def _act(self, kind: ActionKind, target: str) -> web.Response:
        """A chat button press, made by the configured admin: `Control.act` checks who may
        and tells the thread, exactly as for a press in Slack or Discord."""
        if not self.admin:
            return web.json_response(
                {"error": "the board is read-only: set DISPATCH_WEB_ADMIN to one of"
                 " DISPATCH_ADMINS to cancel and retry from it"},
                status=403,
            )  # fmt: skip
        store = self.core.store
        if kind == "cancel_request":
            owner = await store.request(target)
        else:
            task = await store.task(target)
            owner = None if task is None else await store.request(task["request_id"])
        if owner is None:
            return web.json_response({"error": "no such task or request"}, status=404)
        action = Action(
            platform=owner["platform"], workspace=owner["workspace"], user=self.admin,
            kind=kind, target=target,
        )  # fmt: skip
        text = await self.core.act(action)
        log.info("web board: %s %s as %s", kind, target, self.admin)
        return web.json_response({"text": text})


def _gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
