"""The sandbox page in a real browser: Playwright (sync API) driving Debian's Chromium.

A person creates a release from the composer, hands out a role, switches to the role's holder and
approves a gate; the checklist updates in place (no reload); someone without the role is refused;
an empty Reject reason is refused inside the modal; buttons with a confirm ask first. The header's
clock ticks in the person's zone; a stopped sandbox is named, with how to start it, and the page comes
back by itself; a browser without a colour-emoji font reads the states in words.
These are plain sync tests: Playwright's sync API must not run inside a running asyncio loop.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.launcher import Sandbox, free_port
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.helpers import add_channel, create_release, gate_actions, open_as, send, switch_to
from tests.harness import sandbox_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips these tests
    pass

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("sandbox-browser")
    with sandbox_in(tmp) as sb:
        yield sb


# --- scenarios ------------------------------------------------------------------------------


def test_release_roles_approval_refusal_and_reject_modal(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "UPM", sandbox.team.release_channel)
    expect(page.get_by_test_id("composer-hint")).to_contain_text("/release help")
    summary = create_release(page, "Payroll to Azure")
    london_window = summary.locator("time.bk-date").first.inner_text()

    send(page, "/release assign wbo @wanda")
    # One post in the channel says so; typed here, nothing private repeats it.
    told = page.get_by_test_id("messages").get_by_test_id("message").filter(has_text="now holds")
    expect(told).to_contain_text("Wanda Brooks")
    expect(told).to_contain_text("Workload Business Owner")
    expect(page.get_by_test_id("messages").get_by_test_id("ephemeral").filter(has_text="now holds")).to_have_count(0)

    # Become the business owner: ephemerals and zones follow the person.
    switch_to(page, "UWBO", "Workload Business Owner")
    expect(page.get_by_test_id("messages").get_by_test_id("ephemeral")).to_have_count(0)
    assert summary.locator("time.bk-date").first.inner_text() != london_window, "dates follow the viewer's zone"

    summary.get_by_test_id("replies-link").click()
    expect(page.get_by_test_id("thread")).to_be_visible()
    thread = page.get_by_test_id("thread-messages")
    window = gate_actions(thread, "Approve the outage window")
    window.get_by_role("button", name="Approve").click()
    # The checklist updates in place: the item names its approver and offers Undo instead.
    item = thread.locator("[data-block-type=section]", has_text="Approve the outage window")
    expect(item).to_contain_text("Wanda Brooks")
    expect(window.get_by_role("button", name="Undo")).to_be_visible()
    expect(summary).to_contain_text("1/12")

    # Someone who holds no approving role is refused, privately, next to the click.
    switch_to(page, "UMA", "Migration Architect")
    decommission = gate_actions(thread, "Approve decommissioning the source workload")
    decommission.get_by_role("button", name="Approve").click()
    refusal = thread.get_by_test_id("ephemeral").filter(has_text="Workload Business Owner")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Only visible to you")
    expect(decommission.get_by_role("button", name="Approve")).to_be_visible()

    # The holder opens Reject and submits no reason: the modal says what is missing.
    switch_to(page, "UWBO", "Workload Business Owner")
    expect(thread.get_by_test_id("ephemeral")).to_have_count(0)
    decommission.get_by_role("button", name="Reject").click()
    modal = page.get_by_role("dialog")
    expect(modal).to_be_visible()
    modal.locator(".bk-submit").click()
    error = modal.locator(".bk-input[data-block-id=reason] .bk-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    modal.locator(".bk-close").click()
    expect(modal).to_be_hidden()
    expect(decommission.get_by_role("button", name="Approve")).to_be_visible()

    assert page.evaluate("window.__sameDocument") is True, "everything above happened without a reload"


def test_buttons_with_a_confirm_ask_first(page: Page, sandbox: Sandbox) -> None:
    add_channel(sandbox, "CREHEARSE", "rehearsal")
    open_as(page, sandbox, "UPM", "CREHEARSE")
    summary = create_release(page, "CRM rehearsal")
    clicks: list[str] = []
    page.on("request", lambda r: clicks.append(r.post_data or "") if r.url.endswith("/api/action") else None)
    start = summary.get_by_role("button", name="Start cutover")

    start.click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Start the cutover?")
    dialog.get_by_role("button", name="Not yet").click()
    expect(dialog).to_be_hidden()
    assert clicks == [], "a denied confirm sends nothing to the app"

    # Confirmed, the click reaches the app, which refuses: the go/no-go sign-offs are missing.
    start.click()
    dialog.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_test_id("messages").get_by_test_id("ephemeral").filter(has_text="sign-off")).to_be_visible()
    assert len(clicks) == 1 and "release.start" in clicks[0]


def test_unknown_commands_are_answered_locally_and_ephemerals_dismiss(page: Page, sandbox: Sandbox) -> None:
    add_channel(sandbox, "CCHAT", "chat")
    open_as(page, sandbox, "UUAT", "CCHAT")
    expect(page.get_by_role("heading", name="# chat")).to_be_visible()
    send(page, "/deploy now")
    notice = page.get_by_test_id("ephemeral").filter(has_text="not a valid command")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)

    send(page, "UAT starts tomorrow, @pat")
    posted = page.get_by_test_id("message").filter(has_text="UAT starts tomorrow")
    expect(posted).to_contain_text("Uma Patel")
    expect(posted.locator(".bk-mention")).to_have_text("@Pat Morgan")


def test_another_channel_is_one_click_away(page: Page, sandbox: Sandbox) -> None:
    open_as(page, sandbox, "UCOM", sandbox.team.release_channel)
    page.get_by_role("navigation", name="Channels").get_by_role("button", name="# it-ops").click()
    expect(page.get_by_role("heading", name="# it-ops")).to_be_visible()
    expect(page).to_have_url(re.compile(r".*channel=CITOPS$"))
    page.get_by_role("navigation", name="Direct messages").get_by_role("button").click()
    expect(page.get_by_test_id("conversation-title")).to_contain_text("Cutover")


def test_a_release_created_from_the_modal_reads_the_time_in_the_users_zone(page: Page, sandbox: Sandbox) -> None:
    add_channel(sandbox, "CMODAL", "modal-made")
    open_as(page, sandbox, "UWA", "CMODAL")  # Australia/Sydney
    send(page, "/release new")
    modal = page.get_by_role("dialog", name="New release")
    expect(modal).to_be_visible()
    modal.get_by_label("Release name").fill("Intranet to Azure")
    day = (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%d")
    modal.locator("input[type=datetime-local]").fill(f"{day}T09:30")
    modal.locator(".bk-submit").click()
    expect(modal).to_be_hidden()
    summary = page.get_by_test_id("message").filter(has_text="Intranet to Azure")
    # Shown back to the same person, the window starts when they typed it, in their zone.
    expect(summary.locator("time.bk-date").first).to_contain_text("09:30")


def test_the_header_clock_ticks_in_the_persons_zone(page: Page, sandbox: Sandbox) -> None:
    # 08:59:30 UTC on 10 March 2026: 04:59 in New York (EDT since 8 March), 19:59 in Sydney (AEDT).
    page.clock.install(time=datetime(2026, 3, 10, 8, 59, 30, tzinfo=UTC))
    open_as(page, sandbox, "UWBO", sandbox.team.release_channel)
    me = page.get_by_test_id("me")
    expect(me).to_contain_text("04:59 local time")
    page.clock.run_for(60_000)
    expect(me).to_contain_text("05:00 local time")
    switch_to(page, "UWA", "Workload Architect")
    expect(me).to_contain_text("20:00 local time")
    page.clock.run_for(60_000)
    expect(me).to_contain_text("20:01 local time")


def test_a_stopped_sandbox_is_named_and_the_page_comes_back_by_itself(page: Page, browser: Any, tmp_path: Path) -> None:
    port = free_port()
    sb = Sandbox(
        database_url=f"sqlite:///{tmp_path / 'cutover.db'}",
        log_path=tmp_path / "app.log",
        port=port,
        cwd=tmp_path,
        env={"SCHEDULER_TICK": "0.2", "SLACK_TIMEOUT": "2"},
    )
    sb.start()
    try:
        open_as(page, sb, "UPM", sb.team.release_channel)
        send(page, "/release help")
        expect(page.get_by_test_id("ephemeral").first).to_be_visible()
        banner = page.get_by_test_id("offline")
        expect(banner).to_be_hidden()

        sb.stop()
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("not running")
        expect(banner).to_contain_text(f"cutover sandbox --port {port}")
        # Typing while it is down says the same, never the browser's bare "Failed to fetch".
        composer = page.get_by_test_id("composer")
        composer.fill("/release help")
        composer.press("Enter")
        expect(banner).to_be_visible()
        expect(page.get_by_test_id("toast")).not_to_contain_text("Failed to fetch")
        expect(page.locator("body")).not_to_contain_text("Failed to fetch")

        sb.start()  # a fresh workspace on the same port, as after running `cutover sandbox` again
        expect(banner).to_be_hidden(timeout=30_000)
        expect(page.get_by_test_id("ephemeral")).to_have_count(0)  # what the old workspace said is gone
        send(page, "/release help")
        expect(page.get_by_test_id("ephemeral").first).to_contain_text("/release")
        assert page.evaluate("window.__sameDocument") is True, "it came back without a reload"
    finally:
        sb.stop()


NO_COLOUR_EMOJI = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>*Color*Emoji*</glob><glob>*color*emoji*</glob></rejectfont></selectfont>
</fontconfig>
"""


