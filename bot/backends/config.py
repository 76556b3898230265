"""The manifest's `backend:` blocks, one model per kind of agent.

Secrets (tokens, header values) may be written as `${ENV_VAR}` so the manifest itself
holds none; they are kept as `SecretStr`, so they never print or log.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from 90, 1.5, "90s", "10m", "2h" or "500ms"."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 300, '90s' or '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError("must be a duration such as 300, '90s' or '10m'")
        unit = match.group(2) or "s"
        seconds = float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


SECRET_ENV_NAMES: set[str] = set()
"""Environment variables a loaded manifest took a secret from (`${NAME}` in a token, a header
or an `env:` value). Command agents never inherit them (they may still name one in `env:`)."""


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A manifest duration: seconds, or "90s", "10m", "2h"."""


def expand_env(value: str, *, secret: bool = False) -> str:
    """Replace ${NAME} with the environment variable; a missing one is an error.

    `secret`: the names are remembered in SECRET_ENV_NAMES, so no command agent inherits them.
    """

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"refers to ${{{name}}}, which is not set in the environment")
        if secret:
            SECRET_ENV_NAMES.add(name)
        return os.environ[name]

    return _ENV.sub(lookup, value)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def _gateway_url(value: str) -> str:
    if not re.match(r"^(https?|wss?)://[^\s/]+", value):
        raise ValueError("must be an http(s):// or ws(s):// URL")
    return value.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _insecure(url: str) -> bool:
    """A plain http:// or ws:// URL to another machine: a token sent there can be read."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "ws") and not is_loopback(parts.hostname or "")


_INSECURE = (
    "would be sent over plain {scheme}:// to {host}, another machine, where anyone on the way"
    " can read it; use {secure}://, or set allow_insecure: true"
)


def _refuse_insecure(url: str | None, allow: bool) -> None:
    if url is None or allow or not _insecure(url):
        return
    parts = urlsplit(url)
    secure = "https" if parts.scheme == "http" else "wss"
    raise ValueError(_INSECURE.format(scheme=parts.scheme, host=parts.hostname, secure=secure))


def _secret(value: Any) -> Any:
    return expand_env(value, secret=True) if isinstance(value, str) else value


def _secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _secret(v) for k, v in value.items()}
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DETACH_AFTER = 5.0
"""Default seconds an A2A task may hold its stream before it is followed by push or polling."""


class A2ABackendConfig(_Strict):
    """An agent speaking A2A; its card is at <url>/.well-known/agent-card.json."""

    kind: Literal["a2a"]
    url: str
    detach_after: Duration = DETACH_AFTER
    """How long a running task keeps its result stream open. A task still running then is
    followed by push notifications if the agent's card offers them (GetTask on each push),
    else by polling GetTask every 1 s backing off to 10 s."""

    def where(self) -> str:
        return self.url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class _GatewayAccess(_Strict):
    """Where an OpenClaw gateway is and how to sign in to it."""

    url: str
    """The gateway, e.g. http://127.0.0.1:18789 (ws:// and wss:// are accepted too)."""
    allow_insecure: bool = False
    """Send the token over plain http:// or ws:// to another machine (refused otherwise)."""
    token: SecretStr | None = None
    """The gateway token; write it as ${OPENCLAW_GATEWAY_TOKEN} to keep it out of the file."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _gateway_url(value)

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        return _secret(value)

    @field_validator("token")
    @classmethod
    def _token_secure(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            _refuse_insecure(info.data.get("url"), bool(info.data.get("allow_insecure")))
        return value


class OpenClawBackendConfig(_GatewayAccess):
    """One agent behind an OpenClaw gateway (WebSocket protocol, HTTP fallback)."""

    kind: Literal["openclaw"]
    agent: str = Field(min_length=1)
    """The OpenClaw agent id (its main session is agent:<agent>:main)."""
    endpoint: Literal["auto", "ws", "responses", "chat"] = "auto"
    """auto: the WebSocket protocol, falling back to /v1/responses, then /v1/chat/completions."""
    wait_ms: int = Field(default=30_000, ge=1_000, le=600_000)
    """How long one agent.wait call waits before asking again (the run keeps going)."""
    device: bool = False
    """Sign in as a paired device (an Ed25519 key kept beside the database). Needed for a
    gateway on another host; approve it once with `openclaw devices approve`."""

    def where(self) -> str:
        return f"{self.url} agent {self.agent}"


class CommandSessionConfig(_Strict):
    """How a CLI agent resumes its own conversation across runs."""

    capture_json: str | None = None
    """A (dotted) field of the first run's JSON stdout holding the session id."""
    capture_pattern: str | None = None
    """Or a regular expression over stdout whose first group is the session id."""
    resume_argv: list[str] = Field(min_length=1)
    """The argv for later runs; an element "{session_id}" is replaced by the captured id."""

    @model_validator(mode="after")
    def _one_capture(self) -> CommandSessionConfig:
        if bool(self.capture_json) == bool(self.capture_pattern):
            raise ValueError("give exactly one of capture_json or capture_pattern")
        if self.capture_pattern:
            try:
                if re.compile(self.capture_pattern).groups < 1:
                    raise ValueError("capture_pattern needs a capturing group for the session id")
            except re.error as exc:
                raise ValueError(
                    f"capture_pattern is not a valid regular expression: {exc}"
                ) from None
        return self


