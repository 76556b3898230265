"""The terminal adapter: threads shown as numbered, indented blocks with live status lines.

Typing a line starts a new request (a new thread, numbered #1, #2, …). Reply in a thread
with `^ text` (the latest thread) or `^3 text` (thread #3): that is how you answer a
question or send a follow-up, exactly as a thread reply would in Slack or Discord.
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from typing import TextIO

from adapters.base import Core
from bot.models import Request
from bot.outbound import Board, MessageRef, Outbound, Target
from bot.render import board_lines

_REPLY = re.compile(r"^\^(?P<n>\d+)?\s*(?P<text>.*)$", re.DOTALL)
INDENT = "    "


class ConsoleAdapter:
    platform = "console"

    def __init__(self, out: TextIO | None = None, *, user: str = "you", channel: str = "terminal"):
        self.out = out or sys.stdout
        self.user = user
        self.channel = channel
        self._core: Core | None = None
        self._ids = itertools.count(1)
        self._run = f"{int(time.time() * 1000):x}"
        self._threads: list[str] = []
        self._boards: dict[str, dict[str, str]] = {}
        self._seq = itertools.count(1)

    async def start(self, core: Core) -> None:
        self._core = core

    async def stop(self) -> None:
        self._core = None

    # -- inbound ------------------------------------------------------------------------------

    def parse(self, line: str) -> Request:
        """A typed line → a normalized request (new thread, or a reply with ^ / ^N)."""
        # Unique across runs: a restarted chat must not look like a duplicate delivery.
        message_id = f"{self._run}-{next(self._ids)}"
        thread: str | None = None
        text = line.strip()
        if match := _REPLY.match(text):
            text = match.group("text").strip()
            if match.group("n"):
                index = int(match.group("n")) - 1
                thread = self._threads[index] if 0 <= index < len(self._threads) else None
            elif self._threads:
                thread = self._threads[-1]
        if thread is None:
            self._threads.append(message_id)
        return Request(
            platform=self.platform,
            channel=self.channel,
            thread=thread,
            message_id=message_id,
            user=self.user,
            user_name=self.user,
            text=text,
        )

    def thread_number(self, thread: str | None) -> str:
        """#1, #2… for threads started here; a short id for threads from an earlier run."""
        if thread in self._threads:
            return str(self._threads.index(thread) + 1)
        return (thread or "?")[-6:]

    async def submit(self, line: str) -> Request:
        return await self.submit_request(self.parse(line))

    async def submit_request(self, request: Request) -> Request:
        number = self.thread_number(request.thread_key)
        marker = "" if request.thread is None else "↳ "
        self._print(f"[#{number}] {marker}{self.user}: {request.text}")
        if self._core is not None:
            await self._core.receive(request)
        return request

    # -- outbound -----------------------------------------------------------------------------

    async def post(self, target: Target, message: Outbound) -> MessageRef:
        number = self.thread_number(target.thread)
        who = (
            message.agent.label
            if message.agent and message.kind in ("result", "question")
            else "Dispatch"
        )
        head = f"[#{number}] {who}:"
        body = message.text.rstrip("\n")
        if message.kind in ("result", "question"):
            self._print(head)
            for line in body.splitlines() or [""]:
                self._print(INDENT + line)
        else:
            self._print(f"{head} {body}" if "\n" not in body else head + "\n" + _indent(body))
        for attachment in message.files:
            self._print(f"{INDENT}📎 {attachment.name or 'file'} {attachment.url or ''}".rstrip())
        ref = MessageRef(
            platform=self.platform,
            channel=target.channel,
            id=f"o{next(self._seq)}",
            thread=target.thread,
        )
        if message.board is not None:
            self._show_board(ref, message.board, number)
        return ref

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        if message.board is not None:
            self._show_board(ref, message.board, self.thread_number(ref.thread))

    async def dm(self, user: str, message: Outbound) -> MessageRef:
        self._print(f"[DM to {user}] {message.text}")
        return MessageRef(platform=self.platform, channel=f"dm:{user}", id=f"o{next(self._seq)}")

    def _show_board(self, ref: MessageRef, board: Board, number: str) -> None:
        """Print only the rows whose state changed: a live view that reads well in a log."""
        seen = self._boards.setdefault(ref.id, {})
        for row, line in zip(board.rows, board_lines(board), strict=True):
            if seen.get(row.task_id) != row.state:
                seen[row.task_id] = row.state
                self._print(f"[#{number}]{INDENT}{line}")

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _indent(text: str) -> str:
    return "\n".join(INDENT + line for line in text.splitlines())
