import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from bot.manifest import PLACEHOLDER_URL, render

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "fixtures" / "manifest.schema.1.0.0.json"


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


def test_help_lists_every_command() -> None:
    out = run("--help").stdout
    for name in ("serve", "socket", "worker", "db", "manifest"):
        assert name in out


def test_manifest_file_is_the_rendered_manifest() -> None:
    assert (ROOT / "manifest.yml").read_text() == render(PLACEHOLDER_URL)


def test_manifest_validates_against_slack_schema() -> None:
    import json

    schema = json.loads(SCHEMA.read_text())
    doc = yaml.safe_load((ROOT / "manifest.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    cmd = doc["features"]["slash_commands"][0]
    assert cmd["command"] == "/release" and cmd["should_escape"] is True
    assert doc["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert "files:write" in doc["oauth_config"]["scopes"]["bot"]  # /release export uploads files


def test_manifest_schema_rejects_a_broken_manifest() -> None:
    import json

    schema = json.loads(SCHEMA.read_text())
    doc = yaml.safe_load(render())
    doc["features"]["slash_commands"][0]["command"] = "release"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc))


def test_manifest_command_fills_in_url() -> None:
    proc = run("manifest", "--url", "https://cutover.acme.test")
    assert proc.returncode == 0
    doc = yaml.safe_load(proc.stdout)
    assert doc["features"]["slash_commands"][0]["url"] == "https://cutover.acme.test/slack/events"
    assert doc["settings"]["interactivity"]["request_url"] == "https://cutover.acme.test/slack/events"


def test_manifest_refuses_plain_http() -> None:
    proc = run("manifest", "--url", "http://insecure")
    assert proc.returncode == 2 and "https://" in proc.stderr


def test_db_upgrade_creates_schema(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    proc = run("db", "upgrade", env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{db}"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master where type='table'")}
    assert {"releases", "checklist_items", "role_assignments", "decisions", "release_messages"} <= tables


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (ROOT / "README.md").read_text()
