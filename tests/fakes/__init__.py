"""Stand-ins for the services Dispatch talks to, plus the clients tests play against it."""

from __future__ import annotations

import asyncio

PARTIAL_REQUESTS = {
    "headers never finished": b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: a",
    "body never finished": (
        b"POST /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"status": '
    ),
}
"""What a slow or stalled client sends before it goes quiet (and never sends the rest)."""


async def sent_and_left_open(port: int, data: bytes, *, wait: float = 30.0) -> bytes:
    """Send `data` to 127.0.0.1:`port`, then nothing more; return what the server answered
    once it closed the connection. A server that never closes it fails the test (`wait`)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(wait):
            return await reader.read()  # until the server closes the connection
    finally:
        writer.close()
