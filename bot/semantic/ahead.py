"""Planning in a process of its own, so that a burst of messages is planned on another core
while this one records and acknowledges them.

Planning by meaning is pure CPU, and one Python process runs one thread of Python at a time:
planned in place, a burst's plans and its records queue behind each other. So intake reads a
message's thread and its author's lessons, the planning process plans it, and the
transaction that records the message reads both again: the plan stands only if they are the
same and the roster has not changed since (otherwise another message in the thread got in
first, and the message is planned again in place). Until the process has loaded its model,
or if it dies, every message is planned in place, as without it.

The process is `python -m bot.semantic.ahead`, spoken to over its stdin and stdout in
length-prefixed pickles (it is ours, started by us: nothing else writes to that pipe). It
takes calls one at a time, in the order they were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from bot.manifest import Fleet
from bot.models import Decision
from bot.planner import Lesson, ThreadContext

if TYPE_CHECKING:
    from bot.semantic.embed import CachedEmbedder
    from bot.semantic.planner import SemanticPlanner

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
WARM_UP = "write a short note"
"""Planned once per roster in the process, so its profiles are embedded before a message."""
STOP_WAIT = 2.0
"""Seconds the process has to end after its input closes, before it is killed."""


@dataclass(frozen=True)
class Ahead:
    """A plan made in the planning process, and what it was made from."""

    roster: int
    context: ThreadContext
    lessons: tuple[Lesson, ...]
    decision: Decision
    latency_ms: float

    def stands(self, roster: int, context: ThreadContext, lessons: Sequence[Lesson]) -> bool:
        return roster == self.roster and context == self.context and tuple(lessons) == self.lessons


class PlanProcess:
    """One planning process, started with the dispatcher, fed the roster as it changes."""

    def __init__(self, embeddings: str, max_tasks: int) -> None:
        self.embeddings, self.max_tasks = embeddings, max_tasks
        self.roster = 0
        """Bumped on every change of who exists or who is answering (`set_roster`)."""
        self._fleet: Fleet | None = None
        self._unavailable: dict[str, str] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._ready = False
        self._failed = False
        self._loading: asyncio.Future[Any] | None = None
        self._last_roster: asyncio.Future[Any] | None = None
        """The model's loading and the last roster sent: what `until_ready` waits for."""

    @property
    def ready(self) -> bool:
        return self._ready and not self._failed

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def until_ready(self) -> bool:
        """Wait for the model and the roster sent last; whether the process is ready."""
        waits = [f for f in (self._loading, self._last_roster) if f is not None]
        await asyncio.gather(*waits, return_exceptions=True)
        return self.ready

    async def start(self) -> None:
        """Start the process; it is ready once its model has loaded (meanwhile, and if it
        cannot start, messages are planned in place)."""
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.semantic.ahead",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError as exc:
            self._fail(exc)
            return
        self._reader = asyncio.create_task(self._read(), name="plan-process")
        loading = self._call("load", self.embeddings, self.max_tasks)
        loading.add_done_callback(self._on_loaded)
        self._loading = loading
        self._send_roster()

    def _on_loaded(self, loading: asyncio.Future[Any]) -> None:
        if loading.cancelled():
            return
        if (exc := loading.exception()) is not None:
            self._fail(exc)
        else:
            self._ready = True

    def _fail(self, exc: BaseException) -> None:
        if not self._failed:
            log.warning("the planning process failed (%s); planning in this process", exc)
        self._failed = True

    def set_roster(self, fleet: Fleet, unavailable: dict[str, str]) -> None:
        self._fleet, self._unavailable = fleet, dict(unavailable)
        self.roster += 1
        self._send_roster()

    def _send_roster(self) -> None:
        """Calls are taken in the order they were sent, so every plan asked for after this
        is made with this roster."""
        if self._fleet is not None and self._proc is not None and not self._failed:
            sending = self._call("roster", self.roster, self._fleet, self._unavailable)
            sending.add_done_callback(self._on_roster)
            self._last_roster = sending

    def _on_roster(self, sending: asyncio.Future[Any]) -> None:
        if not sending.cancelled() and (exc := sending.exception()) is not None:
            self._fail(exc)

    async def plan(
        self, text: str, context: ThreadContext, lessons: Sequence[Lesson]
    ) -> Ahead | None:
        """The plan the process makes, or None (not ready, failed, no roster yet)."""
        if not self.ready:
            return None
        roster = self.roster
        try:
            planned = await self._call("plan", roster, text, context, tuple(lessons))
        except Exception as exc:  # the process died, or could not take the call
            self._fail(exc)
            return None
        if planned is None:  # made with another roster
            return None
        decision, latency_ms = planned
        return Ahead(roster, context, tuple(lessons), decision, latency_ms)

    def _call(self, *call: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            future.set_exception(ConnectionError("the planning process is not running"))
            return future
        call_id = next(self._ids)
        self._calls[call_id] = future
        frame = pickle.dumps((call_id, call), protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.write(_LENGTH.pack(len(frame)) + frame)
        return future

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        try:
            while True:
                (size,) = _LENGTH.unpack(await out.readexactly(_LENGTH.size))
                call_id, ok, value = pickle.loads(await out.readexactly(size))
                future = self._calls.pop(call_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(value))
        except asyncio.IncompleteReadError:
            self._fail(EOFError("it ended"))
        except Exception as exc:
            self._fail(exc)
        finally:
            self._failed = True
            for future in self._calls.values():
                if not future.done():
                    future.set_exception(ConnectionError("the planning process ended"))
            self._calls.clear()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        self._failed = True
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), STOP_WAIT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


# -- in the planning process ---------------------------------------------------------------


class _Worker:
    embedder: CachedEmbedder | None = None
    max_tasks = 12
    roster = -1
    planner: SemanticPlanner | None = None


def _load(embeddings: str, max_tasks: int) -> None:
    from bot.semantic.embed import load_embedder

    _Worker.embedder, _Worker.max_tasks = load_embedder(embeddings), max_tasks


def _roster(roster: int, fleet: Fleet, unavailable: dict[str, str]) -> None:
    """A planner for this roster, its profiles embedded now rather than at the first
    message."""
    from bot.semantic.planner import SemanticPlanner

    assert _Worker.embedder is not None
    planner = SemanticPlanner(
        fleet, unavailable, embedder=_Worker.embedder, max_tasks=_Worker.max_tasks
    )
    planner.plan(WARM_UP)
    _Worker.planner, _Worker.roster = planner, roster


def _plan(
    roster: int, text: str, context: ThreadContext, lessons: tuple[Lesson, ...]
) -> tuple[Decision, float] | None:
    if _Worker.roster != roster or _Worker.planner is None:
        return None
    started = time.perf_counter()
    decision = _Worker.planner.plan(text, context, lessons)
    return decision, (time.perf_counter() - started) * 1000


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """Answer calls until the input ends. A call that raises is answered with its error."""
    verbs: dict[str, Callable[..., Any]] = {"load": _load, "roster": _roster, "plan": _plan}
    while header := source.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)
        call_id, (verb, *args) = pickle.loads(source.read(size))
        try:
            answer = (call_id, True, verbs[verb](*args))
        except Exception as exc:
            answer = (call_id, False, f"{type(exc).__name__}: {exc}")
        frame = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(_LENGTH.pack(len(frame)) + frame)
        sink.flush()


if __name__ == "__main__":
    # Frames go out on a copy of stdout; anything a library prints goes to stderr instead.
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin.buffer, frames)
