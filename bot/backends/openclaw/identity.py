"""The device identity Dispatch signs in with, kept apart because it outlives connections.

Current gateways honour operator scopes off loopback only for a paired device, and the
pairing is tied to the key: the key lives in a file and is signed into every handshake.
Signature format from openclaw/openclaw packages/gateway-client/src/device-auth.ts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def device_auth_payload_v3(
    *,
    device_id: str,
    client_id: str,
    client_mode: str,
    role: str,
    scopes: list[str],
    signed_at_ms: int,
    token: str,
    nonce: str,
    platform: str,
    device_family: str,
) -> str:
    """The exact string a device signs (buildDeviceAuthPayloadV3 in gateway-client)."""
    return "|".join(
        [
            "v3",
            device_id,
            client_id,
            client_mode,
            role,
            ",".join(scopes),
            str(signed_at_ms),
            token,
            nonce,
            platform.strip().lower(),
            device_family.strip().lower(),
        ]
    )


class DeviceIdentity:
    """An Ed25519 device key: what current gateways want before they honour operator scopes.

    Device-less token connections are only trusted on direct loopback; elsewhere the
    gateway accepts the token but clears the scopes (docs/gateway/protocol/auth.md), and
    a new device id has to be approved once (`openclaw devices approve`). Keep the key in
    a file (`load_or_create`) so the approval survives restarts.
    """

    def __init__(self, private_key: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if len(private_key) != 32:
            raise ValueError("an Ed25519 private key is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self._raw_private = private_key
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(os.urandom(32))

    @classmethod
    def load_or_create(cls, path: str | Path) -> DeviceIdentity:
        """Read the key from `path`, or create it there (mode 0600)."""
        file = Path(path)
        if file.exists():
            data = json.loads(file.read_text())
            return cls(_b64url_decode(str(data["privateKey"])))
        identity = cls.generate()
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "version": 1,
                    "deviceId": identity.device_id,
                    "publicKey": identity.public_key_b64url,
                    "privateKey": _b64url(identity._raw_private),
                },
                handle,
            )
        return identity

    @property
    def device_id(self) -> str:
        """sha256 of the raw public key, hex (deriveDeviceIdFromPublicKey)."""
        return hashlib.sha256(self.public_key).hexdigest()

    @property
    def public_key_b64url(self) -> str:
        return _b64url(self.public_key)

    def sign(self, payload: str) -> str:
        return _b64url(self._key.sign(payload.encode()))

    def __repr__(self) -> str:
        return f"DeviceIdentity(device_id={self.device_id[:12]}…)"
