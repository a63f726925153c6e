"""The whole release lifecycle clicked through in the browser, on the `cutover sandbox --demo` rehearsal.

Every step is a click or a typed command in the page, as a visitor would do it: each gate approved by
its owner, Start and Complete on the summary, the retrospective survey answered by three people in
its modal, the summary posted when it closes.

With SCREENSHOTS=<folder> set, the run also saves the README's screenshots there
(`SCREENSHOTS=docs pytest tests/browser/test_lifecycle.py`), so they always show the tested flow.
"""

from __future__ import annotations

import os
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
    # The rehearsal's plan plays in the channel while we work.
    announcement = messages.get_by_test_id("message").filter(has_text="REHEARSAL — ").first
    # The plan's first notice comes a week of plan after its first due date: 6 s here, 84 s at the demo's pace.
    expect(announcement).to_be_visible(timeout=120_000)
    shot(page, "announcement", announcement)

    summary.get_by_test_id("replies-link").click()
    thread = page.get_by_test_id("thread-messages")
    shot(page, "checklist", summary)
    for n, item in enumerate(BLOCKING):
        approve_as_owner(page, demo, thread, item.key, "approval" if n == 0 else "")
    expect(summary).to_contain_text(f"{len(BLOCKING)}/12")

    switch_to(page, pm, pm_role)
    summary.get_by_role("button", name="Start cutover").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Start", exact=True).click()
    expect(summary.get_by_role("button", name="Complete")).to_be_visible(timeout=STEP)

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
