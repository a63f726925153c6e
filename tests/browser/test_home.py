"""The sandbox page's App Home tab in a real browser: the business owner opens the app's Home, sees the
gate waiting for them, clicks Approve there, and both the Home and the release's checklist follow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.launcher import Sandbox
from sandbox.team import RELEASE_CHANNEL
from tests.browser.helpers import create_release, gate_actions, open_as, send, switch_to
from tests.harness import sandbox_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips these tests
    pass

pytestmark = pytest.mark.timeout(180)
GATE = "Approve the outage window"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("sandbox-home")
    with sandbox_in(tmp) as sb:
        yield sb


def test_approve_from_the_home_tab(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "UPM", sandbox.team.release_channel)
    summary = create_release(page, "Home tab release")
    send(page, "/release assign wbo @wanda")
    expect(page.get_by_test_id("messages").get_by_test_id("message").filter(has_text="now holds")).to_be_visible()

    switch_to(page, "UWBO", "Workload Business Owner")
    page.get_by_test_id("conversation-home").click()
    home = page.get_by_test_id("home")
    expect(home).to_be_visible()
    expect(page.get_by_test_id("composer-form")).to_be_hidden()
    expect(home).to_contain_text("Waiting for you")
    expect(home).to_contain_text("Home tab release")
    waiting = gate_actions(home, GATE)
    waiting.get_by_role("button", name="Approve").click()

    # The Home is published again: the gate has left "Waiting for you" and is among the recent decisions.
    expect(home).to_contain_text(f"Approved “{GATE}”")
    expect(gate_actions(home, GATE)).to_have_count(0)

    # The channel's checklist shows the same decision.
    page.get_by_test_id(f"conversation-{RELEASE_CHANNEL[1]}").click()
    expect(page.get_by_test_id("messages")).to_be_visible()
    summary.get_by_test_id("replies-link").click()
    thread = page.get_by_test_id("thread-messages")
    item = thread.locator("[data-block-type=section]", has_text=GATE)
    expect(item).to_contain_text("Wanda Brooks")
    expect(gate_actions(thread, GATE).get_by_role("button", name="Undo")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "everything above happened without a reload"
