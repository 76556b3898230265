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
from bot import render
from bot.models import Request
from bot.outbound import Board, MessageRef, Outbound, Target
from bot.render import board_lines

_REPLY = re.compile(r"^\^(?P<n>\d+)?\s*(?P<text>.*)$", re.DOTALL)
INDENT = "    "


class ConsoleInputError(ValueError):
    """A typed line that cannot be sent (a reply with no text, or to no such thread)."""


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
        self._board_owners: dict[str, str | None] = {}
        """board message id → the request it shows (else its thread)."""
        self._closed_boards: set[str] = set()
        self._seq = itertools.count(1)
        self.echo = True
        """Print each submitted line as "[#N] you: …": off on a terminal, which already shows
        what was typed."""

    async def start(self, core: Core) -> None:
        self._core = core

    async def stop(self) -> None:
        self._core = None

    # -- inbound ------------------------------------------------------------------------------

    def parse(self, line: str) -> Request:
        """A typed line → a normalized request (new thread, or a reply with ^ / ^N).

        Raises ConsoleInputError for a reply with no text or to a thread that does not exist,
        before anything is counted: such a line is not sent at all."""
        thread: str | None = None
        text = line.strip()
        if match := _REPLY.match(text):
            text = match.group("text").strip()
            if not text:
                raise ConsoleInputError(render.REPLY_NEEDS_TEXT)
            if match.group("n"):
                number = int(match.group("n"))
                if not 1 <= number <= len(self._threads):
                    raise ConsoleInputError(render.no_such_thread(number, len(self._threads)))
                thread = self._threads[number - 1]
            elif self._threads:
                thread = self._threads[-1]
            else:
                raise ConsoleInputError(render.NO_THREAD_YET)
        # Unique across runs (a restarted chat must not look like a duplicate delivery); a
        # thread's id ends in its number, so `dispatch status` can call it #N as this screen does.
        if thread is None:
            message_id = f"{self._run}-{len(self._threads) + 1}"
            self._threads.append(message_id)
        else:
            message_id = f"{thread}.{next(self._ids)}"
        return Request(
            platform=self.platform,
            channel=self.channel,
            thread=thread,
            message_id=message_id,
            user=self.user,
            user_name=self.user,
            text=text,
        )

    @property
    def threads(self) -> list[str]:
        """The threads started from this terminal in this run, #1 first."""
        return list(self._threads)

    def thread_number(self, thread: str | None) -> str:
        """#1, #2… for threads started here; a short id for threads from an earlier run."""
        if thread in self._threads:
            return str(self._threads.index(thread) + 1)
        return (thread or "?")[-6:]

    async def submit(self, line: str) -> Request | None:
        """Send a typed line; a line that cannot be sent is answered here and returns None."""
        try:
            request = self.parse(line)
        except ConsoleInputError as exc:
            self._print(f"Dispatch: {exc}")
            return None
        return await self.submit_request(request)

    async def submit_request(self, request: Request) -> Request:
        if self.echo:
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
        owner = message.request_id or target.thread
        if message.board is not None:
            self._board_owners[ref.id] = owner
            self._show_board(ref, message.board, number)
        if message.kind == "closing":  # the board's last redraw would only repeat the results
            self._closed_boards.update(
                board for board, of in self._board_owners.items() if of == owner
            )
        return ref

    async def update(self, ref: MessageRef, message: Outbound) -> None:
        if message.board is not None and ref.id not in self._closed_boards:
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
