"""The board's live feed: one reader for every browser watching.

The dispatcher announces every change (`Dispatcher.notify`, and agents' availability) to its
`watchers`; the feed's watcher only sets an event. While at least one browser is connected,
the feed's loop wakes on that event, reads what changed in one hop to the database (which
requests in flight moved, by their state and board version; the agents' lanes in a hop of
their own, at most once a second), and hands the same encoded delta to every client; then
it sleeps `interval` seconds, so a burst of changes costs one read and reaches each browser
as one message (at most 1/interval a second). With nobody watching it reads nothing.

A browser that joins gets the whole board first (its newest requests, then the rest), read
under the same lock as the deltas, so every delta it receives after is newer than what it
was given. A client that falls
behind (`MAX_BACKLOG` undelivered messages) is closed: its EventSource reconnects and starts
again from a whole board."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from bot.store import Tx
from bot.web import views

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

PUSH_INTERVAL = 0.25
"""Seconds between two reads of the feed (and so between two messages to a browser)."""
LINGER = 10.0
"""Seconds a finished request stays among those in flight, drawn as finished."""
MAX_BACKLOG = 64
FIRST = 60
"""Requests (the newest) in the first message a browser gets: more than any screen shows.
The rest follow in a second message, so a thousand requests in flight do not hold up the
first paint."""
MORE_CHUNK = 200
"""Requests per read (and message) of the rest: each read is a hop of its own, so a commit
(an acknowledgement) waiting for the database waits for one chunk, not for a thousand."""
LANES_INTERVAL = 1.0
"""Seconds between two reads of the agents' lanes (busy, queued, today's counts)."""
RECENT_OVERLAP = 2.0
"""Seconds each read looks back for finished requests beyond the previous read: a request
finished just before a read may commit just after it."""

Seen = dict[str, tuple[str, int | None]]
"""Request in flight → (its state, its board version) as last sent."""


def encode(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event. JSON escapes newlines, so the data is one line."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n".encode()


class Client:
    """One connected browser: the messages not yet written to it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_BACKLOG)
        self.gone = False

    def send(self, message: bytes | None) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # behind: end the stream, the browser starts over
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


def whole_board(
    tx: Tx, core: Dispatcher, unavailable: dict[str, str], now: float, first: int | None = None
) -> tuple[dict[str, Any], Seen, list[str]]:
    """Everything the board shows at first paint, what was seen of each request, and the
    requests (oldest) beyond the `first` newest, when only those were read."""
    rows = tx.open_request_versions()
    seen: Seen = {row["id"]: (row["state"], row["version"]) for row in rows}
    newest = sorted(
        [*rows, *tx.finished_requests_since(now - LINGER)],
        key=lambda row: row["created_at"],
        reverse=True,
    )
    order = [row["id"] for row in newest]
    cut = len(order) if first is None else first
    board = {
        "now": now,
        "linger": LINGER,
        "requests": views.graphs(tx, order[:cut]),
        "more": len(order) > cut,
        "lanes": views.lanes(tx, core.fleet, unavailable, now),
        "recent": views.recent(tx, views.Filters()),
    }
    return board, seen, order[cut:]


