"""The whole release lifecycle clicked through in the browser, on the `cutover sandbox --demo` rehearsal.

Every step is a click or a typed command in the page, as a visitor would do it: each gate approved by
its owner, Start and Complete on the summary, the retrospective survey answered by three people in
its modal, the summary posted when it closes. On the way it checks what a visitor would see: a refused
click's private answer comes into view, highlighted; the thread's parent message shows whole; on a
phone-wide screen the sidebar folds away behind a toggle; and where the browser draws no colour emoji
the states read in words.

With SCREENSHOTS=<folder> set, the run also saves the README's screenshots there
(`SCREENSHOTS=docs pytest tests/browser/test_lifecycle.py`), so they always show the tested flow.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox_cmd import DEMO_FACTOR, seed_demo
from domain.template import load_template
from sandbox.launcher import Sandbox
from tests.browser.helpers import STEP, gate_actions, open_as, send, switch_to
from tests.harness import sandbox_in

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips these tests
    pass

pytestmark = pytest.mark.timeout(300)

TEMPLATE = load_template("caf-migration-release")
BLOCKING = [i for i in TEMPLATE.items if i.blocks_cutover]
FINAL = next(i for i in TEMPLATE.items if i.key == "cm.go_final")
# A day of plan in under a second: the survey opens a moment after completion. Screenshots use the
# demo's own factor, so they show what a visitor sees.
FACTOR = DEMO_FACTOR if os.environ.get("SCREENSHOTS") else 100_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("sandbox-demo")
    with sandbox_in(tmp) as sb:
        seed_demo(sb, FACTOR)
        yield sb


def shot(page: Page, name: str, top: Locator | None = None) -> None:
    """With SCREENSHOTS set, a screenshot with ``top`` scrolled to the top; otherwise nothing at all, so the
    test itself never races a live update of the element it would scroll to."""
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    if top is not None:
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)  # let the last update paint
    page.screenshot(path=str(Path(folder) / f"sandbox-{name}.png"))


def holder(sandbox: Sandbox, role_key: str) -> tuple[str, str]:
    person = next(p for p in sandbox.team.people if p.role_key == role_key)
    return person.id, person.role_title


def approve_as_owner(page: Page, sandbox: Sandbox, thread: Locator, key: str, name: str = "") -> None:
    item = next(i for i in TEMPLATE.items if i.key == key)
    user, title = holder(sandbox, item.approver_roles[0])
    switch_to(page, user, title)
    actions = gate_actions(thread, item.title)
    actions.get_by_role("button", name="Approve").click()
    expect(actions.get_by_role("button", name="Undo")).to_be_visible()
    if name:
        shot(page, name, actions)


def answer_survey(page: Page, user: str, role: str, went_well: str, choice: int, name: str = "") -> None:
    """Fills every required question: ``went_well`` in the text boxes, option ``choice`` (1 = first) elsewhere."""
    switch_to(page, user, role)
    page.get_by_test_id("messages").get_by_role("button", name="Take the survey").last.click()
    modal = page.get_by_role("dialog")
    expect(modal).to_be_visible()
    for box in modal.locator(".bk-input:not([data-optional=true])").all():
        if box.locator("textarea, input[type=text]").count():
            box.locator("textarea, input[type=text]").first.fill(went_well)
        elif box.locator("input[type=radio]").count():
            radios = box.locator("input[type=radio]")
            radios.nth(min(choice, radios.count()) - 1).check()
        elif box.locator("select").count():
            select = box.locator("select").first  # its first option is the empty placeholder
            select.select_option(index=min(choice, select.locator("option").count() - 1))
    if name:
        shot(page, name)
    modal.locator(".bk-submit").click()
    expect(modal).to_be_hidden()


def answered_in_view(answer: Locator) -> None:
    """A click's private answer is where the person is looking, and marked as the answer."""
    expect(answer).to_be_visible()
    expect(answer).to_be_in_viewport()
    expect(answer).to_have_class(re.compile(r"\banswer\b"))


def refused_gate_answer_in_view(page: Page, sandbox: Sandbox, thread: Locator) -> None:
    """Someone approves a gate that is not theirs: the refusal lands at the thread's end, far below
    the button, and the page brings it into view."""
    gate = BLOCKING[0]
    outsider = next(
        p for p in sandbox.team.people if p.role_key not in gate.approver_roles and p.role_key != "project-manager"
    )
    _, owner_role = holder(sandbox, gate.approver_roles[0])
    switch_to(page, outsider.id, outsider.role_title)
    gate_actions(thread, gate.title).get_by_role("button", name="Approve").click()
    answered_in_view(thread.get_by_test_id("ephemeral").filter(has_text=owner_role))
    expect(gate_actions(thread, gate.title).get_by_role("button", name="Approve")).to_be_visible()


def thread_parent_shows_whole(page: Page) -> None:
    parent = page.get_by_test_id("thread-parent")
    message = parent.get_by_test_id("message")
    expect(message).to_be_visible()
    expect(message).to_be_in_viewport()
    inner, shown = parent.evaluate("e => [e.scrollHeight, e.clientHeight]")
    assert inner <= shown + 1, f"the thread's parent scrolls inside a {shown} px box ({inner} px tall)"


