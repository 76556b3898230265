"""The outside world, in its own process: real A2A agents and a fake Slack Web API.

Run by a bench worker as `python -m bench.sidecar SPEC_JSON`. It starts one
`bot.demo.agent_server.AgentServer` per agent on 127.0.0.1 (each with a fixed delay), and
optionally a minimal fake Slack Web API with two bench-only control routes. It prints one JSON
line with every URL, then serves until its standard input closes (the worker exits).

Keeping agents and Slack out of the worker process means the product's event loop only runs
the product, and the two processes use the machine's two cores. For the telemetry section
(`ack_telemetry`) it also plays the monitoring side: an OTLP/HTTP receiver for the worker's
spans, and a scraper of the worker's `/metrics`.

Agents stamp their replies with `time.monotonic()` at handler start and end; on Linux that
clock is system-wide, so the worker can compare it with its own post times. With a
`sent_log` path in the spec, the sidecar also writes `END SENT` lines there: when a reply
stamped `end=END` first left its agent's server (written to the connection). Between the
two is the agents' own lag (their server's work, and waiting for this process's CPU).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

from bot.demo.agent_server import AgentCall, AgentServer, Handler, Outcome, Reply, brief_task_line

HOLD_FOREVER = 10**6
"""Delay of agents that hold their task for the whole run."""

_STAMP = re.compile(r"\[bench start=(?P<start>[0-9.]+) end=(?P<end>[0-9.]+)\]")


@dataclass(frozen=True)
class AgentDef:
    """One bench agent: its id, fixed delay (seconds) and session kind in the manifest."""

    id: str
    delay: float
    session: str = "persistent"

    @property
    def skill(self) -> str:
        """A word only this agent claims, so the planner routes `"<skill> task"` to it."""
        return f"q{self.id}"


def parse_stamp(text: str) -> tuple[float, float] | None:
    """(start, end) monotonic times stamped into an agent's reply, if present."""
    match = _STAMP.search(text)
    if match is None:
        return None
    return float(match.group("start")), float(match.group("end"))


def stamped_handler(agent_id: str, delay: float) -> Handler:
    """Work for `delay` seconds, then reply with the start and end times."""

    async def handle(call: AgentCall) -> Outcome:
        start = time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        end = time.monotonic()
        return Reply(
            f"{agent_id} did: {brief_task_line(call.text)} [bench start={start:.6f} end={end:.6f}]"
        )

    return handle


# -- a minimal fake Slack Web API --------------------------------------------------------------


