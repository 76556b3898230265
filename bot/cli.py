"""The `dispatch` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the rest is imported when a command runs: `dispatch --help` stays quick
    from adapters.console import ConsoleAdapter
    from bot.manifest import Fleet
    from bot.ports import Adapter
    from bot.settings import Settings

DESCRIPTION = """\
Dispatch: a 911 dispatcher in front of your AI agents. It acknowledges at once, routes each
request to the right agent (or a disposable sub-agent), runs independent work in parallel and
dependent work in order, relays every result word for word, and never does the work itself.

Settings come from DISPATCH_* environment variables (DISPATCH_DB, DISPATCH_FLEET,
DISPATCH_SOUL, DISPATCH_LOG_LEVEL); the flags below override them.
"""

EPILOG = """\
examples:
  dispatch demo                      start a local demo fleet and chat with it
  dispatch demo --script             play the built-in scenarios unattended, exit 0 on success
  dispatch plan "Design the logo, then use it on the landing page"
  dispatch chat --fleet manifests/fleet.example.yaml < requests.txt
  dispatch status
  dispatch check --fleet manifests/fleet.example.yaml
"""

DEMO_SCRIPT = [
    "// parallel launch prep: three agents at once, results as each finishes",
    "Launch prep: brand images, landing page copy, and announcement tweets",
    "// a chain: the landing page waits for the logo and gets it in its brief",
    "Design the new logo, then use it on the landing page",
    "// a named agent, in its persistent main session",
    "Dev — the /api/users endpoint needs input validation",
    "// nobody on the roster covers this: a disposable sub-agent",
    "What's the current price of Bitcoin?",
    "// too vague to route: one clarifying question, answered in the thread",
    "Fix the button",
    "^ The Pay button on the checkout page does nothing on mobile Safari",
    "// status from the database while work is in flight",
    "what's in flight?",
    "// a follow-up in the first thread goes back to the same agent's session",
    "^1 make the tweets punchier",
    "who can do logos?",
]


def positive_number(text: str) -> float:
    """A factor above zero (argparse turns the error into a one-line usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0 (and finite), not {text}")
    return value


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, not {value}")
    return value


def _common(parser: argparse.ArgumentParser, *, fleet: bool = True) -> None:
    parser.add_argument(
        "--db", help="SQLite database file (default ./dispatch.db), or a postgresql:// URL"
    )
    parser.add_argument("--soul", type=Path, help="the dispatcher's charter (default ./SOUL.md)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (default) or ERROR")
    if fleet:
        parser.add_argument("--fleet", type=Path, help="fleet manifest (YAML)")


def _web(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--web",
        action="store_true",
        help="also serve the web board (needs DISPATCH_WEB_TOKEN; see README)",
    )
    parser.add_argument("--web-host", help="web board address (default 127.0.0.1)")
    parser.add_argument("--web-port", type=port, help="web board port (default 8750; 0: any)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dispatch",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo",
        help="start a local demo fleet (dev, designer, image, writer, social, research) and chat",
        description="Start demo A2A agents on 127.0.0.1, then open the terminal chat against them."
        " Nothing to configure, no tokens.",
    )
    _common(demo, fleet=False)
    demo.add_argument("--script", action="store_true", help="play the built-in scenarios and exit")
    demo.add_argument(
        "--speed",
        type=positive_number,
        default=1.0,
        help="divide the demo agents' delays by this factor (above 0)",
    )
    _web(demo)

    chat = sub.add_parser(
        "chat",
        help="terminal chat against a fleet (one request per line when stdin is not a terminal)",
        description="Chat with Dispatch in the terminal. Reply in a thread with '^ text' (latest"
        " thread) or '^N text'. When stdin is not a terminal, each line is a request and the"
        " command exits once all of them are finished.",
    )
    _common(chat)

    plan = sub.add_parser(
        "plan",
        help="print the routing decision for a message as JSON, without running anything",
        description="Show how Dispatch would route a message. Uses the demo roster unless --fleet"
        " is given.",
    )
    _common(plan)
    plan.add_argument("text", help="the message to route")

    status = sub.add_parser(
        "status", help="what is in flight, from the database", description="Read the database only."
    )
    _common(status)
    status.add_argument("--user", help="only this user's requests")
    status.add_argument(
        "--planner",
        action="store_true",
        help="how requests were planned: rules or model, fallbacks, tokens and latency",
    )
    status.add_argument(
        "--replicas",
        action="store_true",
        help="the replicas sharing the database: host and pid, started, heartbeat, alive or"
        " dead (DISPATCH_REPLICA_DEAD_AFTER), stopped, and the tasks and threads each owns",
    )

    check = sub.add_parser(
        "check",
        help="validate the settings, the fleet manifest and SOUL.md",
        description="Exit 0 when the configuration is usable; otherwise print what is wrong.",
    )
    _common(check)
    check.add_argument(
        "--refresh",
        action="store_true",
        help="also ask every agent to describe itself (Agent Cards, gateway lists) and cache it",
    )

    serve = sub.add_parser(
        "serve",
        help="run the platform adapters (--slack, --discord, --console)",
        description="Run Dispatch on chat platforms until interrupted.\n\n"
        "Slack needs SLACK_BOT_TOKEN (xoxb-…), plus SLACK_APP_TOKEN (xapp-…) for Socket Mode,"
        " or --http with SLACK_SIGNING_SECRET for the Events API at /slack/events."
        " DISPATCH_SLACK_API_URL overrides the Web API base URL.\n\n"
        "Discord needs DISCORD_TOKEN; DISPATCH_DISCORD_API_URL and DISPATCH_DISCORD_GATEWAY_URL"
        " override the REST and gateway URLs. Both platforms can run in one process.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(serve)
    serve.add_argument("--slack", action="store_true", help="serve the Slack workspace bot")
    serve.add_argument("--discord", action="store_true", help="serve the Discord server bot")
    serve.add_argument("--console", action="store_true", help="serve the terminal adapter")
    serve.add_argument(
        "--http", action="store_true", help="Slack over the HTTP Events API instead of Socket Mode"
    )
    serve.add_argument("--host", help="HTTP mode: address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP mode: port to listen on (default 3000)")
    serve.add_argument(
        "--demo", action="store_true", help="route to the local demo fleet instead of --fleet"
    )
    _web(serve)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    from bot.settings import Settings

    overrides = {
        name: getattr(args, name)
        for name in ("db", "soul", "log_level", "fleet", "web_host", "web_port")
        if getattr(args, name, None) is not None
    }
    if getattr(args, "web", False):
        overrides["metrics"] = True  # the board serves them at /metrics, behind its token
    return Settings(**overrides)


def check_web(args: argparse.Namespace, settings: Settings) -> None:
    """`--web` is refused before anything starts when the board could not be safe."""
    if not getattr(args, "web", False):
        if getattr(args, "web_host", None) or getattr(args, "web_port", None) is not None:
            raise ValueError("--web-host and --web-port only apply with --web")
        return
    from bot.web import check_settings

    check_settings(settings)


def fleet_or_demo(settings: Settings) -> Fleet:
    from bot.demo.fleet import demo_fleet
    from bot.manifest import load_fleet

    return load_fleet(settings.fleet) if settings.fleet else demo_fleet()


def require_fleet(settings: Settings) -> Fleet:
    from bot.manifest import ManifestError, load_fleet

    if settings.fleet is None:
        raise ManifestError(
            "no fleet manifest: pass --fleet FILE or set DISPATCH_FLEET"
            " (or run `dispatch demo` to try the demo fleet)"
        )
    return load_fleet(settings.fleet)


PAYLOAD_LOGGERS = (
    "a2a", "sse_starlette", "slack_sdk", "slack_bolt", "discord", "openai",
    "anthropic", "httpx", "httpcore", "aiohttp", "websockets",
)  # fmt: skip
"""Libraries whose DEBUG lines carry what people wrote (request and
response bodies, A2A messages): they log from INFO up even at DEBUG."""


def configure_logging(level: str) -> None:
    """Dispatch's own logs at `level`; at DEBUG they still hold no message contents."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if logging.getLogger().getEffectiveLevel() < logging.INFO:
        for name in PAYLOAD_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.manifest import ManifestError

    try:
        settings = settings_from(args)
        configure_logging(settings.log_level)
        return asyncio.run(_run(args, settings))
    except (ManifestError, ValueError) as exc:  # SlackConfigError is a ValueError
        print(f"dispatch: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `dispatch plan … | head`: the reader has gone, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    except KeyboardInterrupt:  # Ctrl-C: asyncio.run has already shut everything down
        from bot import render

        demo = args.command == "demo" or getattr(args, "demo", False)
        print(f"dispatch: {render.interrupted(args.command, demo)}", file=sys.stderr)
        return 130


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    check_web(args, settings)
    if args.command == "plan":
        print(json.dumps(await _plan(settings, args.text), indent=2, ensure_ascii=False))
        return 0

    if args.command == "check":
        return await _check(settings, refresh=args.refresh)

    if args.command == "status":
        if args.planner:
            return await _planner_report(settings)
        if args.replicas:
            return await _replicas_report(settings)
        return await _status(settings, args.user)

    from adapters.console import ConsoleAdapter
    from bot.demo.fleet import running_demo_fleet
    from bot.runtime import chat, running_board, running_dispatcher, submit_scripted

    if args.command == "chat":
        fleet = require_fleet(settings)
        console = ConsoleAdapter()
        async with running_dispatcher(settings, fleet, [console]) as dispatcher:
            await chat(dispatcher, console)
        return 0

    if args.command == "serve":
        return await _serve(args, settings)

    if args.command == "demo":
        console = ConsoleAdapter()
        async with contextlib.AsyncExitStack() as stack:
            fleet = await stack.enter_async_context(running_demo_fleet(args.speed))
            dispatcher = await stack.enter_async_context(
                running_dispatcher(settings, fleet, [console])
            )
            if args.web:
                await stack.enter_async_context(running_board(dispatcher, settings))
            if not args.script:
                try:
                    await chat(dispatcher, console)
                except asyncio.CancelledError:  # Ctrl-C: the demo agents stop with us
                    await _cancel_demo_work(dispatcher, console.user)
                    raise
                return 0
            for line in DEMO_SCRIPT:
                await submit_scripted(dispatcher, console, line)
            await dispatcher.idle(timeout=120)
            return await _verify_script(dispatcher, console)
    parser_error = f"unknown command {args.command!r}"
    raise ValueError(parser_error)


async def _plan(settings: Settings, text: str) -> dict[str, Any]:
    """The decision and how it was reached: the semantic planner's figures (intent, each
    part's top three agents, why a clarify or the catch-all), and the model's if configured."""
    from bot.llm import LLMPlanner
    from bot.planner import ThreadContext
    from bot.semantic import SemanticPlanner, make_planner
    from bot.semantic.planner import model_wanted
    from bot.settings import load_soul

    fleet = fleet_or_demo(settings)
    planner = make_planner(settings, fleet)
    figures: dict[str, Any] = {}
    if isinstance(planner, SemanticPlanner):
        decision, why = planner.explain(text)
        figures = {"explain": why.as_dict(), "embeddings": planner.embedder.name}
    else:
        decision = planner.plan(text)
    config = settings.llm_config()
    if config is None:
        return {**decision.model_dump(), **figures, "note": "no model configured"}
    if not model_wanted(decision, settings.llm_mode):
        return {**decision.model_dump(), **figures, "note": "confident: the model is not asked"}
    async with LLMPlanner(
        config, fleet, load_soul(settings.soul_path()), rule_planner=planner
    ) as llm:
        outcome = await llm.plan(text, ThreadContext(), [])
    return {
        **outcome.decision.model_dump(),
        "planner": outcome.planner,
        "fallback_reason": outcome.fallback_reason,
        "repaired": outcome.repaired,
        "model": outcome.model,
        "latency_ms": round(outcome.latency_ms, 1),
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        **figures,
    }


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import ConsoleAdapter
    from bot.demo.fleet import running_demo_fleet
    from bot.runtime import chat, running_board, running_dispatcher, serve_forever

    if not (args.slack or args.discord or args.console):
        raise ValueError(
            "dispatch serve: choose at least one platform: --slack, --discord or --console"
        )
    if (args.host or args.port) and not args.http:
        raise ValueError("--host and --port only apply with --http (the Slack Events API)")
    if args.http and not args.slack:
        raise ValueError("--http is for Slack: add --slack")
    adapters: list[Adapter] = []
    console: ConsoleAdapter | None = None
    if args.slack:
        from adapters.slack import SlackAdapter

        adapters.append(
            SlackAdapter(
                settings, http=args.http, host=args.host or "127.0.0.1", port=args.port or 3000
            )
        )
    if args.discord:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(settings))
    if args.console:
        console = ConsoleAdapter()
        adapters.append(console)
    async with contextlib.AsyncExitStack() as stack:
        if args.demo:
            fleet = await stack.enter_async_context(running_demo_fleet())
        else:
            fleet = require_fleet(settings)
        dispatcher = await stack.enter_async_context(running_dispatcher(settings, fleet, adapters))
        if args.web:
            await stack.enter_async_context(running_board(dispatcher, settings))
        print(f"dispatch: serving {', '.join(a.platform for a in adapters)}", file=sys.stderr)
        if console is not None:
            try:
                await chat(dispatcher, console)
            except asyncio.CancelledError:  # Ctrl-C
                if args.demo:
                    await _cancel_demo_work(dispatcher, console.user)
                raise
        else:
            await serve_forever()
    return 0


async def _cancel_demo_work(dispatcher: object, user: str) -> None:
    """The demo's agents live in this process, so its unfinished work cannot be resumed by a
    later start (they would not know the task): cancel it now, at the agents and in the
    database, within a second."""
    from bot.dispatcher import Dispatcher

    assert isinstance(dispatcher, Dispatcher)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            await dispatcher.cancel_matching("console", user, "all", None, actor="Ctrl-C")


async def _verify_script(dispatcher: object, console: ConsoleAdapter) -> int:
    """The scripted demo passes when every request it made finished and every task completed.

    Only its own threads count: the database may hold earlier work (an interactive demo)."""
    from bot.dispatcher import Dispatcher

    assert isinstance(dispatcher, Dispatcher)
    store = dispatcher.store
    bad_tasks, open_requests, unsent = await store.leftovers(console.platform, console.threads)
    for row in bad_tasks:
        print(
            f"demo: task {row['id']} ({row['agent']}) ended {row['state']}: {row['error']}",
            file=sys.stderr,
        )
    for row in open_requests:
        print(f"demo: request {row['id']} ({row['kind']}) is still {row['state']}", file=sys.stderr)
    if unsent:
        print(f"demo: {len(unsent)} message(s) were not delivered", file=sys.stderr)
    ok = not (bad_tasks or open_requests or unsent)
    print("demo script: " + ("all scenarios finished" if ok else "FAILED"))
    return 0 if ok else 1


async def _check(settings: Settings, *, refresh: bool = False) -> int:
    from bot.manifest import ManifestError
    from bot.settings import load_soul

    problems: list[str] = []
    fleet: Fleet | None = None
    try:
        fleet = fleet_or_demo(settings)
        source = settings.fleet or "the demo fleet"
        print(f"fleet: {source}: {len(fleet.agents)} agents + catch-all ({fleet.catch_all.name})")
        for agent in fleet.all_agents:
            print(
                f"  {agent.label} [{agent.id}] {agent.session}, {agent.backend.kind} {agent.backend.where()}, timeout {agent.timeout:g}s"
            )
    except ManifestError as exc:
        problems.append(str(exc))
    try:
        soul = load_soul(settings.soul_path())
        print(f"soul: {settings.soul_path()} ({len(soul.splitlines())} lines)")
    except ValueError as exc:
        problems.append(str(exc))
    try:
        from bot.store import store_for

        store = await store_for(settings.db).open()
        try:
            print(f"database: {settings.db_label} (ok)")
            if refresh and fleet is not None:
                await _refresh(store, fleet, settings)
        finally:
            await store.close()
    except ValueError as exc:  # StoreError: the path and the reason already
        problems.append(str(exc))
    except Exception as exc:
        problems.append(f"{settings.db_label}: cannot open the database ({exc})")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


async def _refresh(store: Any, fleet: Fleet, settings: Settings) -> None:
    """Probe every agent, cache what it says about itself, and show who is available."""
    from bot.dispatcher import Dispatcher

    dispatcher = Dispatcher(store, fleet, {}, settings=settings)
    await dispatcher.refresh_roster()
    print("roster (refreshed):")
    for agent in dispatcher.fleet.agents:
        state = (
            f"UNAVAILABLE: {dispatcher.unavailable[agent.id]}"
            if agent.id in dispatcher.unavailable
            else "available"
        )
        skills = ", ".join(agent.skills[:5]) or "no skills listed"
        print(f"  {agent.label} [{agent.id}] {state}; {skills}")


async def _planner_report(settings: Settings) -> int:
    """Per planner: how many plans, fallbacks and why, tokens, and latency percentiles."""
    from bot.store import store_for

    if settings.db_file is not None and not settings.db_file.exists():
        print(f"No plans yet (no database at {settings.db}).")
        return 0
    store = await store_for(settings.db).open()
    try:
        rows = await store.plan_figures()
    finally:
        await store.close()
    if not rows:
        print("No plans yet.")
        return 0
    asked = sum(1 for r in rows if r["model"])  # set on every plan the model was asked for
    print(f"{len(rows)} plans; the model was asked for {asked} ({asked / len(rows):.0%})")
    for planner in sorted({r["planner"] for r in rows}):
        mine = [r for r in rows if r["planner"] == planner]
        latencies = sorted(r["latency_ms"] for r in mine)
        p50 = latencies[len(latencies) // 2]
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        tokens_in = sum(r["input_tokens"] for r in mine)
        tokens_out = sum(r["output_tokens"] for r in mine)
        models = ", ".join(sorted({r["model"] for r in mine if r["model"]})) or "-"
        print(
            f"  {planner}: {len(mine)} plans, latency p50 {p50:.0f} ms / p95 {p95:.0f} ms,"
            f" tokens {tokens_in} in / {tokens_out} out, repaired {sum(r['repaired'] for r in mine)},"
            f" model {models}"
        )
    reasons: dict[str, int] = {}
    for row in rows:
        if row["fallback_reason"]:
            reasons[row["fallback_reason"]] = reasons.get(row["fallback_reason"], 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  fell back to the rules {count}×: {reason}")
    return 0


async def _replicas_report(settings: Settings) -> int:
    """Each replica on record and what it owns, read from the database."""
    import time

    from bot import render
    from bot.store import store_for

    if settings.db_file is not None and not settings.db_file.exists():
        print(render.NO_REPLICAS)
        return 0
    store = await store_for(settings.db).open()
    try:
        rows = [dict(row) for row in await store.replicas()]
    finally:
        await store.close()
    report = render.replicas_report(
        rows, now=time.time(), dead_after=settings.replica_dead_after, shared=settings.shared_db
    )
    print(report)
    return 0


async def _status(settings: Settings, user: str | None) -> int:
    from bot.dispatcher import Dispatcher
    from bot.store import store_for

    if settings.db_file is not None and not settings.db_file.exists():
        print(f"Nothing in flight (no database at {settings.db}).")
        return 0
    store = await store_for(settings.db).open()
    try:
        dispatcher = Dispatcher(store, fleet_or_demo(settings), {}, settings=settings)
        print(await dispatcher.status_text(user, None))
    finally:
        await store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