class Feed:
    def __init__(self, core: Dispatcher, *, interval: float = PUSH_INTERVAL) -> None:
        self.core = core
        self.interval = interval
        self.clients: set[Client] = set()
        self.reads = 0
        """Deltas read so far (tests look at it: no client, no reads)."""
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._seen: Seen = {}
        self._lanes = ""
        self._lanes_read = 0.0
        self._lanes_later: asyncio.TimerHandle | None = None
        self._last_read = time.time()
        self._recent_sent: dict[str, float] = {}
        self._loop: asyncio.Task[None] | None = None
        self._joining: set[asyncio.Task[None]] = set()
        self._session: dict[str, Any] = {}

    def start(self, session: dict[str, Any]) -> None:
        """`session`: what every browser is told about itself (the CSRF value, who the
        board acts as)."""
        self._session = session
        self.core.watchers.append(self.poke)
        self._loop = asyncio.create_task(self._run(), name="web-board-feed")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.core.watchers.remove(self.poke)
        if self._lanes_later is not None:
            self._lanes_later.cancel()
        tasks = [*self._joining, *([self._loop] if self._loop is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in list(self.clients):
            client.send(None)

    def poke(self) -> None:
        self._wake.set()

    async def board(self) -> dict[str, Any]:
        """The whole board now (GET /api/board)."""
        board, _, _ = await self._read_whole(None)
        return board

    async def join(self) -> Client:
        """A new browser: the board first (the newest requests, enough for any screen, then
        the rest in a second message), then every delta after it. Returns once the first
        message is ready, so the browser can draw it while the rest is read; deltas wait
        until the rest has gone too."""
        client = Client()
        await self._lock.acquire()
        try:
            board, seen, rest = await self._read_whole(FIRST)
        except BaseException:
            self._lock.release()
            raise
        client.send(encode("board", board))
        joining = asyncio.create_task(self._finish_join(client, board, seen, rest))
        self._joining.add(joining)
        joining.add_done_callback(self._joining.discard)
        return client

    async def _finish_join(
        self, client: Client, board: dict[str, Any], seen: Seen, rest: list[str]
    ) -> None:
        try:
            for start in range(0, len(rest), MORE_CHUNK):
                part = rest[start : start + MORE_CHUNK]
                more = await self.core.store.read(functools.partial(_graphs_of, part))
                client.send(encode("more", {"requests": more}))
            if client.gone:
                return
            if not self.clients:  # nobody was following: this read is the new baseline
                self._seen, self._lanes = seen, _lanes_key(board["lanes"])
                self._lanes_read = time.monotonic()
                self._last_read = board["now"]
                self._recent_sent = {r["id"]: r["finished_at"] for r in board["recent"]}
            self.clients.add(client)
        finally:
            self._lock.release()

    def leave(self, client: Client) -> None:
        client.gone = True
        self.clients.discard(client)

    async def _read_whole(self, first: int | None) -> tuple[dict[str, Any], Seen, list[str]]:
        unavailable, now = dict(self.core.unavailable), time.time()
        board, seen, rest = await self.core.store.read(
            lambda tx: whole_board(tx, self.core, unavailable, now, first)
        )
        board["session"] = self._session
        return board, seen, rest

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self.clients:
                continue
            try:
                async with self._lock:
                    message = await self._read_delta()
            except Exception:  # one failed read must not stop the board for good
                log.exception("the web board's feed could not read the changes")
                message = None
                await asyncio.sleep(1.0)
                self.poke()  # and try again
            if message is not None:
                for client in list(self.clients):
                    client.send(message)
            await asyncio.sleep(self.interval)

    async def _read_delta(self) -> bytes | None:
        """What moved since the last read, in one hop; the lanes (which cost more to read
        than the rest together, with a thousand tasks running) in a second hop, at most
        every LANES_INTERVAL, so a commit waiting for the database waits for neither long."""
        now = time.time()
        seen, since = self._seen, self._last_read - RECENT_OVERLAP
        sent = set(self._recent_sent)

        def read(tx: Tx) -> tuple[Seen, list[Any], list[Any]]:
            current: Seen = {
                row["id"]: (row["state"], row["version"]) for row in tx.open_request_versions()
            }
            moved = [rid for rid, mark in current.items() if seen.get(rid) != mark]
            moved += [rid for rid in seen if rid not in current]  # finished (or purged)
            finished = [
                views.request_head(row)
                for row in tx.finished_requests_since(since)
                if row["id"] not in sent
            ]
            return current, views.graphs(tx, moved), views.outcomes(tx, finished)

        current, graphs, recent = await self.core.store.read(read)
        self.reads += 1
        gone = [rid for rid in seen if rid not in current and rid not in {g["id"] for g in graphs}]
        self._seen, self._last_read = current, now
        for head in recent:
            self._recent_sent[head["id"]] = head["finished_at"]
        # The next read looks back to now - RECENT_OVERLAP: what finished before is not seen.
        self._recent_sent = {
            rid: at for rid, at in self._recent_sent.items() if at >= now - RECENT_OVERLAP
        }
        delta: dict[str, Any] = {"now": now}
        if graphs:
            delta["requests"] = graphs
        if gone:
            delta["gone"] = gone
        if recent:
            delta["recent"] = recent
        lanes = await self._read_lanes()
        if lanes is not None:
            delta["lanes"] = lanes
        return encode("delta", delta) if len(delta) > 1 else None

    async def _read_lanes(self) -> list[dict[str, Any]] | None:
        """The lanes, if due and changed. Not due yet: the feed is woken when they are, so
        the last change is always drawn."""
        wait = self._lanes_read + LANES_INTERVAL - time.monotonic()
        if wait > 0:
            if self._lanes_later is None:
                self._lanes_later = asyncio.get_running_loop().call_later(wait, self._lanes_due)
            return None
        self._lanes_read = time.monotonic()
        unavailable, now, fleet = dict(self.core.unavailable), time.time(), self.core.fleet
        lanes = await self.core.store.read(lambda tx: views.lanes(tx, fleet, unavailable, now))
        key = _lanes_key(lanes)
        if key == self._lanes:
            return None
        self._lanes = key
        return lanes

    def _lanes_due(self) -> None:
        self._lanes_later = None
        self.poke()


def _graphs_of(request_ids: list[str], tx: Tx) -> list[dict[str, Any]]:
    return views.graphs(tx, request_ids)


def _lanes_key(lanes: list[dict[str, Any]]) -> str:
    return json.dumps(lanes, sort_keys=True)
