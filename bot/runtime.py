"""Wiring: settings + fleet + adapters → a running dispatcher, and the terminal chat loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import signal
import stat
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from adapters.console import ConsoleAdapter, ConsoleInputError
from bot.backends import BackendContext, backend_for
from bot.callbacks import CallbackServer, load_key
from bot.dispatcher import Dispatcher, runs_dir
from bot.manifest import Fleet
from bot.ports import Adapter, SingleConnection
from bot.settings import Settings, load_soul
from bot.store import Store, store_for
from bot.telemetry import Telemetry

if TYPE_CHECKING:
    from bot.telemetry.server import MetricsServer

if TYPE_CHECKING:  # aiohttp's server: only when the board is asked for
    from bot.web import Metrics, WebBoard

if TYPE_CHECKING:
    from bot.store.postgres import Election

log = logging.getLogger(__name__)

CALLBACK_KINDS = frozenset({"http", "a2a"})
"""Backends that report through the callback endpoint: HTTP agents that answer later, and A2A
agents whose long tasks are followed by push notifications (if their card offers them; cards
are only read once the dispatcher starts, so any A2A agent counts)."""


def backend_context(settings: Settings, fleet: Fleet) -> BackendContext:
    """What the backends need from the service, with a callback endpoint (not started yet)
    when any agent may call back."""
    callbacks: CallbackServer | None = None
    if any(agent.backend.kind in CALLBACK_KINDS for agent in fleet.all_agents):
        key = load_key(settings.beside_db(".callback-key"))
        callbacks = CallbackServer(
            key,
            host=settings.callback_host,
            port=settings.callback_port,
            public_url=settings.callback_url,
            max_result_bytes=settings.max_result_bytes,
            idle_timeout=settings.listener_timeout,
        )
    return BackendContext(
        runs_dir=runs_dir(settings),
        callbacks=callbacks,
        max_result_bytes=settings.max_result_bytes,
    )


@dataclass
class Service:
    """A dispatcher wired to its store, adapters and callback endpoint: what `dispatch serve`
    runs, and what the tests start, crash and restart."""

    store: Store
    dispatcher: Dispatcher
    adapters: list[Adapter]
    callbacks: CallbackServer | None
    metrics: MetricsServer | None = None
    """`/metrics` on a port of its own (`DISPATCH_METRICS_PORT`)."""
    shared_db: str | None = None
    """With replicas (PostgreSQL), the database whose election decides which replica holds
    a single-connection adapter's connection (Discord's gateway)."""
    elections: list[tuple[Election, asyncio.Task[None]]] = field(default_factory=list)

    async def listen(self) -> None:
        """Join the replicas, open the metrics and callback endpoints and start the adapters:
        messages may arrive from here on, and are taken in before the dispatcher starts (their
        work waits for recovery), so this replica is on record and beating first. With
        replicas, an adapter that takes one connection for the whole bot only posts until
        this replica wins its election; a background task campaigns and connects."""
        await self.dispatcher.membership.join()
        if self.metrics is not None:
            await self.metrics.start()
        if self.callbacks is not None:
            self.callbacks.sink = self.dispatcher.agent_event
            if (relay := getattr(self.store, "relay_push", None)) is not None:
                self.callbacks.relay = relay
                self.dispatcher.membership.pushed = self.callbacks.poke
            await self.callbacks.start()
        for adapter in self.adapters:
            if self.shared_db is not None and isinstance(adapter, SingleConnection):
                from bot.store.postgres import Election

                await adapter.open(self.dispatcher)
                election = Election(self.shared_db, every=ELECTION_EVERY)
                campaign = asyncio.create_task(
                    hold_connection(adapter, election), name=f"{adapter.platform}-election"
                )
                self.elections.append((election, campaign))
            else:
                await adapter.start(self.dispatcher)

    async def stop(self) -> None:
        """Stop everything `listen` and `dispatcher.start` began, then close the store."""
        for _, campaign in self.elections:
            campaign.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await campaign
        for adapter in self.adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        for election, _ in self.elections:  # after the gateway closed: then another may win
            await election.release()
        self.elections = []
        if self.callbacks is not None:
            await self.callbacks.stop()
        if self.metrics is not None:
            await self.metrics.stop()
        await self.dispatcher.stop()
        await self.store.close()


ELECTION_EVERY = 0.5
"""Seconds between a waiting replica's tries for the gateway lock, and between the holder's
checks that its lock's connection still answers."""


async def hold_connection(adapter: SingleConnection, election: Election) -> None:
    """Campaign; connect while elected; on losing the lock (its connection broke, so another
    replica may hold it now) disconnect and campaign again. A dead holder's lock goes with its
    connection, so a living replica connects within one try of the server noticing."""
    while True:
        await election.win()
        try:
            await adapter.connect_gateway()
        except Exception:  # a refused token included: another replica may do better
            log.exception("could not open the elected connection; standing aside")
            await election.release()
            await asyncio.sleep(election.every * 4)
            continue
        log.info("this replica holds the elected connection")
        await election.held()
        log.warning("the election's database connection broke: closing the elected connection")
        await adapter.disconnect_gateway()
        await election.release()
        # A replica whose connection broke is the likeliest to be in trouble: the others,
        # trying every `every` seconds, get the first chance.
        await asyncio.sleep(election.every * 2)


