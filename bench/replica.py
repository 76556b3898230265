"""One Dispatch replica in a process of its own: `python -m bench.replica SPEC`.

The store sections start one to three of these on one database (a SQLite file for one, a
PostgreSQL database for one or three), so each replica is a separate process with its own
event loop and core share, as in a deployment. Each is the bench's rig (`bench.rig.rig`:
the real dispatcher, default settings, the in-memory adapter) taking requests through
`Dispatcher.receive`, as the throughput section's worker does: the load is spread across
the replicas as a load balancer in front of Slack's HTTP events would spread it.

It prints one JSON line when ready (`{"replica": id, "pid": …}`), then answers one JSON
line per command read from stdin:

- `{"cmd": "step", "start": T, "rate": R, "count": N, "every": K, "phase": P, "agents": […],
  "prefix": S}`: of N requests offered at R per second from `time.monotonic()` T on (one
  task each, for the agents in turn), issue those with index ≡ P (mod K); answer with each
  one's thread and issue time;
- `{"cmd": "request", "text": …, "id": …}`: take in one request; answer with its thread;
- `{"cmd": "posts"}`: every post since the last such command, as (thread, kind, agent, at,
  the agent's end stamp);
- `{"cmd": "quiet", "timeout": s}`: wait until no task is active and no message pending
  (or, after `timeout`, say what is left).

Stdin closed: stop cleanly. Times are `time.monotonic()`, system-wide on Linux, so the
worker compares them across processes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

from adapters.memory import Posted
from bench.rig import Rig, fan_out, fleet_for, rig, until_settled
from bench.sidecar import AgentDef, parse_stamp


class Replica:
    """The rig, and the posts it made since the worker last asked."""

    def __init__(self, r: Rig, agents: dict[str, AgentDef]) -> None:
        self.r = r
        self.agents = agents
        self.posts: list[tuple[str, str, str, float, float | None]] = []
        self.receivers: set[asyncio.Task[Any]] = set()
        r.adapter.listeners.append(self._on_post)

    def _on_post(self, posted: Posted) -> None:
        thread = posted.target.thread if posted.target is not None else None
        if thread is None or posted.message.kind not in ("ack", "result", "closing"):
            return
        text = posted.message.text
        agent, stamp = "", None
        if posted.message.kind == "result":
            agent, stamp = text.split(" ", 1)[0], parse_stamp(text)
        self.posts.append((thread, posted.message.kind, agent, posted.at, stamp and stamp[1]))

    def _receive(self, text: str, *, user: str, channel: str, message_id: str) -> str:
        request = self.r.adapter.message(text, user=user, channel=channel, message_id=message_id)
        task = asyncio.create_task(self.r.dispatcher.receive(request))
        self.receivers.add(task)
        task.add_done_callback(self.receivers.discard)
        return request.thread_key

    async def step(self, cmd: dict[str, Any]) -> dict[str, Any]:
        agents = [self.agents[a] for a in cmd["agents"]]
        issued: dict[str, float] = {}
        rate, start = float(cmd["rate"]), float(cmd["start"])
        for i in range(int(cmd["phase"]), int(cmd["count"]), int(cmd["every"])):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            thread = self._receive(
                fan_out([agents[i % len(agents)]]),
                user=f"U{i % 100}",
                channel=f"C{i % 20}",
                message_id=f"{cmd['prefix']}-{i}",
            )
            issued[thread] = time.monotonic()
        return {"issued": issued}

    async def left(self) -> dict[str, int]:
        """Tasks by state and messages by delivery state, when the system would not go quiet."""
        tasks = await self.r.store.all("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state")
        outbox = await self.r.store.all("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {
            **{f"tasks_{row['state']}": int(row["n"]) for row in tasks},
            **{f"outbox_{row['state']}": int(row["n"]) for row in outbox},
        }

    async def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if cmd["cmd"] == "step":
            return await self.step(cmd)
        if cmd["cmd"] == "request":
            thread = self._receive(cmd["text"], user="U1", channel="C1", message_id=cmd["id"])
            return {"thread": thread, "at": time.monotonic()}
        if cmd["cmd"] == "posts":
            posts, self.posts = self.posts, []
            return {"posts": posts}
        if cmd["cmd"] == "quiet":
            try:
                await until_settled(self.r, timeout=float(cmd["timeout"]), what="not quiet")
            except TimeoutError:
                return {"quiet": False, "left": await self.left()}
            return {"quiet": True}
        raise ValueError(f"unknown command {cmd['cmd']!r}")


async def serve(spec: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    agents = [AgentDef(**a) for a in spec["agents"]]
    catch_all = next(a for a in agents if a.id == spec["catch_all"])
    fleet = fleet_for(agents, spec["urls"], catch_all)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024**2)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with rig(spec["db"], fleet, settings=spec.get("settings")) as r:
        replica = Replica(r, {a.id: a for a in agents})
        _say({"replica": r.store.replica, "pid": os.getpid()})
        while line := await reader.readline():
            cmd = json.loads(line)
            try:
                _say({"ok": True, **await replica.handle(cmd)})
            except Exception as exc:  # the worker reports it; this replica keeps serving
                _say({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        await asyncio.gather(*replica.receivers, return_exceptions=True)


def _say(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    asyncio.run(serve(json.loads(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
