"""One settings object: DISPATCH_* environment variables, overridden by command-line flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", populate_by_name=True)

    db: Path = Field(default=Path("dispatch.db"), description="SQLite database file")
    fleet: Path | None = Field(default=None, description="fleet manifest (YAML)")
    soul: Path | None = Field(default=None, description="the dispatcher's charter (SOUL.md)")
    log_level: str = "WARNING"
    max_message_chars: int = Field(default=40_000, description="longer messages are refused")
    history_limit: int = Field(default=12, description="thread messages given to each brief")
    board_interval: float = Field(
        default=1.0, description="seconds between live status-board refreshes (coalesced)"
    )
    admins: str = Field(
        default="", description="comma-separated user ids who may cancel or retry anyone's work"
    )

    # -- HTTP agent callbacks ---------------------------------------------------------------
    callback_host: str = Field(default="127.0.0.1", description="where HTTP agents call back")
    callback_port: int = Field(default=0, description="callback port (0: any free port)")
    callback_url: str | None = Field(
        default=None, description="public base URL of the callback endpoint, if proxied"
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

    @property
    def admin_ids(self) -> set[str]:
        return split_ids(self.admins)

    def soul_path(self) -> Path:
        """SOUL.md from the setting, else the working directory, else the one shipped here."""
        if self.soul is not None:
            return self.soul
        local = Path("SOUL.md")
        return local if local.exists() else PROJECT_ROOT / "SOUL.md"


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
