"""OpenClaw backend: one agent behind an OpenClaw gateway.

The modules, each with one reason to exist:
- `backend.py`: the `Backend` itself; which way to reach the gateway; starting runs;
- `runs.py`: following a run to its end, and reconciling it from the session history
  after a gateway restart;
- `client.py`: calls that reconnect and retry across sockets;
- `wire.py`: one WebSocket: the handshake and requests multiplexed by frame id;
- `identity.py`: the device key Dispatch signs the handshake with;
- `http.py`: the fallback through the OpenAI-compatible HTTP endpoints;
- `sessions.py`: session keys, idempotency keys and remote task ids;
- `errors.py`: the wire's exceptions, and each refusal as one sentence.
"""

from bot.backends.openclaw.backend import OpenClawBackend
from bot.backends.openclaw.identity import DeviceIdentity

__all__ = ["DeviceIdentity", "OpenClawBackend"]
