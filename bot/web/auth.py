"""Who may see the board: the holder of DISPATCH_WEB_TOKEN, and nobody else.

The token comes as a bearer header (scripts, Prometheus) or is typed once into the login
form, which sets a cookie. The cookie holds a value derived from the token (HMAC), never the
token itself, so it cannot be replayed as a bearer token elsewhere, and changing the token
signs every browser out. Comparisons are constant-time.

A POST that changes something (Cancel, Retry) from a browser must carry the CSRF value in a
header as well as the cookie: a page on another site can make the browser send neither (the
cookie is SameSite=Strict, and it cannot read the value to put in the header). A bearer
request carries its credential explicitly, so it needs no CSRF value."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import SecretStr

from bot.settings import Settings

COOKIE = "dispatch_board"
CSRF_HEADER = "X-Dispatch-CSRF"
MIN_TOKEN_CHARS = 16
COOKIE_MAX_AGE = 30 * 24 * 3600


class Credential(Enum):
    NONE = "none"
    BEARER = "bearer"
    COOKIE = "cookie"


def check_settings(settings: Settings) -> None:
    """Refuse a board nobody should run: one without a token, with a guessable one, or one
    acting as somebody who is not an admin. Raises ValueError with one line."""
    token = settings.web_token.get_secret_value() if settings.web_token else ""
    if not token:
        raise ValueError(
            "--web needs DISPATCH_WEB_TOKEN: set it to a long random string, e.g. the output of"
            " `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    if len(token) < MIN_TOKEN_CHARS or token != token.strip():
        raise ValueError(
            f"DISPATCH_WEB_TOKEN is too weak: use at least {MIN_TOKEN_CHARS} characters,"
            " without surrounding spaces"
        )
    admin = settings.web_admin.strip()
    if admin and admin not in settings.admin_ids:
        raise ValueError(
            f"DISPATCH_WEB_ADMIN {admin!r} is not one of DISPATCH_ADMINS: the board's Cancel and"
            " Retry act as that admin, so it must be one"
        )


def _derive(token: str, purpose: str) -> str:
    return hmac.new(
        token.encode(), f"dispatch-board:{purpose}".encode(), hashlib.sha256
    ).hexdigest()


class Auth:
    def __init__(self, token: SecretStr) -> None:
        secret = token.get_secret_value()
        self._token = secret.encode()
        self.cookie_value = _derive(secret, "cookie")
        self.csrf_value = _derive(secret, "csrf")

    def __repr__(self) -> str:
        return "Auth(token=**********)"

    def token_matches(self, offered: str) -> bool:
        return hmac.compare_digest(offered.encode(), self._token)

    def credential(self, request: web.Request) -> Credential:
        """How this request proved it holds the token, if it did."""
        header = request.headers.get("Authorization", "")
        scheme, _, offered = header.partition(" ")
        if scheme.lower() == "bearer" and offered:
            return Credential.BEARER if self.token_matches(offered.strip()) else Credential.NONE
        cookie = request.cookies.get(COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), self.cookie_value.encode()):
            return Credential.COOKIE
        return Credential.NONE

    def may_change(self, request: web.Request, credential: Credential) -> bool:
        """A state-changing POST: a bearer request, or a same-origin browser request that
        carries the CSRF value."""
        if credential is Credential.BEARER:
            return True
        if credential is not Credential.COOKIE or not same_origin(request):
            return False
        offered = request.headers.get(CSRF_HEADER, "")
        return hmac.compare_digest(offered.encode(), self.csrf_value.encode())

    def sign_in(self, response: web.StreamResponse, request: web.Request) -> None:
        response.set_cookie(
            COOKIE,
            self.cookie_value,
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )

    @staticmethod
    def sign_out(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/")


def same_origin(request: web.Request) -> bool:
    """Whether a browser's POST comes from a page of this server. Browsers send `Origin` on
    every POST; a request without it (an old client, curl with a cookie) is let through on
    the other checks."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == request.host
