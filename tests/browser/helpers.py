"""Steps a person takes on the sandbox page, shared by the browser tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox.launcher import Sandbox

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - the browser fixture skips every test that would need it
    pass

STEP = 15_000  # ms for any single expectation; the app answers in well under a second


def open_as(page: Page, sandbox: Sandbox, user: str, channel: str, **query: str) -> None:
    """Opens the page as ``user`` in ``channel``; ``query`` adds parameters (``emoji="text"``)."""
    extra = "".join(f"&{name}={value}" for name, value in query.items())
    page.goto(f"{sandbox.url}?user={user}&channel={channel}{extra}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    # Lets the test prove later that nothing reloaded the page.
    page.evaluate("window.__sameDocument = true")


def send(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def switch_to(page: Page, user: str, role: str) -> None:
    page.get_by_label("You are").select_option(user)
    expect(page.get_by_test_id("me")).to_contain_text(role)


def cutover_text(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT22:00")


def create_release(page: Page, name: str) -> Locator:
    """Creates a release from the composer; returns the summary message once the checklist is in."""
    send(page, f"/release new {name} --cutover {cutover_text()} --duration 4h")
    messages = page.get_by_test_id("messages")
    expect(messages.get_by_test_id("ephemeral").filter(has_text="Created")).to_be_visible()
    summary = messages.get_by_test_id("message").filter(has_text=name)
    expect(summary.get_by_test_id("replies-link")).to_contain_text("replies")
    return summary


def gate_actions(thread: Locator, title: str) -> Locator:
    """The actions block right after a gate's section (where its Approve/Reject buttons are)."""
    section = thread.locator("[data-block-type=section]", has_text=title)
    return section.locator("xpath=following-sibling::*[1][@data-block-type='actions']")


def add_channel(sandbox: Sandbox, channel: str, name: str) -> None:
    members = (*(p.id for p in sandbox.team.people), sandbox.standin.bot_user_id)
    sandbox.standin.add_channel(channel, name=name, members=members)