async def wire(
    settings: Settings,
    fleet: Fleet,
    adapters: Iterable[Adapter],
    *,
    telemetry: Telemetry | None = None,
) -> Service:
    """Open the store and build the dispatcher over it, the adapters and the backends, with
    the metrics and traces the settings ask for (or `telemetry`, given)."""
    soul = load_soul(settings.soul_path())
    telemetry = telemetry or Telemetry.from_settings(settings)  # before anything needs closing
    store = await store_for(settings.db).open()
    by_platform = {adapter.platform: adapter for adapter in adapters}
    context = backend_context(settings, fleet)
    dispatcher = Dispatcher(
        store,
        fleet,
        by_platform,
        settings=settings,
        soul=soul,
        backend_factory=functools.partial(backend_for, context=context),
        telemetry=telemetry,
    )
    metrics = None
    if settings.metrics_port:
        from bot.telemetry.server import MetricsServer

        metrics = MetricsServer(
            dispatcher,
            settings.metrics_host,
            settings.metrics_port,
            idle_timeout=settings.listener_timeout,
        )
    return Service(
        store,
        dispatcher,
        list(by_platform.values()),
        context.callbacks,
        metrics,
        shared_db=settings.db if settings.shared_db else None,
    )


@contextlib.asynccontextmanager
async def running_dispatcher(
    settings: Settings, fleet: Fleet, adapters: Iterable[Adapter]
) -> AsyncIterator[Dispatcher]:
    service = await wire(settings, fleet, adapters)
    try:
        await service.listen()
        await service.dispatcher.start()
        settle_heap()
        yield service.dispatcher
    finally:
        await service.stop()


@contextlib.asynccontextmanager
async def running_board(
    dispatcher: Dispatcher, settings: Settings, *, metrics: Metrics | None = None
) -> AsyncIterator[WebBoard]:
    """The web board over a running dispatcher, until the block ends (it stops first).
    /metrics is served behind the board's token: the dispatcher's own metrics (`--web`
    counts them), or `metrics`, given."""
    from bot.telemetry.server import exposition
    from bot.web import WebBoard

    if metrics is None and dispatcher.telemetry.metrics is not None:
        metrics = functools.partial(exposition, dispatcher)
    board = WebBoard(dispatcher, settings, metrics=metrics)
    await board.start()
    print(f"dispatch: web board at {board.url}", file=sys.stderr)
    try:
        yield board
    finally:
        await board.stop()


def settle_heap() -> None:
    """Move what start-up allocated (modules, the fleet, clients) out of the collector's way.

    With thousands of tasks in flight, a full garbage collection walks every tracked object;
    the ones start-up made live forever, so freezing them keeps those pauses short. Young
    collections are made rarer too: a burst of requests allocates many short-lived objects."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


async def serve_forever() -> None:
    """Run until SIGINT or SIGTERM; the dispatcher's context then shuts down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def thread_quiet(dispatcher: Dispatcher, platform: str, thread: str) -> None:
    """Wait until nothing in a thread is running or unsent (a scripted reply waits for this)."""
    while True:
        if not await dispatcher.store.thread_busy(platform, thread):
            return
        await asyncio.sleep(0.05)


async def read_lines(stream: TextIO) -> AsyncGenerator[str, None]:
    """Lines as they arrive. A terminal or a pipe is read by the event loop itself: a line
    read in a thread would hold Ctrl-C (and the shutdown) until Enter is pressed. A regular
    file (`< requests.txt`) never blocks for long, so it is read in a thread."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        fd, mode = -1, 0
    pollable = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or (stat.S_ISCHR(mode) and os.isatty(fd))
    if not pollable:  # a file, /dev/null
        while line := await asyncio.to_thread(stream.readline):
            yield line
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    blocking = os.get_blocking(fd)  # the pipe transport makes the descriptor non-blocking
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        while raw := await reader.readline():
            yield raw.decode(stream.encoding or "utf-8", errors="replace")
    finally:
        transport.close()
        os.set_blocking(fd, blocking)  # the shell shares this terminal after we exit


async def chat(
    dispatcher: Dispatcher, console: ConsoleAdapter, stream: TextIO | None = None
) -> None:
    """Interactive on a terminal; otherwise one request per line, then wait for all of it."""
    stream = stream or sys.stdin
    interactive = stream.isatty()
    if interactive:
        console.echo = False  # the terminal has shown the typed line already
        console.out.write(
            "Dispatch is listening. Type a request; reply in a thread with '^ text' or '^N text'."
            " Ctrl-D to quit.\n"
        )
    async with contextlib.aclosing(read_lines(stream)) as lines:
        async for line in lines:
            if not interactive:
                await submit_scripted(dispatcher, console, line)
            elif line.strip():
                await console.submit(line)
    if not interactive:
        await dispatcher.idle()


async def submit_scripted(dispatcher: Dispatcher, console: ConsoleAdapter, line: str) -> None:
    line = line.strip()
    if not line or line.startswith("//"):
        return
    if line.startswith("^"):
        try:
            request = console.parse(line)  # peek at the thread this reply belongs to
        except ConsoleInputError:
            await console.submit(line)  # says why nothing was sent
            return
        await thread_quiet(dispatcher, console.platform, request.thread_key)
        await console.submit_request(request)
    else:
        await console.submit(line)
