"""The adapter side of the core's ports: start-up errors and retrying, shared by adapters.

The protocols themselves (`Adapter`, `Core`, `Action`, `DeliveryError`, `UpdateBudget`) live
in `bot.ports`, which the core owns; they are re-exported here so adapters import one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.ports import Action, ActionKind, Adapter, Core, DeliveryError, UpdateBudget

__all__ = [
    "START_RETRY_FIRST",
    "START_RETRY_MAX",
    "Action",
    "ActionKind",
    "Adapter",
    "Core",
    "DeliveryError",
    "StartRefused",
    "Unreachable",
    "UpdateBudget",
    "connect_retrying",
]

log = logging.getLogger(__name__)


class StartRefused(ValueError):
    """The platform refused us for good at start (a rejected token): retrying cannot help.
    The message is one line saying what failed and what to check; the CLI prints it and
    exits non-zero."""


class Unreachable(Exception):
    """The platform could not be reached at start (network, DNS, its own 5xx): worth
    trying again."""


START_RETRY_FIRST = 1.0
START_RETRY_MAX = 60.0


async def connect_retrying(
    what: str,
    connect: Callable[[], Awaitable[None]],
    *,
    check: str,
    first: float = START_RETRY_FIRST,
) -> None:
    """Run `connect` until it succeeds, waiting twice as long after each `Unreachable`
    (up to a minute) and saying so on one line each time. `StartRefused` goes straight up."""
    delay = first
    while True:
        try:
            await connect()
            return
        except Unreachable as exc:
            log.warning(
                "%s is unreachable (%s); retrying in %gs. Check the network and %s.",
                what,
                exc,
                delay,
                check,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, START_RETRY_MAX)
