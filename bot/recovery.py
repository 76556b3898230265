"""Restart: finish what a previous process started. Running tasks are reconciled with
their agents, waiting ones released or stopped, and finished requests closed; nothing is
relayed twice. Later, finished requests past their retention are deleted."""

from __future__ import annotations

import asyncio
import logging
import time

from bot import render
from bot.backends.base import BackendError
from bot.board import session_of
from bot.brief import Brief
from bot.runner import Mode, Runner
from bot.states import FAILED_TASK_STATES
from bot.store import Row, Store, Tx

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0
"""Seconds between retention purges (`DISPATCH_RETENTION_DAYS`)."""


async def recover(runner: Runner) -> None:
    """Finish what a previous process (or a dead replica) started. Safe to run on a clean
    database, and beside live replicas: their tasks are theirs."""
    await take_over(runner, await runner.core.membership.adopt())
    for task in await runner.core.store.tasks_in_state("waiting"):
        deps = await runner.core.store.dependencies(task["id"])
        if any(d["state"] in FAILED_TASK_STATES for d in deps):
            failed = next(d for d in deps if d["state"] != "completed")
            await runner.finish(
                task["id"],
                "blocked",
                error=render.did_not_finish(runner.core.label(failed["agent"])),
            )
        elif all(d["state"] == "completed" for d in deps):
            await runner.core.store.update_task(task["id"], state="queued")

    def close_finished(tx: Tx) -> None:
        for request_id in tx.running_requests():
            runner.close_if_done(tx, request_id)

    await runner.core.store.transact(close_finished)
    await runner.core.notify()
    runner.recovered = True
    await runner.pump()


async def take_over(runner: Runner, adopted: list[Row]) -> None:
    """Drive tasks this replica has just adopted: reconciled with their agents, so each
    result is relayed once."""
    for task in adopted:
        if task["session_kind"] == "persistent":
            runner.hold(session_of(task), task["id"])
    for task in sorted(adopted, key=lambda t: t["seq"]):
        if task["state"] == "running":
            await _reconcile(runner, task)


async def _reconcile(runner: Runner, task: Row) -> None:
    agent = runner.core.fleet.get(task["agent"])
    if agent is None:
        await runner.finish(task["id"], "failed", error=render.left_fleet(task["agent"]))
        return
    if not task["remote_task_id"]:
        # We crashed between recording the start and hearing back. The message id is the
        # task id, so an agent that de-duplicates messages will not run it twice.
        log.info("resending %s: no remote task id was recorded", task["id"])
        brief = Brief.model_validate_json(task["brief"])
        runner.spawn(task["id"], runner.drive(task["id"], Mode.SEND, brief.render()))
        return
    try:
        event = await runner.backend(agent).get(task["remote_task_id"])
    except BackendError as exc:
        log.warning("reconcile of %s deferred: %s", task["id"], exc)
        runner.spawn(task["id"], runner.drive(task["id"], Mode.WATCH))
        return
    if event.terminal or event.state == "input_required":
        await runner.on_event(task["id"], event)
    else:
        runner.spawn(task["id"], runner.drive(task["id"], Mode.WATCH))


async def retention(store: Store, days: float) -> None:
    """Finished requests older than `days` are deleted, with all they hold (tasks, results,
    messages, history), at start and every hour after; 0 keeps everything."""
    while days:
        try:
            purged = await store.purge_finished(time.time() - days * 86400)
            if purged:
                log.info("retention: deleted %d finished request(s)", purged)
        except Exception:
            log.exception("retention purge failed; trying again later")
        await asyncio.sleep(PURGE_INTERVAL)