def narrow_screen_gives_messages_the_width(page: Page, channel: str) -> None:
    """At 420 px the sidebar folds away behind a toggle, and the messages get the width."""
    wide = page.viewport_size
    page.set_viewport_size({"width": 420, "height": 800})
    you_are = page.get_by_label("You are")
    expect(you_are).to_be_hidden()
    box = page.get_by_test_id("messages").bounding_box()
    assert box is not None and box["width"] >= 400, f"messages are {box and box['width']} px wide of 420"
    toggle = page.get_by_role("button", name="Channels and people")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(you_are).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.get_by_role("navigation", name="Channels").get_by_role("button", name=f"# {channel}").click()
    expect(you_are).to_be_hidden()
    expect(page.get_by_test_id("conversation-title")).to_have_text(f"# {channel}")
    assert wide is not None
    page.set_viewport_size(wide)
    expect(you_are).to_be_visible()
    expect(toggle).to_be_hidden()


def states_read_in_words_without_colour_emoji(page: Page, sandbox: Sandbox, user: str) -> None:
    """The page as a browser without a colour-emoji font shows it (forced with ?emoji=text)."""
    other = page.context.new_page()
    try:
        open_as(other, sandbox, user, sandbox.team.release_channel, emoji="text")
        expect(other.locator("html")).to_have_attribute("data-emoji", "text")
        summary = other.get_by_test_id("messages").get_by_test_id("message").filter(has_text="Rehearsal ×")
        expect(summary).to_contain_text("[approved]")
        expect(summary).to_contain_text("[pending]")
        for glyph in ("⏳", "✅", "⛔"):
            expect(summary).not_to_contain_text(glyph)
    finally:
        other.close()


def test_the_demo_release_can_be_clicked_through_from_gates_to_retrospective(page: Page, demo: Sandbox) -> None:
    pm, pm_role = holder(demo, "project-manager")
    open_as(page, demo, pm, demo.team.release_channel)
    messages = page.get_by_test_id("messages")
    # The checklist summary is the message with the phases in its thread (announcements have none).
    summary = (
        messages.get_by_test_id("message")
        .filter(has=page.get_by_test_id("replies-link"))
        .filter(has_text="Rehearsal ×")
    )
    expect(summary).to_be_visible()
    narrow_screen_gives_messages_the_width(page, "payroll-migration")
    # The rehearsal's plan plays in the channel while we work.
    announcement = messages.get_by_test_id("message").filter(has_text="REHEARSAL — ").first
    # The plan's first notice comes a week of plan after its first due date: 6 s here, 84 s at the demo's pace.
    expect(announcement).to_be_visible(timeout=120_000)
    shot(page, "announcement", announcement)

    summary.get_by_test_id("replies-link").click()
    thread = page.get_by_test_id("thread-messages")
    thread_parent_shows_whole(page)
    shot(page, "checklist", summary)
    refused_gate_answer_in_view(page, demo, thread)
    for n, item in enumerate(BLOCKING):
        approve_as_owner(page, demo, thread, item.key, "approval" if n == 0 else "")
        if n == 0:
            states_read_in_words_without_colour_emoji(page, demo, pm)
    expect(summary).to_contain_text(f"{len(BLOCKING)}/12")

    switch_to(page, pm, pm_role)
    summary.get_by_role("button", name="Start cutover").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Start", exact=True).click()
    expect(summary.get_by_role("button", name="Complete")).to_be_visible(timeout=STEP)

    # Complete while the final go/no-go is pending: refused, and the refusal (at the channel's end, far
    # below the summary) comes into view.
    summary.get_by_role("button", name="Complete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Complete", exact=True).click()
    answered_in_view(messages.get_by_test_id("ephemeral").filter(has_text="completed"))

    approve_as_owner(page, demo, thread, FINAL.key)
    switch_to(page, pm, pm_role)
    summary.get_by_role("button", name="Complete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Complete", exact=True).click()
    expect(summary).to_contain_text("Completed")

    # A day of plan later (under a second here, then the next housekeeping pass) the survey opens.
    invite = messages.get_by_role("button", name="Take the survey")
    expect(invite.last).to_be_visible(timeout=30_000)
    answers = (("UWBO", "Clear plan", 1), ("UMA", "Clear plan", 2), ("UUAT", "Testing went smoothly", 2))
    for person, text, choice in answers:
        user, role = holder(demo, next(p.role_key for p in demo.team.people if p.id == person))
        answer_survey(page, user, role, text, choice, "survey" if person == "UUAT" else "")

    switch_to(page, pm, pm_role)
    send(page, "/release retro close")
    result = messages.get_by_test_id("message").filter(has_text="3 answers")
    expect(result.first).to_be_visible()
    expect(messages).to_contain_text("Clear plan (×2)")
    expect(result.first).to_contain_text("★ 4.3")  # ratings 5, 4, 4 (the scale is listed from 5 down)
    shot(page, "retrospective", result.first)
