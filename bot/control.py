"""What users and admins may do to work under way: cancel it (by words, id or button),
retry it, or send it to another agent; and who may do each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import render
from bot.models import Decision, Request, TaskSpec
from bot.places import queue, target_of
from bot.planner import ThreadContext, content_stems
from bot.ports import Action
from bot.states import ACTIVE_TASK_STATES, FAILED_TASK_STATES
from bot.store import Row, ThreadKey, Tx

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

LESSON_CHARS = 500
"""How much of a corrected request a lesson keeps."""


class Control:
    def __init__(self, core: Dispatcher) -> None:
        self.core = core

    async def answer_cancel(
        self, request: Request, request_id: str, target: str, key: ThreadKey, *, closes: bool = True
    ) -> None:
        """`closes=False`: the message also asked for work, which the cancel spares and which
        keeps its request open."""
        text = await self.cancel_matching(
            request.platform,
            request.user,
            target,
            key,
            actor=request.user_name or request.user,
            spare="" if closes else request_id,
        )
        await self.core.say(request_id, request, "notice", text, done=closes)

    async def cancel_matching(
        self,
        platform: str,
        user: str,
        target: str,
        key: ThreadKey | None,
        *,
        actor: str = "",
        spare: str = "",
    ) -> str:
        """Cancel what `target` names ('all' or words) in this thread, else in the user's own
        requests; only work the user may control (their own, or anyone's for an admin), and
        never the request `spare` (the one that asked for the cancel, and for new work)."""
        thread_rows = await self.core.store.thread_tasks(key) if key is not None else []
        # A new thread holding only the work asked beside the cancel is no thread to look in.
        thread_rows = [t for t in thread_rows if t["request_id"] != spare]
        if thread_rows:
            candidates = [t for t in thread_rows if t["state"] in ACTIVE_TASK_STATES]
        else:
            candidates = await self.core.store.user_active_tasks(platform, user)
        candidates = [t for t in candidates if t["request_id"] != spare]
        if target != "all":
            # "the sale banner": the tasks that share most of its words ("a banner for the
            # sale", not also "a banner for the blog"); any shared word, if that is all there is
            wanted = set(content_stems(target))
            shared = {
                t["id"]: len(
                    wanted & set(content_stems(t["summary"] + " " + self.core.label(t["agent"])))
                )
                for t in candidates
            }
            most = max(shared.values(), default=0)
            candidates = [
                t
                for t in candidates
                if (most and shared[t["id"]] == most)
                or t["request_id"] == target
                or t["id"] == target
            ]
        if not candidates:
            return render.nothing_matching(target)
        allowed = []
        for task in candidates:
            request = await self.core.store.request(task["request_id"])
            if request is not None and self.may_control(user, request):
                allowed.append(task)
        if not allowed:
            return render.CANCEL_NOT_YOURS
        cancelled = []
        for task in allowed:
            if await self.cancel_task(task["id"], reason=render.cancelled_by(actor or user)):
                cancelled.append(render.task_label(self.core.label(task["agent"]), task["summary"]))
        return render.cancelled(cancelled, none=render.ALREADY_FINISHED)

    async def reroute(
        self, request: Request, request_id: str, agent_id: str, key: ThreadKey
    ) -> None:
        """ "No, that's for Writer": move the thread's work, and remember the lesson."""
        agent = self.core.fleet.get(agent_id)
        tasks = [t for t in await self.core.store.thread_tasks(key) if t["agent"] != agent_id]
        active = [t for t in tasks if t["state"] in ACTIVE_TASK_STATES]
        moved = (active or tasks)[-1:] if tasks else []
        if agent is None or not moved:
            await self.core.say(request_id, request, "notice", render.NOTHING_TO_REROUTE, done=True)
            return
        task = moved[0]
        original = await self.core.store.request(task["request_id"])
        if original is not None and not self.may_control(request.user, original):
            await self.core.say(request_id, request, "notice", render.REROUTE_NOT_YOURS, done=True)
            return
        words = (original["text"] if original is not None else task["summary"])[:LESSON_CHARS]
        await self.core.store.transact(
            lambda tx: self._learn(tx, request, words, agent.id, task["agent"])
        )
        if task["state"] in ACTIVE_TASK_STATES:
            await self.cancel_task(task["id"], reason=render.rerouted_to(agent.name))
        decision = Decision(
            kind="work",
            tasks=[
                TaskSpec(id="t1", agent=agent.id, session=agent.session, summary=task["summary"])
            ],
            notes=[
                render.rerouted(
                    task["summary"],
                    self.core.label(task["agent"]),
                    agent.label,
                    agent.name,
                    for_everyone=request.user in self.core.settings.admin_ids,
                )
            ],
            reason="rerouted by the user",
        )
        await self.core.store.mark_rerouted(request_id)
        await self.core.intake.plan_work(
            request, request_id, decision, ThreadContext(), words=words
        )

    def _learn(self, tx: Tx, request: Request, words: str, agent: str, wrong: str) -> None:
        """Remember a correction for its author (for the whole workspace when an admin made
        it), keeping each author's newest `lessons_per_user`."""
        tx.add_lesson(
            words, agent, wrong, request.user, request.platform, request.workspace,
            shared=request.user in self.core.settings.admin_ids, keep=self.core.settings.lessons_per_user,
        )  # fmt: skip

    async def cancel_task(self, task_id: str, *, reason: str) -> bool:
        task = await self.core.store.task(task_id)
        if task is None or task["state"] not in ACTIVE_TASK_STATES:
            return False
        await self.core.runner.finish(task_id, "cancelled", error=reason, announce=False)
        if task["state"] not in ("running", "input_required"):
            return True
        # Read the remote id after the cancel is written: an event that stored it a moment
        # ago is seen here, and one that stores it later sees the cancel (see `Runner.on_event`).
        if await self.core.runner.cancel_remote(task_id):
            runner = self.core.runner.runners.pop(task_id, None)
            if runner is not None:
                runner.cancel()
        return True

    async def cancel_for(self, platform: str, user: str, target: str) -> str:
        """/cancel outside a thread: the user's own work, by words, request id or task id."""
        return await self.cancel_matching(platform, user, target or "all", None)

    def may_control(self, user: str, request: Row) -> bool:
        """Only the requester, or a configured admin, may cancel or retry."""
        return user == request["user"] or user in self.core.settings.admin_ids

    async def act(self, action: Action) -> str:
        """A status-board button: cancel a task, cancel the request, or retry a task."""
        task = (
            await self.core.store.task(action.target) if action.kind != "cancel_request" else None
        )
        request_id = task["request_id"] if task is not None else action.target
        request = await self.core.store.request(request_id)
        if request is None or request["platform"] != action.platform:
            return render.REQUEST_GONE
        if not self.may_control(action.user, request):
            return render.only_owner(request["user_name"] or request["user"])
        actor = action.user
        if action.kind == "cancel_request":
            names = []
            for row in await self.core.store.request_tasks(request_id):
                if await self.cancel_task(row["id"], reason=render.cancelled_by(actor)):
                    names.append(render.task_label(self.core.label(row["agent"]), row["summary"]))
            text = render.cancelled(names, none=render.NOTHING_RUNNING)
        elif task is None:
            return render.TASK_GONE
        elif action.kind == "cancel_task":
            done = await self.cancel_task(task["id"], reason=render.cancelled_by(actor))
            label = render.task_label(self.core.label(task["agent"]), task["summary"])
            text = render.cancelled_one(label, done)
        else:
            text = await self.retry_task(task["id"], actor)
        await self.core.store.transact(
            lambda tx: queue(tx, request_id, target_of(request), "notice", text)
        )
        await self.core.notify()
        return text

    async def retry_task(self, task_id: str, actor: str) -> str:
        """Run a failed, timed-out, cancelled or stopped task again, and what it had stopped."""
        task = await self.core.store.task(task_id)
        if task is None:
            return render.TASK_GONE
        label = render.task_label(self.core.label(task["agent"]), task["summary"])
        if task["state"] not in FAILED_TASK_STATES:
            return render.nothing_to_retry(label, task["state"])

        def reopen(tx: Tx) -> None:
            tx.reopen_task(task_id)
            frontier = [task_id]
            while frontier:  # what this task had stopped waits for it again
                for dependent in tx.dependents(frontier.pop()):
                    if dependent["state"] != "blocked":
                        continue
                    tx.unblock_task(dependent["id"])
                    frontier.append(dependent["id"])
            tx.reopen_request(task["request_id"])
            tx.bump_board(task["request_id"])
            if all(d["state"] == "completed" for d in tx.dependencies(task_id)):
                tx.queue_task(task_id)

        await self.core.store.transact(reopen)
        await self.core.notify()
        await self.core.runner.pump()
        return render.retrying(label, actor)
