"""Splitting long text at a platform's limit without losing a character.

Cuts prefer a blank line, then a line end, then a space. A cut inside a fenced code block
closes the fence and reopens it (with its language) in the next chunk, so code renders as
code on both sides. Each chunk keeps the original slice (`body`) apart from the fence lines
added around it, so the original is always exactly `"".join(c.body for c in chunks)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")
_CLOSE = "\n```"


@dataclass(frozen=True)
class Chunk:
    prefix: str
    body: str
    suffix: str

    @property
    def text(self) -> str:
        return self.prefix + self.body + self.suffix


def _open_fence(text: str) -> str | None:
    """The fence line still open at the end of `text`, if any."""
    opened: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        if opened is None:
            opened = match.group(1) + match.group(2).strip()
        elif match.group(2).strip() == "":
            opened = None
    return opened


def _cut(text: str, limit: int) -> int:
    window = text[:limit]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= limit // 2:
            return at + len(separator)
    return limit


def split_chunks(text: str, limit: int) -> list[Chunk]:
    if limit < 40:
        raise ValueError("limit too small to split safely")
    chunks: list[Chunk] = []
    done = ""
    rest = text
    while True:
        fence = _open_fence(done)
        prefix = f"{fence}\n" if fence else ""
        if len(prefix) + len(rest) <= limit:
            chunks.append(Chunk(prefix, rest, ""))
            return chunks
        at = _cut(rest, limit - len(prefix) - len(_CLOSE))
        body, rest = rest[:at], rest[at:]
        done += body
        chunks.append(Chunk(prefix, body, _CLOSE if _open_fence(done) else ""))


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most `limit` characters, in order."""
    return [chunk.text for chunk in split_chunks(text, limit)]


def head_and_rest(text: str, limit: int, max_messages: int) -> tuple[list[Chunk], str]:
    """At most `max_messages` chunks: all of them if they fit, else the first
    `max_messages - 1` and the text after them (for a file in the last message), so that
    `"".join(c.body for c in head) + rest == text`."""
    chunks = split_chunks(text, limit)
    if len(chunks) <= max_messages:
        return chunks, ""
    head = chunks[: max(max_messages - 1, 0)]
    return head, text[sum(len(c.body) for c in head) :]
