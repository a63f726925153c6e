# ruff: noqa: E501  (the exact messages people read are kept whole)
"""`cutover template …` and the start-up check of TEMPLATES_DIR, as a person runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.test_template_errors import BASE

BROKEN = BASE.replace("approvers: [dba]", "approvers: [ciso]").replace("due: -7d", "due: soon")
BROKEN_ERRORS = [
    "broken.yaml:20:14 phases[0].items[0].due: `soon` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
    'broken.yaml:25:21 phases[0].items[1].approvers[0]: unknown role "ciso"; declare it under roles:',
]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "TEMPLATES_DIR"))}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, env=base, cwd=cwd
    )


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    d = tmp_path / "templates"
    d.mkdir()
    (d / "payroll.yaml").write_text(BASE.replace("key: payroll\n", "key: payroll\n", 1))
    return d


@pytest.fixture
def bad_dir(good_dir: Path) -> Path:
    (good_dir / "broken.yaml").write_text(BROKEN)
    (good_dir / "misnamed.yaml").write_text(BASE)
    (good_dir / "notes.txt").write_text("not a template: only *.yaml files are read")
    return good_dir


def test_list_shows_builtins_and_templates_dir(good_dir: Path) -> None:
    proc = run("template", "list", env={"TEMPLATES_DIR": str(good_dir)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "caf-migration-release",
        "database-migration",
        "payroll",
        "small-change",
    ]
    assert "(built-in, default)" in lines[0]
    assert "payroll  v1.0  (TEMPLATES_DIR)" in lines[2]


def test_show_describes_a_template() -> None:
    proc = run("template", "show", "caf-migration-release")
    assert proc.returncode == 0
    assert proc.stdout.startswith("caf-migration-release v1.0: CAF migration release\n")
    assert "  project-manager (pm): Project Manager" in proc.stdout
    assert "-3d  bt.signoff: Sign off business testing" in proc.stdout
    assert "scope-bound" in proc.stdout
    missing = run("template", "show", "payrol")
    assert missing.returncode == 2 and "payrol is not a template; templates: caf-migration-release" in missing.stderr


def test_validate_prints_every_error_with_its_place(tmp_path: Path) -> None:
    good = tmp_path / "payroll.yaml"
    good.write_text(BASE)
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN)
    ok = run("template", "validate", str(good))
    assert ok.returncode == 0
    assert ok.stdout == f"{good}: valid (payroll v1.0: 3 items, 2 gates, 2 roles)\n"
    proc = run("template", "validate", str(good), str(bad), str(tmp_path / "none.yaml"))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        *(f"{tmp_path}/{line}" for line in BROKEN_ERRORS),
        f"{tmp_path / 'none.yaml'}: no such file",
    ]


def test_validate_refuses_a_key_that_is_not_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "payroll-v2.yaml"
    path.write_text(BASE)
    proc = run("template", "validate", str(path))
    assert proc.returncode == 1
    assert 'the template\'s key is "payroll" but the file is payroll-v2.yaml; name the file payroll.yaml' in proc.stderr


def test_schema_is_json_schema_that_accepts_the_shipped_templates(tmp_path: Path) -> None:
    proc = run("template", "schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    root = Path(__file__).resolve().parents[1] / "domain" / "templates"
    for path in root.glob("*.yaml"):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text()))), path.name
    assert list(validator.iter_errors(yaml.safe_load(BROKEN.replace("kind: text", "kind: essay"))))


START_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "secret",
    "SLACK_APP_TOKEN": "xapp-test",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
}


@pytest.mark.parametrize("command", ["serve", "socket", "worker", "sandbox"])
def test_app_refuses_to_start_with_an_invalid_templates_dir(command: str, bad_dir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'never.db'}"
    proc = run(command, env={**START_ENV, "TEMPLATES_DIR": str(bad_dir), "DATABASE_URL": db})
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0] == f"cutover {command}: refusing to start: 3 template problem(s) in TEMPLATES_DIR {bad_dir}"
    assert lines[1:] == [
        *BROKEN_ERRORS,
        'misnamed.yaml:1:1 key: the template\'s key is "payroll" but the file is misnamed.yaml; name the file payroll.yaml',
    ]
    assert not (tmp_path / "never.db").exists()  # nothing ran: not even the migrations


def test_app_refuses_an_unknown_default_template(good_dir: Path, tmp_path: Path) -> None:
    env = {**START_ENV, "TEMPLATES_DIR": str(good_dir), "DEFAULT_TEMPLATE": "payrol"}
    proc = run("worker", env={**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.db'}"})
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[1] == (
        "DEFAULT_TEMPLATE is payrol, which is not a template; templates: "
        "caf-migration-release, database-migration, payroll, small-change"
    )


def test_templates_dir_that_is_not_a_directory(tmp_path: Path) -> None:
    proc = run("template", "list", env={"TEMPLATES_DIR": str(tmp_path / "nope")})
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope'}: TEMPLATES_DIR is not a directory" in proc.stderr
