"""One settings object: DISPATCH_* environment variables, overridden by command-line flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.backends.config import Duration
from bot.store.base import redacted

if TYPE_CHECKING:  # importing bot.llm loads the model client: only when a model is configured
    from bot.llm.config import LLMConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_SOUL = Path(__file__).with_name("SOUL.md")
"""The package's copy of the checkout's SOUL.md (a test keeps them identical), so an installed
wheel has a charter; in a checkout the top-level file, the one people edit, comes first."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", populate_by_name=True)

    db: str = Field(
        default="dispatch.db",
        description="the database: a SQLite file, or a postgresql:// URL that replicas share",
    )
    state_dir: Path = Field(
        default=Path("."),
        description="with PostgreSQL, the folder for files kept beside the database (agents'"
        " run folders, the callback key: replicas on several hosts need the same key file)",
    )
    replica_dead_after: Duration = Field(
        default=10.0,
        gt=0,
        description="with PostgreSQL, a replica whose heartbeat is older than this is dead and"
        " its work is adopted (seconds, or 10s/1m)",
    )
    fleet: Path | None = Field(default=None, description="fleet manifest (YAML)")
    soul: Path | None = Field(default=None, description="the dispatcher's charter (SOUL.md)")
    log_level: str = "WARNING"
    max_message_chars: int = Field(default=40_000, description="longer messages are refused")
    max_result_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="bytes of an agent's result read and relayed; past it the head is relayed,"
        " marked as cut",
    )
    history_limit: int = Field(default=12, description="thread messages given to each brief")
    board_interval: float = Field(
        default=1.0, description="seconds between live status-board refreshes (coalesced)"
    )
    max_result_messages: int = Field(
        default=5,
        ge=2,
        le=100,
        description="most chat messages one agent result becomes; past it, the first ones are"
        " posted and the rest is attached as a file",
    )
    admins: str = Field(
        default="", description="comma-separated user ids who may cancel or retry anyone's work"
    )

    # -- limits no single user can break --------------------------------------------------
    max_in_flight_per_user: int = Field(
        default=20, ge=0, description="active tasks one user may have; more is refused (0: no cap)"
    )
    max_requests_per_minute: int = Field(
        default=30,
        ge=0,
        description="messages one user may send a minute; more are refused (0: no cap)",
    )
    question_timeout: Duration = Field(
        default=24 * 3600.0,
        gt=0,
        description="an agent's unanswered question lapses after this (seconds, or 90s/10m/24h)",
    )
    retention_days: float = Field(
        default=30, ge=0, description="finished requests are deleted after this many days (0: kept)"
    )
    lessons_per_user: int = Field(
        default=50, ge=1, description="routing corrections kept per user; the oldest go first"
    )

    # -- routing -------------------------------------------------------------------------
    planner: Literal["semantic", "rules"] = Field(
        default="semantic", description="semantic: by meaning (default); rules: words only"
    )
    embeddings: str = Field(
        default="",
        description="embedding model: empty for the shipped one, a local model directory,"
        " or an OpenAI-compatible URL (http…/v1#model)",
    )
    max_tasks: int = Field(default=12, ge=1, le=100, description="most tasks one message may make")
    plan_process: bool = Field(
        default=True,
        description="plan by meaning in a process of its own (another core), so a burst of"
        " messages is acknowledged sooner; off: in this process",
    )

    # -- LLM planner (optional: without provider and model, the rule planner decides) ----
    llm_provider: Literal["openai", "anthropic"] | None = Field(
        default=None, description="LLM planner provider"
    )
    llm_model: str | None = Field(default=None, description="model name, e.g. gpt-4o-mini")
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible (or Anthropic) endpoint URL"
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISPATCH_LLM_API_KEY", "llm_api_key")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    llm_mode: Literal["always", "doubt"] = Field(
        default="always",
        description="always: the model plans all work; doubt: only when the semantic planner"
        " is unsure",
    )
    llm_timeout: float = Field(
        default=10.0, gt=0, description="planning budget (s); then the rule planner decides"
    )

    def llm_config(self) -> LLMConfig | None:
        if not (self.llm_provider and self.llm_model):
            return None
        from bot.llm.config import LLMConfig

        vendor = self.openai_api_key if self.llm_provider == "openai" else self.anthropic_api_key
        return LLMConfig(
            provider=self.llm_provider,
            model=self.llm_model,
            base_url=self.llm_base_url,
            api_key=self.llm_api_key or vendor,
            timeout=self.llm_timeout,
        )

    # -- HTTP agent callbacks ---------------------------------------------------------------
    callback_host: str = Field(default="127.0.0.1", description="where HTTP agents call back")
    callback_port: int = Field(default=0, description="callback port (0: any free port)")
    callback_url: str | None = Field(
        default=None, description="public base URL of the callback endpoint, if proxied"
    )
    listener_timeout: float = Field(
        default=15.0,
        gt=0,
        description="seconds an HTTP listener (callbacks, Slack events) waits for a request's"
        " headers or body, or for the next request on an idle connection",
    )

    # -- metrics and traces (both off by default) ----------------------------------------------
    metrics: bool = Field(
        default=False,
        description="count Prometheus metrics even without a port of their own (another"
        " listener, such as the board, serves them)",
    )
    metrics_port: int = Field(
        default=0, ge=0, le=65535, description="serve /metrics on this port (0: no port)"
    )
    metrics_host: str = Field(default="127.0.0.1", description="where /metrics listens")
    otel: bool = Field(
        default=False,
        description="export OpenTelemetry traces over OTLP (needs the otel extra; the endpoint"
        " is OTEL_EXPORTER_OTLP_ENDPOINT)",
    )
    otel_content: bool = Field(
        default=False,
        description="put what users and agents wrote into span attributes (off: ids, agents,"
        " kinds and states only)",
    )

    @property
    def metrics_enabled(self) -> bool:
        """Metrics are counted when something serves them."""
        return self.metrics or bool(self.metrics_port)

    # -- the web board (`--web`) ------------------------------------------------------------
    web_token: SecretStr | None = Field(
        default=None, description="the token the web board asks for (required by --web)"
    )
    web_host: str = Field(default="127.0.0.1", description="where the web board listens")
    web_port: int = Field(default=8750, ge=0, le=65535, description="web board port (0: any)")
    web_admin: str = Field(
        default="",
        description="the admin id (one of DISPATCH_ADMINS) the board's Cancel and Retry act"
        " as; empty: the board is read-only",
    )

    # -- Slack (tokens are SecretStr: they never print, log or reach the database) -----
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str | None = Field(default=None, description="Slack Web API base URL override")
    slack_allowed_users: str = Field(
        default="", description="comma-separated user ids; empty = all"
    )
    slack_allowed_channels: str = Field(
        default="", description="comma-separated channel ids; empty = all"
    )
    slack_allow_bots: bool = Field(default=False, description="accept requests from other bots")

    # -- Discord ------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    discord_api_url: str | None = Field(
        default=None, description="Discord REST base URL override (…/api/v10)"
    )
    discord_gateway_url: str | None = Field(default=None, description="gateway URL override")
    discord_message_content: bool = Field(
        default=True, description="request the privileged message_content intent"
    )
    discord_allowed_guilds: str = Field(default="", description="comma-separated guild ids")
    discord_allowed_channels: str = Field(default="", description="comma-separated channel ids")
    discord_allowed_roles: str = Field(default="", description="comma-separated role ids")
    discord_allowed_users: str = Field(default="", description="comma-separated user ids")
    discord_allow_bots: bool = Field(default=False, description="accept requests from other bots")

    @field_validator("db", mode="before")
    @classmethod
    def _db_text(cls, value: object) -> object:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @property
    def shared_db(self) -> bool:
        """The database is a server's (PostgreSQL), which replicas may share."""
        return self.db.startswith(("postgresql://", "postgres://"))

    @property
    def db_file(self) -> Path | None:
        return None if self.shared_db else Path(self.db)

    @property
    def db_label(self) -> str:
        """The database, named without a password."""
        return redacted(self.db) if self.shared_db else self.db

    def beside_db(self, suffix: str) -> Path:
        """A file or folder kept beside the database: `dispatch.db` → `dispatch{suffix}`."""
        db = self.db_file
        if db is None:
            return self.state_dir.resolve() / f"dispatch{suffix}"
        return db.resolve().parent / f"{db.stem}{suffix}"

    @property
    def admin_ids(self) -> set[str]:
        return split_ids(self.admins)

    def soul_path(self) -> Path:
        """SOUL.md from the setting, else the working directory, else the checkout's, else the
        one shipped in the package."""
        if self.soul is not None:
            return self.soul
        for candidate in (Path("SOUL.md"), PROJECT_ROOT / "SOUL.md"):
            if candidate.exists():
                return candidate
        return SHIPPED_SOUL


def split_ids(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def load_soul(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the dispatcher charter ({exc.strerror})") from None
    if not text.strip():
        raise ValueError(f"{path}: the dispatcher charter is empty")
    return text
