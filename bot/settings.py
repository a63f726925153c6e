"""Settings from the environment or `.env` (the table in README.md, "Settings")."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.workhours import WorkHours, parse_days, parse_hours

# pydantic reports field names; people set environment variables.
ENV_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "slack_timeout": "SLACK_TIMEOUT",
    "database_url": "DATABASE_URL",
    "host": "HOST",
    "port": "PORT",
    "slash_command": "SLASH_COMMAND",
    "log_level": "LOG_LEVEL",
    "log_format": "LOG_FORMAT",
    "run_scheduler": "RUN_SCHEDULER",
    "auto_migrate": "AUTO_MIGRATE",
    "scheduler_tick": "SCHEDULER_TICK",
    "announcement_grace": "ANNOUNCEMENT_GRACE",
    "metrics_port": "METRICS_PORT",
    "work_hours": "WORK_HOURS",
    "work_days": "WORK_DAYS",
    "templates_dir": "TEMPLATES_DIR",
    "default_template": "DEFAULT_TEMPLATE",
}


class DatabaseSettings(BaseSettings):
    """What `cutover db upgrade` needs: no Slack tokens."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///cutover.db"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if not v.startswith(("sqlite:", "postgres://", "postgresql:", "postgresql+")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return v


class TemplateSettings(BaseSettings):
    """Where templates come from: what `cutover template` needs, and every command that runs the app."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    templates_dir: Path | None = None  # every *.yaml in it is a template, besides the built-in ones
    default_template: str = "caf-migration-release"  # preselected in the new-release form and for `new`

    @field_validator("templates_dir", mode="before")
    @classmethod
    def _templates_dir_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v


class Settings(DatabaseSettings, TemplateSettings):
    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout: int = Field(10, ge=1, le=120)  # seconds for one Web API call
    host: str = "0.0.0.0"
    port: int = Field(3000, ge=1, le=65535)
    slash_command: str = "/release"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    run_scheduler: bool = True
    auto_migrate: bool = True
    scheduler_tick: float = Field(1.0, gt=0, le=60)  # seconds between looks for due announcements
    announcement_grace: int = Field(3600, ge=0)  # seconds: later than this after its time, a send is missed
    metrics_port: int | None = Field(None, ge=1, le=65535)  # where `worker` serves /healthz and /metrics
    work_hours: str = "09:00-17:00"  # when nudges may reach a person, in their own zone
    work_days: str = "mon-fri"

    @field_validator("work_hours")
    @classmethod
    def _work_hours(cls, v: str) -> str:
        parse_hours(v)
        return v.strip()

    @field_validator("work_days")
    @classmethod
    def _work_days(cls, v: str) -> str:
        parse_days(v)
        return v.strip().lower()

    @property
    def hours(self) -> WorkHours:
        start, end = parse_hours(self.work_hours)
        return WorkHours(start, end, parse_days(self.work_days))

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("slash_command")
    @classmethod
    def _command(cls, v: str) -> str:
        if not v.startswith("/") or len(v) < 2 or " " in v:
            raise ValueError("must look like /release")
        return v

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_port_unset(cls, v: object) -> object:
        # METRICS_PORT= (empty, as some env files leave it) means no port, not a malformed one.
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


S = TypeVar("S", bound=DatabaseSettings)


class SettingsError(Exception):
    """A start-up problem with the settings, already phrased for a person."""


def describe(error: ValidationError) -> str:
    # Never str(error): it echoes raw input values, secrets included.
    parts = []
    for e in error.errors(include_input=False, include_url=False):
        field = str(e["loc"][0]) if e["loc"] else "settings"
        name = ENV_NAMES.get(field, field.upper())
        msg = "is required but not set" if e["type"] == "missing" else str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{name} {msg}")
    return "; ".join(parts)


def load_settings(cls: type[S] = Settings, **overrides: object) -> S:  # type: ignore[assignment]
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise SettingsError(f"Configuration error: {describe(e)}") from None


def exit_on_settings_error(err: SettingsError) -> None:
    print(str(err), file=sys.stderr)
    raise SystemExit(2)
