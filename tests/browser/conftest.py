"""Browser fixtures: Playwright (sync API) driving a locally installed Chromium, no browser downloads.

Without Playwright or Chromium every browser test is skipped with a message saying how to install it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import STEP

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(why: str) -> None:
    # CI sets REQUIRE_BROWSER once Chromium is installed: from then on a missing piece is a failure, not a skip.
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"{why} (REQUIRE_BROWSER is set)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if sync_playwright is None:
        _missing("Playwright for Python is not installed: pip install -e '.[dev]' (it is in the dev extras)")
    path = chromium_path()
    if path is None:
        _missing("no Chromium found: install it with `apt-get install chromium`, or set CHROMIUM_PATH")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh page; when the test fails, a full-page screenshot and the page's errors are kept."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(STEP)
    expect.set_options(timeout=STEP)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on(
        "console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
    )
    failed_before = request.session.testsfailed
    try:
        yield opened
    finally:
        if request.session.testsfailed > failed_before:
            shot = tmp_path / "failure.png"
            try:
                opened.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot of the page when the test failed: {shot}")
            except Exception as e:  # the browser itself may be what broke
                print(f"\nno screenshot ({e!r})")
            print("\n".join(problems) or "the page reported no errors")
        context.close()
