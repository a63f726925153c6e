"""`pip install cutover-bot` with no extras, as a newcomer or a PaaS does, then `cutover sandbox`.

The project is built into a wheel and installed with its runtime dependencies only (resolved by pip
from the package index, as on any install) into a fresh virtual environment, and run from a folder
outside the repository, so nothing of the development environment (pytest, jsonschema, playwright, …)
can stand in for a missing runtime dependency. A real install takes ~20 s here; the module's tests
share it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sandbox.launcher import free_port
from tests.test_timezone_database import check_probe, probe_without_system_zones

pytestmark = pytest.mark.timeout(600)  # the shared install (setup of the first test) reaches the index

REPO_ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("bot", "domain", "storage", "messages", "sandbox")
# Only ever in the `dev` extra: the app must never import these at run time.
DEV_ONLY = ("pytest", "_pytest", "pytest_asyncio", "pytest_timeout", "jsonschema", "playwright", "mypy", "ruff")
INSTALL_TIMEOUT = 480


@dataclass(frozen=True)
class PlainInstall:
    python: Path
    cutover: Path
    workdir: Path  # outside the repository, so the source tree is not importable from there
    seconds: float


def _env(**extra: str) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SLACK_")}
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


def _run(args: list[str | Path], cwd: Path, timeout: float = INSTALL_TIMEOUT) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _copy_source(dest: Path) -> None:
    """What the distribution is built from, without build leftovers or bytecode of this checkout."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for package in OUR_PACKAGES:
        shutil.copytree(REPO_ROOT / package, dest / package, ignore=ignore)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainInstall]:
    root = tmp_path_factory.mktemp("plain-install")
    _copy_source(root / "src")
    started = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", root / "dist", root / "src"], cwd=root)
    (wheel,) = (root / "dist").glob("cutover_bot-*.whl")
    venv.EnvBuilder(with_pip=True, clear=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", wheel], cwd=root)  # no extras: runtime dependencies only
    seconds = time.monotonic() - started
    print(f"\nplain install (wheel, venv, pip install): {seconds:.1f} s")
    workdir = root / "work"
    workdir.mkdir()
    yield PlainInstall(python=python, cutover=root / "venv" / "bin" / "cutover", workdir=workdir, seconds=seconds)


# Every import statement of the installed packages, at any depth (lazy imports inside functions too),
# must resolve in the plain install; the dev-only tools must be absent from it (else the check is moot).
CHECK_IMPORTS = """
import ast, importlib, importlib.util, json, pkgutil, sys
from pathlib import Path

ours, dev_only = json.loads(sys.argv[1])
missing, failed, files = {}, {}, 0
for name in ours:
    package = importlib.import_module(name)
    root = Path(package.__file__).parent
    assert "site-packages" in str(root), f"{name} imported from {root}, not from the install"
    for path in sorted(root.rglob("*.py")):
        files += 1
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Imports only a type checker follows (under `if TYPE_CHECKING:`) do not run.
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for statement in node.body
            for inner in ast.walk(statement)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ours or top == "__future__":
                    continue
                if importlib.util.find_spec(top) is None:
                    missing.setdefault(top, []).append(str(path.relative_to(root.parent)))
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        try:
            importlib.import_module(info.name)
        except Exception as e:
            failed[info.name] = repr(e)
present = [m for m in dev_only if importlib.util.find_spec(m) is not None]
print(json.dumps({"missing": missing, "failed": failed, "dev_present": present, "files": files}))
"""


def test_the_installed_app_imports_nothing_that_only_dev_installs(plain: PlainInstall) -> None:
    argument = json.dumps([OUR_PACKAGES, DEV_ONLY])
    result = json.loads(_run([plain.python, "-c", CHECK_IMPORTS, argument], cwd=plain.workdir, timeout=120))
    assert result["dev_present"] == [], "the install was not a plain one"
    assert result["files"] > 50
    assert result["missing"] == {}, f"imported at run time but not a runtime dependency: {result['missing']}"
    assert result["failed"] == {}, f"modules that do not import after a plain install: {result['failed']}"


def test_time_zones_work_after_a_plain_install_without_a_system_database(plain: PlainInstall, tmp_path: Path) -> None:
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    check_probe(probe_without_system_zones(str(plain.python), empty, cwd=plain.workdir), empty)


def test_cutover_sandbox_runs_after_a_plain_install_and_stops_on_ctrl_c(plain: PlainInstall) -> None:
    port = free_port()
    run_dir = plain.workdir / "sandbox"
    run_dir.mkdir()
    # Its own process group, so Ctrl-C goes to the whole group, as a terminal sends it.
    proc = subprocess.Popen(
        [str(plain.cutover), "sandbox", "--port", str(port)],
        cwd=run_dir,
        env=_env(TMPDIR=str(run_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"Cutover sandbox: (http://127\.0\.0\.1:\d+/)", line):
                url = m.group(1)
        assert url == f"http://127.0.0.1:{port}/", "no URL printed:\n" + "".join(lines)
        with httpx.Client(base_url=url, timeout=10) as http:
            assert "<title>Cutover sandbox</title>" in http.get("/").text
            state = http.get("/api/state").json()
            me, channel = state["me"]["id"], state["default_channel"]
            # A release through the page: the driver, the app, its database and time parsing all run.
            day = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
            said = http.post(
                "/api/slash",
                json={"user": me, "channel": channel, "text": f"/release new Payroll --cutover {day} 22:00"},
            )
            assert said.status_code == 200 and said.json()["known"], said.text
            shown = ""
            deadline = time.monotonic() + 30
            while "Created" not in shown and time.monotonic() < deadline:
                time.sleep(0.3)
                shown = http.get("/api/channel", params={"user": me, "channel": channel}).text
            assert "Created" in shown and "REL-1" in shown, shown[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rest, _ = proc.communicate()
        out = "".join(lines) + rest
    assert proc.returncode == 0, out
    assert "Stopping" in out and "Traceback" not in out, out
    assert not list(run_dir.glob("cutover-sandbox-*")), "the throw-away database and log were left behind"
