"""`Sandbox`: the stand-in, a seeded team, the real app as a subprocess, and the browser page.

The app runs as its own process (never imported) so the sandbox exercises exactly what
`cutover serve` does in production: settings from the environment, signed requests, its own loop.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from sandbox.driver import SlackDriver
from sandbox.page import PageServer
from sandbox.team import Team, seed
from sandbox.webapi import SlackStandIn

DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot.cli", "serve")
DEFAULT_DATABASE_URL = "sqlite:///cutover-sandbox.db"
DEFAULT_LOG = Path("cutover-sandbox.log")
HEALTH_TIMEOUT = 60.0
STOP_GRACE = 20.0
LOG_TAIL_LINES = 40

_T = TypeVar("_T")


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says why and what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class Sandbox:
    """Starts everything on ``start()`` (or ``with``) and tears it down on ``stop()``.

    ``command`` runs the app; ``database_url`` is handed to it as DATABASE_URL; its stdout and
    stderr go to ``log_path``; ``env`` adds to (and overrides) the app's environment. ``port`` is
    the page's port (0 picks a free one). ``cwd`` is the app's working directory.
    """

    def __init__(
        self,
        *,
        command: Sequence[str] = DEFAULT_COMMAND,
        database_url: str = DEFAULT_DATABASE_URL,
        log_path: Path | str = DEFAULT_LOG,
        port: int = 8080,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        slash_command: str = "/release",
        health_timeout: float = HEALTH_TIMEOUT,
    ) -> None:
        self.command = list(command)
        self.database_url = database_url
        self.log_path = Path(log_path)
        self.host = host
        self.port = port
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else None
        self.slash_command = slash_command
        self.health_timeout = health_timeout
        # Fresh per run and never printed: only the stand-in, the driver and the app know them.
        self._signing_secret = secrets.token_hex(32)
        self._bot_token = "xoxb-sandbox-" + secrets.token_hex(24)
        self._standin: SlackStandIn | None = None
        self._team: Team | None = None
        self._driver: SlackDriver | None = None
        self._page: PageServer | None = None
        self._app: subprocess.Popen[bytes] | None = None
        self._app_url: str | None = None

    # lifecycle

    def start(self) -> None:
        if self._standin is not None:
            raise SandboxError("the sandbox is already running")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self._standin = SlackStandIn(bot_token=self._bot_token)
        self._standin.start()
        self._team = seed(self._standin)
        app_port = free_port()
        self._app_url = f"http://127.0.0.1:{app_port}"
        self._driver = SlackDriver(
            app_url=f"{self._app_url}/slack/events",
            signing_secret=self._signing_secret,
            standin=self._standin,
            team_id=self._standin.team_id,
        )
        # The page goes up before the app so a taken port fails in a second, not after the app's boot.
        self._page = PageServer(
            standin=self._standin,
            driver=self._driver,
            team=self._team,
            host=self.host,
            port=self.port,
            slash_command=self.slash_command,
        )
        try:
            self._page.start()
        except RuntimeError as e:
            raise SandboxError(
                f"cannot serve the sandbox page on {self.host}:{self.port} ({e.__cause__ or e}); "
                "is the port taken? Choose another port."
            ) from e
        self._spawn_app(app_port)
        self._wait_healthy()

    def _spawn_app(self, app_port: int) -> None:
        assert self._standin is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
        env.update(
            SLACK_BOT_TOKEN=self._bot_token,
            SLACK_SIGNING_SECRET=self._signing_secret,
            SLACK_API_URL=self._standin.base_url,
            SLASH_COMMAND=self.slash_command,
            DATABASE_URL=self.database_url,
            HOST="127.0.0.1",
            PORT=str(app_port),
        )
        env.update(self.env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            try:
                # Its own session: a Ctrl-C in the terminal reaches only the sandbox, which then stops the app
                # in order (SIGTERM, drain) instead of both racing to shut down.
                self._app = subprocess.Popen(
                    self.command,
                    env=env,
                    cwd=self.cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as e:
                raise SandboxError(f"cannot run the app ({' '.join(self.command)}): {e}") from e

    def _wait_healthy(self) -> None:
        assert self._app is not None and self._app_url is not None
        deadline = time.monotonic() + self.health_timeout
        while True:
            status = self._app.poll()
            if status is not None:
                raise SandboxError(
                    f"the app exited with status {status} before it was healthy; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self._app_url}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"the app did not answer {self._app_url}/healthz with 200 within {self.health_timeout:g} s; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Terminates the app (SIGTERM, then SIGKILL after a grace period) and stops the servers."""
        if self._app is not None and self._app.poll() is None:
            self._app.send_signal(signal.SIGTERM)
            try:
                self._app.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self._app.kill()
                self._app.wait()
        self._app = None
        if self._page is not None:
            self._page.stop()
            self._page = None
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._standin is not None:
            self._standin.stop()
            self._standin = None

    def kill(self) -> None:
        """SIGKILL the app at once (a second Ctrl-C while it drains); stop() still tidies up after."""
        if self._app is not None and self._app.poll() is None:
            self._app.kill()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # what callers use while it runs

    @property
    def url(self) -> str:
        """The page, e.g. http://127.0.0.1:8080/."""
        return self._running(self._page).url

    @property
    def app_url(self) -> str:
        """The app's root (its Request URL is app_url + "/slack/events")."""
        return self._running(self._app_url)

    @property
    def driver(self) -> SlackDriver:
        return self._running(self._driver)

    @property
    def standin(self) -> SlackStandIn:
        return self._running(self._standin)

    @property
    def team(self) -> Team:
        return self._running(self._team)

    @property
    def app_pid(self) -> int | None:
        return self._app.pid if self._app is not None else None

    def _running(self, part: _T | None) -> _T:
        if part is None:
            raise SandboxError("the sandbox is not running; call start() or use it in a with block")
        return part