class FakeSlack:
    """Just enough Slack for `adapters.slack.SlackAdapter`; records each post's arrival time."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._session: ClientSession | None = None
        self._first_post: dict[str, float] = {}
        self._changed = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024**2)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/_bench/fire", self._fire)
        app.router.add_get("/_bench/posts", self._posts)
        return app

    async def _api(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            body.update(
                url="https://bench.slack.test/", team="Bench", team_id="T1", user="dispatch",
                user_id="UBOT", bot_id="BBOT",
            )  # fmt: skip
        elif method == "users.info":
            user = str(params.get("user", ""))
            body["user"] = {
                "id": user, "name": user, "real_name": user, "profile": {"display_name": user},
            }  # fmt: skip
        elif method == "chat.postMessage":
            ts = f"{1_800_000_000 + next(self._ts)}.000100"
            self.posts.append(
                {
                    "at": at,
                    "channel": params.get("channel"),
                    "thread_ts": params.get("thread_ts"),
                    "ts": ts,
                    "text": str(params.get("text") or "")[:300],
                }
            )
            thread = str(params.get("thread_ts") or "")
            if thread and thread not in self._first_post:
                self._first_post[thread] = at
            self._changed.set()
            body.update(channel=params.get("channel"), ts=ts)
        elif method == "conversations.open":
            body["channel"] = {"id": f"D{params.get('users', '')}"}
        elif method == "chat.getPermalink":
            body["permalink"] = "https://bench.slack.test/archives/C/p1"
        return web.json_response(body)

    async def _fire(self, request: web.Request) -> web.Response:
        """Send signed Events API requests at once; answer when each was sent and when the
        first chat.postMessage in its thread (the acknowledgement) arrived."""
        spec = await request.json()
        if self._session is None:
            self._session = ClientSession(
                connector=TCPConnector(limit=0), timeout=ClientTimeout(total=120)
            )
        session = self._session

        async def one(item: dict[str, Any]) -> dict[str, Any]:
            sent = time.monotonic()
            async with session.post(
                spec["url"], data=item["body"].encode(), headers=item["headers"]
            ) as response:
                await response.read()
                return {"sent": sent, "status": response.status, "answered": time.monotonic()}

        results = await asyncio.gather(*(one(item) for item in spec["requests"]))
        deadline = time.monotonic() + float(spec.get("timeout", 60))
        threads = [item["thread"] for item in spec["requests"]]
        while True:
            for result, thread in zip(results, threads, strict=True):
                if "acked" not in result and thread in self._first_post:
                    result["acked"] = self._first_post[thread]
            if all("acked" in r for r in results) or time.monotonic() > deadline:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)
        return web.json_response({"results": results})

    async def _posts(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"posts": self.posts[since:], "next": len(self.posts)})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class Monitoring:
    """What a monitoring stack does to Dispatch: receive its spans over OTLP/HTTP (decoded,
    counted, dropped) and scrape its `/metrics` every `interval` seconds."""

    def __init__(self, scrape_url: str | None, interval: float) -> None:
        self.scrape_url = scrape_url
        self.interval = interval
        self.exports = 0
        self.spans = 0
        self.scrapes = 0
        self.scrape_failures = 0
        self.page_bytes = 0
        self._task: asyncio.Task[None] | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_get("/_bench/monitoring", self._figures)
        return app

    def start(self) -> None:
        if self.scrape_url:
            self._task = asyncio.create_task(self._scrape())

    async def _traces(self, request: web.Request) -> web.Response:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        self.exports += 1
        self.spans += sum(
            len(scope.spans) for resource in export.resource_spans for scope in resource.scope_spans
        )
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def _scrape(self) -> None:
        assert self.scrape_url is not None
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                await asyncio.sleep(self.interval)
                try:
                    async with session.get(self.scrape_url) as response:
                        body = await response.read()
                    if response.status == 200:
                        self.scrapes += 1
                        self.page_bytes = len(body)
                    else:
                        self.scrape_failures += 1
                except (OSError, TimeoutError, ClientError):
                    self.scrape_failures += 1  # the worker is not listening yet (or any more)

    async def _figures(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "otlp_exports": self.exports,
                "spans": self.spans,
                "scrapes": self.scrapes,
                "scrape_failures": self.scrape_failures,
                "page_bytes": self.page_bytes,
            }
        )


async def serve(spec: dict[str, Any]) -> None:
    """Start what `spec` asks for, print the URLs, and serve until stdin closes."""
    servers: list[AgentServer] = []  # kept referenced while serving
    urls: dict[str, str] = {}
    on_sent = _sent_logger(spec["sent_log"]) if spec.get("sent_log") else None
    for raw in spec.get("agents", []):
        agent = AgentDef(**raw)
        server = AgentServer(agent.id, stamped_handler(agent.id, agent.delay))
        server.on_sent = on_sent
        await server.start()
        servers.append(server)
        urls[agent.id] = server.url
    slack_url = None
    fake: FakeSlack | None = None
    runner: web.AppRunner | None = None
    if spec.get("slack"):
        fake = FakeSlack()
        runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        slack_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    monitoring_url = None
    if spec.get("monitoring"):
        monitoring = Monitoring(spec.get("scrape_url"), float(spec.get("scrape_interval", 1.0)))
        watcher = web.AppRunner(monitoring.app(), access_log=None, shutdown_timeout=1.0)
        await watcher.setup()
        await web.TCPSite(watcher, "127.0.0.1", 0).start()
        monitoring_url = f"http://127.0.0.1:{watcher.addresses[0][1]}"
        monitoring.start()
    print(
        json.dumps({"agents": urls, "slack": slack_url, "monitoring": monitoring_url}), flush=True
    )
    await asyncio.to_thread(sys.stdin.read)  # until the worker closes our stdin (or dies)
    # Thousands of held tasks may be open; nothing here needs a graceful goodbye.
    sys.stdout.flush()
    os._exit(0)


_END = re.compile(rb"\[bench start=[0-9.]+ end=([0-9.]+)\]")


def _sent_logger(path: str) -> Callable[[bytes], None]:
    """An `AgentServer.on_sent` that appends `END SENT` for each stamp's first send."""
    log = open(path, "a", buffering=1, encoding="ascii")  # open while the sidecar serves
    seen: set[bytes] = set()

    def on_sent(body: bytes) -> None:
        for match in _END.finditer(body):
            end = match.group(1)
            if end not in seen:
                seen.add(end)
                log.write(f"{end.decode()} {time.monotonic():.6f}\n")

    return on_sent


def read_sent_log(path: Path) -> dict[float, float]:
    """`_sent_logger`'s lines: reply end stamp → when it first left the agent."""
    if not path.exists():
        return {}
    sent: dict[float, float] = {}
    for line in path.read_text(encoding="ascii").splitlines():
        end, at = line.split()
        sent.setdefault(float(end), float(at))
    return sent


def spec_for(
    agents: list[AgentDef],
    *,
    slack: bool = False,
    sent_log: Path | None = None,
    monitoring: bool = False,
    scrape_url: str | None = None,
    scrape_interval: float = 1.0,
) -> str:
    """The command-line spec for `python -m bench.sidecar`."""
    return json.dumps(
        {
            "agents": [asdict(a) for a in agents],
            "slack": slack,
            "sent_log": str(sent_log) if sent_log else None,
            "monitoring": monitoring,
            "scrape_url": scrape_url,
            "scrape_interval": scrape_interval,
        }
    )


if __name__ == "__main__":
    asyncio.run(serve(json.loads(sys.argv[1])))
