import subprocess
import sys

import pytest

from bot.settings import DatabaseSettings, Settings, SettingsError, load_settings

SECRET = "xoxb-very-secret-value-123"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "PORT",
        "HOST",
        "SLASH_COMMAND",
        "LOG_LEVEL",
        "RUN_SCHEDULER",
        "AUTO_MIGRATE",
        "METRICS_PORT",
        "WORK_HOURS",
        "WORK_DAYS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET)
    s = load_settings(Settings)
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.database_url == "sqlite:///cutover.db"
    assert (s.port, s.slash_command, s.log_level, s.run_scheduler, s.auto_migrate) == (
        3000,
        "/release",
        "INFO",
        True,
        True,
    )
    assert s.metrics_port is None


def test_overrides_and_normalisation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("RUN_SCHEDULER", "false")
    s = load_settings(Settings)
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.database_url == "postgres://u@h/db"
    assert s.log_level == "DEBUG"
    assert s.run_scheduler is False


def test_metrics_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRET)
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert load_settings(Settings).metrics_port == 9100
    monkeypatch.setenv("METRICS_PORT", "")  # left empty in an env file: no port
    assert load_settings(Settings).metrics_port is None


def test_dotenv_with_unrelated_keys(tmp_path) -> None:
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={SECRET}\nUNRELATED=1\nPORT=4000\n")
    s = load_settings(Settings)
    assert s.port == 4000


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "SLACK_BOT_TOKEN is required but not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"),
        ({"SLACK_BOT_TOKEN": SECRET, "PORT": "abc"}, "PORT Input should be a valid integer"),
        ({"SLACK_BOT_TOKEN": SECRET, "PORT": "70000"}, "PORT Input should be less than or equal to 65535"),
        ({"SLACK_BOT_TOKEN": SECRET, "DATABASE_URL": "mysql://x"}, "DATABASE_URL must be a sqlite:///"),
        ({"SLACK_BOT_TOKEN": SECRET, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
        ({"SLACK_BOT_TOKEN": SECRET, "SLASH_COMMAND": "release"}, "SLASH_COMMAND must look like /release"),
        ({"SLACK_BOT_TOKEN": SECRET, "SLACK_APP_TOKEN": "xoxb-x"}, "SLACK_APP_TOKEN must be an app-level token"),
        ({"SLACK_BOT_TOKEN": SECRET, "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"SLACK_BOT_TOKEN": SECRET, "METRICS_PORT": "prom"}, "METRICS_PORT Input should be a valid integer"),
        ({"SLACK_BOT_TOKEN": SECRET, "METRICS_PORT": "0"}, "METRICS_PORT Input should be greater than or equal to 1"),
        (
            {"SLACK_BOT_TOKEN": SECRET, "WORK_HOURS": "9-5"},
            "WORK_HOURS `9-5` is not a span of hours",
        ),
        ({"SLACK_BOT_TOKEN": SECRET, "WORK_DAYS": "weekdays"}, "WORK_DAYS `weekdays` is not a list of days"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings(Settings)
    assert expected in str(err.value)
    assert "xoxp-user-token" not in str(err.value)


def test_database_settings_need_no_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert load_settings(DatabaseSettings).database_url == "sqlite:///x.db"


def test_serve_without_settings_exits_2_with_one_line(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == ["Configuration error: SLACK_BOT_TOKEN is required but not set"]


def test_serve_needs_signing_secret_and_never_echoes_token(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SLACK_BOT_TOKEN": SECRET}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "SLACK_SIGNING_SECRET is required" in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_every_setting_is_named_and_documented() -> None:
    from pathlib import Path

    from bot.settings import ENV_NAMES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    settings_table = readme[readme.index("## Settings") :].split("\n## ", 1)[0]
    for field in Settings.model_fields:
        assert field in ENV_NAMES, field
        assert f"`{ENV_NAMES[field]}`" in settings_table, ENV_NAMES[field]