class CommandBackendConfig(_Strict):
    """A command-line agent, run without a shell."""

    kind: Literal["command"]
    argv: list[str] = Field(min_length=1)
    """The program and its arguments. An element that is exactly "{brief}" is replaced by the
    brief (input: arg); nothing else is substituted, so user text never becomes a flag."""
    input: Literal["stdin", "arg"] = "stdin"
    cwd: str | None = None
    """The working directory (~ expands). Without it each agent gets a directory of its own
    beside the database (never the directory that holds the database and keys)."""
    env: dict[str, SecretStr] = Field(default_factory=dict)
    """Extra environment variables (values may use ${NAME}); always passed as written."""
    pass_env: list[str] = Field(default_factory=list)
    """Names of Dispatch's environment variables to pass on, besides the basic ones (PATH,
    HOME, LANG, LC_*, TZ, TERM, USER, LOGNAME, SHELL, TMPDIR)."""
    inherit_env: bool = False
    """Pass Dispatch's whole environment instead. Dispatch's own secrets are withheld anyway:
    DISPATCH_*, SLACK_*, DISCORD_*, OPENAI_*, ANTHROPIC_*, OPENCLAW_* and every variable a
    manifest takes a token or header from."""
    max_output: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    """Bytes of stdout kept; a run that prints more fails with a clear message."""
    result_json: str | None = None
    """If stdout is JSON, the (dotted) field holding the result text."""
    session: CommandSessionConfig | None = None

    def where(self) -> str:
        return " ".join(self.argv[:1]) + (f" (in {self.cwd})" if self.cwd else "")

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        return _secrets(value)

    @model_validator(mode="after")
    def _brief_placeholder(self) -> CommandBackendConfig:
        if self.input == "arg" and "{brief}" not in self.argv:
            raise ValueError('input: arg needs an argv element that is exactly "{brief}"')
        if self.input == "arg" and self.session and "{brief}" not in self.session.resume_argv:
            raise ValueError('input: arg needs "{brief}" in session.resume_argv too')
        return self


class HTTPBackendConfig(_Strict):
    """An agent behind a plain HTTP endpoint (see README: the HTTP agent contract)."""

    kind: Literal["http"]
    url: str
    allow_insecure: bool = False
    """Send the headers over plain http:// to another machine (refused otherwise)."""
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    """Sent with every request (values may use ${NAME}); never logged."""
    request_timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds to wait for the HTTP answer itself (a 202 hands off to the callback)."""

    def where(self) -> str:
        return self.url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        return _secrets(value)

    @field_validator("headers")
    @classmethod
    def _headers_secure(
        cls, value: dict[str, SecretStr], info: ValidationInfo
    ) -> dict[str, SecretStr]:
        if value:
            _refuse_insecure(info.data.get("url"), bool(info.data.get("allow_insecure")))
        return value


BackendConfig = Annotated[
    A2ABackendConfig | OpenClawBackendConfig | CommandBackendConfig | HTTPBackendConfig,
    Field(discriminator="kind"),
]


class GatewayDiscovery(_GatewayAccess):
    """An OpenClaw gateway whose agents join the roster on their own (`discover: true`)."""

    kind: Literal["openclaw"] = "openclaw"
    discover: bool = True
    session: Literal["persistent", "disposable"] = "persistent"
    timeout: Duration = 600.0
    exclude: list[str] = Field(default_factory=list)
    """Gateway agent ids not to add."""
