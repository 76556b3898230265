"""How Dispatch looks in Discord: an embed status board with buttons, chunks for results.

Pure functions from core messages to discord.py objects, apart from the transport.
"""

from __future__ import annotations

import re

import discord

from bot import render
from bot.outbound import AgentBadge, Board, Outbound, safe_url
from bot.render import STATE_ICON, STATE_LABEL, elapsed
from bot.split import split_chunks, split_text

CONTENT_LIMIT = 2_000
EMBED_DESCRIPTION_LIMIT = 4_096
MAX_FIELDS = 25
FIELD_VALUE_LIMIT = 1_024
MAX_BUTTONS = 20  # 5 rows of 5; one row kept for "Cancel all"
BUTTON_PREFIX = "dispatch"

ACTIVE = {"waiting", "queued", "running", "input_required"}
RETRYABLE = {"failed", "timed_out", "cancelled", "blocked"}
COLOURS = {"running": 0x5865F2, "done": 0x57F287, "failed": 0xED4245}


_MASS = re.compile(r"@(everyone|here)\b", re.IGNORECASE)


def quiet(text: str) -> str:
    """@everyone and @here as words, not pings. Every send also passes allowed_mentions
    none; this is the second lock, for a path that might one day forget it."""
    return _MASS.sub("@\u200b\\1", text)


def custom_id(kind: str, target: str) -> str:
    return f"{BUTTON_PREFIX}:{kind}:{target}"[:100]


def parse_custom_id(value: str) -> tuple[str, str] | None:
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] != BUTTON_PREFIX:
        return None
    if parts[1] not in ("cancel_task", "cancel_request", "retry_task"):
        return None
    return parts[1], parts[2]


def fit(text: str, limit: int) -> str:
    """Dispatch's own short texts (never an agent's result) may be shortened to fit a field."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def board_embed(board: Board) -> discord.Embed:
    failed = any(row.state in ("failed", "timed_out", "blocked") for row in board.rows)
    colour = COLOURS["failed"] if failed else COLOURS["done" if board.done else "running"]
    embed = discord.Embed(title="Status", colour=colour)
    for row in board.rows[:MAX_FIELDS]:
        when = f" · {elapsed(row.elapsed)}" if row.elapsed is not None else ""
        note = f" · {row.note}" if row.note else ""
        embed.add_field(
            name=fit(f"{STATE_ICON.get(row.state, '•')} {row.agent.label}", 256),
            value=fit(
                quiet(f"{row.summary} · **{STATE_LABEL.get(row.state, row.state)}**{when}{note}"),
                FIELD_VALUE_LIMIT,
            ),
            inline=False,
        )
    hidden = len(board.rows) - MAX_FIELDS
    footer = (
        f"Done in {elapsed(board.elapsed)}"
        if board.done
        else f"Running for {elapsed(board.elapsed)}"
    )
    if hidden > 0:
        footer += f" · {hidden} more tasks: ask “status” in this thread"
    embed.set_footer(text=footer)
    return embed


def board_view(board: Board) -> discord.ui.View | None:
    """Cancel and retry buttons; only the requester's presses are honoured (core decides)."""
    view = discord.ui.View(timeout=None)
    count = 0
    for row in board.rows:
        if count >= MAX_BUTTONS:
            break
        if row.state in ACTIVE:
            label, kind, style = (
                f"Cancel {row.agent.name}",
                "cancel_task",
                discord.ButtonStyle.secondary,
            )
        elif row.state in RETRYABLE:
            label, kind, style = (
                f"Retry {row.agent.name}",
                "retry_task",
                discord.ButtonStyle.primary,
            )
        else:
            continue
        view.add_item(
            discord.ui.Button(
                label=fit(label, 80), style=style, custom_id=custom_id(kind, row.task_id)
            )
        )
        count += 1
    if any(row.state in ACTIVE for row in board.rows):
        view.add_item(
            discord.ui.Button(
                label="Cancel all",
                style=discord.ButtonStyle.danger,
                custom_id=custom_id("cancel_request", board.request_id),
                row=4,
            )
        )
    return view if view.children else None


def author_embeds(agent: AgentBadge, text: str) -> list[discord.Embed]:
    """Where webhooks are not allowed: the agent's words in embeds under its name."""
    embeds = []
    text = quiet(text)
    for chunk in split_text(text, EMBED_DESCRIPTION_LIMIT) if text else [""]:
        embed = discord.Embed(description=chunk or "\u200b")
        icon = agent.icon if agent.icon and agent.icon.startswith(("http://", "https://")) else None
        embed.set_author(name=agent.label, icon_url=icon)
        embeds.append(embed)
    return embeds


def file_lines(message: Outbound) -> list[tuple[str, str | None]]:
    """Each file's name and its link, if the link is plain http(s)."""
    return [(quiet(f.name or "file"), safe_url(f.url)) for f in message.files]


def content_chunks(message: Outbound) -> list[str]:
    text = quiet(message.text)
    chunks = split_text(text, CONTENT_LIMIT) if text else []
    if message.files:
        links = "\n".join(
            f"📎 {name}: {url}" if url else f"📎 {name}" for name, url in file_lines(message)
        )
        chunks += split_text(links, CONTENT_LIMIT)
    return chunks or ["\u200b"]


def relay_parts(message: Outbound, max_messages: int) -> tuple[list[str], str, str]:
    """An agent's words as at most `max_messages` messages: `content_chunks` if they fit;
    else the first `max_messages - 1` chunks of the text, a last message (saying where the
    rest is, with the file links), and the text left over for a file on that last message."""
    chunks = content_chunks(message)
    if len(chunks) <= max_messages:
        return chunks, "", ""
    text = quiet(message.text)
    head = split_chunks(text, CONTENT_LIMIT)[: max_messages - 1]
    rest = text[sum(len(chunk.body) for chunk in head) :]
    lines = [f"📎 {name}: {url}" if url else f"📎 {name}" for name, url in file_lines(message)]
    if rest and message.agent is not None:
        name = render.rest_file_name(message.agent)
        lines.insert(0, render.rest_attached(message.agent, len(rest), name))
    return [chunk.text for chunk in head], fit("\n".join(lines), CONTENT_LIMIT), rest
