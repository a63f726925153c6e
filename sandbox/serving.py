"""Running an aiohttp application on its own thread and event loop.

Synchronous callers (plain pytest tests, benchmarks, a demo script) get a real loopback HTTP
server without owning an event loop themselves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web

START_TIMEOUT = 10.0
# Handlers still sleeping (injected delays) get this long before shutdown cancels them, instead
# of aiohttp's default 60 s.
SHUTDOWN_GRACE = 0.5


class LoopbackServer:
    def __init__(
        self,
        app_factory: Callable[[], web.Application],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "sandbox",
    ) -> None:
        # A factory, because an aiohttp Application is frozen by its first run and can't be reused.
        self._app_factory = app_factory
        self._host = host
        self._requested_port = port
        self._name = name
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._startup_error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{self._name} server is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    def start(self) -> None:
        """Binds and serves; returns once requests are being accepted."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name} server is already running")
        ready = threading.Event()
        self._startup_error = None
        self._thread = threading.Thread(target=self._serve, args=(ready,), name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout=START_TIMEOUT):
            raise RuntimeError(f"{self._name} server did not start within {START_TIMEOUT} s")
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"{self._name} server failed to start") from self._startup_error

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=START_TIMEOUT)
        self._thread = None
        self._loop = None

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._app_factory(), access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self._host, self._requested_port)
            loop.run_until_complete(site.start())
            self._port = int(runner.addresses[0][1])
            self._loop = loop
        except BaseException as exc:  # handed to start()'s caller instead of dying silently
            self._startup_error = exc
            loop.run_until_complete(runner.cleanup())
            loop.close()
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()
