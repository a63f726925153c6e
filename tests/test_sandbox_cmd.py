"""`cutover sandbox` as a newcomer runs it: a subprocess, a URL printed, the demo seeded, Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.harness import free_port


def _spawn(tmp_path: Path, *args: str, stderr: int = subprocess.STDOUT) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)
    # Its own process group, so the test can press Ctrl-C the way a terminal does: to the whole group.
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = _spawn(tmp_path, *args)
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if m := re.search(r"Cutover sandbox: (http://127\.0\.0\.1:\d+/)", line):
            lines.append(proc.stdout.readline())  # the hint follows the URL
            return proc, m.group(1), lines
    proc.kill()
    raise AssertionError("no URL printed:\n" + "".join(lines))


def _interrupt(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=40)
    return out


def _app_url(lines: list[str]) -> str:
    """The app's own URL, from the log the sandbox names (uvicorn prints where it listens)."""
    log = Path(re.search(r"The app's log: (\S+)\. ", lines[-1]).group(1))  # type: ignore[union-attr]
    found = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
    assert found, log.read_text()
    return found.group(0)


def test_sandbox_demo_starts_seeds_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc, url, lines = _start(tmp_path, "--demo", "--demo-factor", "100000", "--port", str(port))
    try:
        assert url == f"http://127.0.0.1:{port}/"
        assert "Ctrl-C" in lines[-1] and "switch people" in lines[-1]
        app = _app_url(lines)
        assert httpx.get(app + "/healthz", timeout=5).status_code == 200
        assert "<title>Cutover sandbox</title>" in httpx.get(url, timeout=5).text
        # The seeded rehearsal is in the release channel, as the Project Manager sees it.
        state = httpx.get(url + "api/state", params={"user": "UPM"}, timeout=5).json()
        channels = json.dumps(state)
        assert "payroll-migration" in channels and "business-users" in channels and "it-ops" in channels
        channel = httpx.get(url + "api/channel", params={"user": "UPM", "channel": "CPAYROLL"}, timeout=5).json()
        shown = json.dumps(channel)
        assert "REL-1" in shown and "Rehearsal" in shown
        # Its plan plays: the first REHEARSAL announcement arrives within seconds at 100000×.
        deadline = time.monotonic() + 30
        while "REHEARSAL" not in shown and time.monotonic() < deadline:
            time.sleep(0.5)
            channel = httpx.get(url + "api/channel", params={"user": "UPM", "channel": "CPAYROLL"}, timeout=5).json()
            shown = json.dumps(channel)
        assert "REHEARSAL" in shown
    finally:
        out = _interrupt(proc)
    assert proc.returncode == 0, out
    assert "Stopping" in out and "Traceback" not in out
    # The app went with it, although Ctrl-C reached only the sandbox's own process group.
    with pytest.raises(httpx.HTTPError):
        httpx.get(app + "/healthz", timeout=2)
    # The throw-away database and log went with it; nothing was left in the working directory.
    assert not list(tmp_path.glob("cutover-sandbox-*"))
    assert not list(tmp_path.glob("*.db"))


def test_ctrl_c_while_starting_stops_cleanly(tmp_path: Path) -> None:
    proc = _spawn(tmp_path, "--demo", "--port", str(free_port()), stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert "Starting" in proc.stdout.readline()
    time.sleep(0.5)  # the app is booting: not healthy yet
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=40)
    assert proc.returncode == 130, out + err
    assert "Stopped before the sandbox was ready" in err and "Traceback" not in err + out
    assert not list(tmp_path.glob("cutover-sandbox-*"))


def test_sandbox_refuses_a_taken_port_clearly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"{port}" in proc.stderr and "port" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_sandbox_rejects_a_bad_demo_factor(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "sandbox", "--demo", "--demo-factor", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--demo-factor" in proc.stderr and "2 to 1,000,000" in proc.stderr