def has_colour_emoji_font() -> bool:
    try:
        listed = subprocess.run(["fc-list", ":color=true"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "emoji" in listed.lower()


def test_states_read_in_words_where_the_browser_has_no_colour_emoji_font(
    page: Page, sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    add_channel(sandbox, "CEMOJI", "emoji")
    open_as(page, sandbox, "UPM", "CEMOJI")
    summary = create_release(page, "Emoji check")
    if has_colour_emoji_font():  # the font is there (CI installs it): the page keeps Slack's emoji
        expect(page.locator("html")).to_have_attribute("data-emoji", "color")
        expect(summary).to_contain_text("⏳")

    # The same page in a Chromium whose fontconfig hides every colour-emoji font, as on a machine without one.
    config = tmp_path / "fonts.conf"
    config.write_text(NO_COLOUR_EMOJI)
    path = chromium_path()
    assert path is not None
    bare = browser.browser_type.launch(
        executable_path=path,
        args=CHROMIUM_ARGS,
        env={**os.environ, "FONTCONFIG_FILE": str(config), "HOME": str(tmp_path)},
    )
    try:
        plain = bare.new_context(viewport={"width": 1400, "height": 900}).new_page()
        open_as(plain, sandbox, "UPM", "CEMOJI")
        expect(plain.locator("html")).to_have_attribute("data-emoji", "text")
        words = plain.get_by_test_id("message").filter(has_text="Emoji check")
        expect(words).to_contain_text("[pending]")
        expect(words).not_to_contain_text("⏳")
    finally:
        bare.close()
