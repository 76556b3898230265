"""How Dispatch looks in Slack: Block Kit for the status board, chunks for long results.

Pure functions from core messages to Slack payloads, kept apart from the transport so they
can be read (and tested) on their own.
"""

from __future__ import annotations

import re
from typing import Any

from bot.outbound import AgentBadge, Outbound, safe_url
from bot.render import STATE_ICON, STATE_LABEL, elapsed
from bot.split import head_and_rest, split_text

MARKDOWN_LIMIT = 11_000
"""A markdown block takes 12,000 characters; stay under it with room for fences."""
FALLBACK_LIMIT = 3_000
MAX_BOARD_ROWS = 40
"""Slack allows 50 blocks per message; a board keeps headroom for header and actions."""

ACTIVE = {"waiting", "queued", "running", "input_required"}
RETRYABLE = {"failed", "timed_out", "cancelled", "blocked"}

_SHORTCODES = {
    "💻": ":computer:",
    "🖌️": ":lower_left_paintbrush:",
    "🎨": ":art:",
    "✍️": ":writing_hand:",
    "🐦": ":bird:",
    "🔎": ":mag_right:",
    "🧪": ":test_tube:",
    "🤖": ":robot_face:",
    "📝": ":memo:",
    "📣": ":mega:",
    "🔬": ":microscope:",
    "📊": ":bar_chart:",
}


_SPECIAL = re.compile(r"<!([^|>]*)(?:\|([^>]*))?>")
"""<!channel>, <!here>, <!everyone>, <!subteam^S1|@team>, <!date^…|label>: Slack's commands."""
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_BARE = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
QUIET_AT = "@\u200b"
"""An @ that no client reads as a mention: a zero-width space follows it."""


def neutralise(text: str) -> str:
    """Relayed words must never ping: an agent (or a user it quotes) writing <!channel>,
    <!subteam^…> or <@U…> gets the words shown, not the notification."""
    text = _SPECIAL.sub(
        lambda m: QUIET_AT + (m.group(2) or m.group(1).split("^")[0]).lstrip("@"), text
    )
    text = _USER.sub(lambda m: QUIET_AT + (m.group(2) or m.group(1)).lstrip("@"), text)
    return _BARE.sub(QUIET_AT + r"\1", text)


def escape(text: str) -> str:
    """Dispatch's own words (which quote users) must never ping @channel or forge links."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE.sub(QUIET_AT + r"\1", text)


def identity(agent: AgentBadge) -> dict[str, str]:
    """username + icon for chat:write.customize, so each agent speaks as itself."""
    ident = {"username": agent.name[:80]}
    icon = agent.icon or _SHORTCODES.get(agent.emoji)
    if icon and icon.startswith(("http://", "https://")):
        ident["icon_url"] = icon
    elif icon and icon.startswith(":"):
        ident["icon_emoji"] = icon
    else:
        ident["username"] = f"{agent.emoji} {agent.name}"[:80]
    return ident


def relay_payloads(message: Outbound, max_messages: int = 0) -> tuple[list[dict[str, Any]], str]:
    """An agent's result or question: word for word (mentions neutralised), as markdown,
    split at Slack's limits. With `max_messages`, at most that many posts: past it, the
    first `max_messages - 1` and the text left over, for a file in the last post."""
    text = neutralise(message.text)
    if not text:
        chunks, rest = [""], ""
    elif max_messages:
        head, rest = head_and_rest(text, MARKDOWN_LIMIT, max_messages)
        chunks = [chunk.text for chunk in head]
    else:
        chunks, rest = split_text(text, MARKDOWN_LIMIT), ""
    payloads: list[dict[str, Any]] = []
    for index, chunk in enumerate(chunks):
        blocks: list[dict[str, Any]] = [{"type": "markdown", "text": chunk or " "}]
        if index == len(chunks) - 1 and message.files:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": file_links(message)}}
            )
        payloads.append({"text": chunk[:FALLBACK_LIMIT] or " ", "blocks": blocks})
    return payloads, rest


def file_links(message: Outbound) -> str:
    """An agent's files as mrkdwn links: http(s) only, and nothing in a URL or a name can
    close the link and write into Dispatch's block."""
    lines = []
    for f in message.files:
        url = safe_url(f.url)
        name = escape(neutralise(f.name or "")) or "file"
        lines.append(f"📎 <{escape(url)}|{name.replace('|', '¦')}>" if url else f"📎 {name}")
    return "\n".join(lines)[:2900]


def text_payloads(message: Outbound, permalink: Any = None) -> list[dict[str, Any]]:
    """Dispatch's own words: escaped mrkdwn, split only if it ever grows past the limit."""
    text = escape(message.text)
    if message.items and permalink is not None:
        head = escape(message.text.split("\n", 1)[0])
        lines = [head]
        for item in message.items:
            link = permalink(item.channel, item.thread)
            lines.append(f"• {escape(item.line)} · <{link}|open thread>")
        text = "\n".join(lines)
    return [{"text": chunk} for chunk in split_text(text, 3_900)]


def board_payload(message: Outbound, version: int = 0) -> dict[str, Any]:
    """The acknowledgement with its live status board, and cancel/retry buttons."""
    board = message.board
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": f"ack-{version}",
            "text": {"type": "mrkdwn", "text": escape(message.text)},
        }
    ]
    if board is None:
        return {"text": escape(message.text), "blocks": blocks}
    for index, row in enumerate(board.rows[:MAX_BOARD_ROWS]):
        when = f" · {elapsed(row.elapsed)}" if row.elapsed is not None else ""
        note = f" · {escape(row.note)}" if row.note else ""
        line = (
            f"{STATE_ICON.get(row.state, '•')} *{escape(row.agent.label)}* — {escape(row.summary)}"
            f" · _{STATE_LABEL.get(row.state, row.state)}_{when}{note}"
        )
        block: dict[str, Any] = {
            "type": "section",
            "block_id": f"row-{index}-{version}",
            "text": {"type": "mrkdwn", "text": line[:2900]},
        }
        if row.state in ACTIVE:
            block["accessory"] = _button(
                "Cancel", "dispatch_cancel_task", row.task_id, style="danger"
            )
        elif row.state in RETRYABLE:
            block["accessory"] = _button("Retry", "dispatch_retry_task", row.task_id)
        blocks.append(block)
    hidden = len(board.rows) - MAX_BOARD_ROWS
    if hidden > 0:
        blocks.append(
            _context(f"…and {hidden} more tasks. Ask “status” in this thread for all of them.")
        )
    if any(row.state in ACTIVE for row in board.rows):
        blocks.append(
            {
                "type": "actions",
                "block_id": f"actions-{version}",
                "elements": [
                    _button(
                        "Cancel all", "dispatch_cancel_request", board.request_id, style="danger"
                    )
                ],
            }
        )
    footer = (
        f"Done in {elapsed(board.elapsed)}"
        if board.done
        else f"Running for {elapsed(board.elapsed)}"
    )
    blocks.append(_context(footer))
    return {"text": escape(message.text), "blocks": blocks}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}
