"""The sandbox page's JSON API over real HTTP, against the real app (`cutover serve`) as a subprocess.

One Sandbox (stand-in, app, page) for the module; every test works in its own channel or on its own
release so their order does not matter.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.composer import Directory, escape_like_slack
from sandbox.driver import wait_until
from sandbox.launcher import Sandbox, SandboxError
from sandbox.team import PEOPLE
from tests.harness import sandbox_in

pytestmark = pytest.mark.timeout(90)

PM, WBO, MA = "UPM", "UWBO", "UMA"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("sandbox-page")
    with sandbox_in(tmp) as sb:
        yield sb


@pytest.fixture(scope="module")
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        yield client


_channels = iter(range(1, 1000))


def new_channel(sandbox: Sandbox) -> str:
    """A fresh public channel with everybody in it, so each test starts from an empty one."""
    channel = f"CTEST{next(_channels):04d}"
    members = (*(p.id for p in sandbox.team.people), sandbox.standin.bot_user_id)
    sandbox.standin.add_channel(channel, name=f"test-{channel.lower()}", members=members)
    return channel


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def channel_view(http: httpx.Client, user: str, channel: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = ok(http.get("/api/channel", params={"user": user, "channel": channel}))["messages"]
    return messages


def thread_view(http: httpx.Client, user: str, channel: str, ts: str) -> dict[str, Any]:
    return ok(http.get("/api/thread", params={"user": user, "channel": channel, "ts": ts}))


def say(http: httpx.Client, user: str, channel: str, text: str) -> dict[str, Any]:
    return ok(http.post("/api/slash", json={"user": user, "channel": channel, "text": text}))


def create_release(http: httpx.Client, channel: str) -> dict[str, Any]:
    """Creates a release from the composer; returns its summary message once the checklist is posted."""
    start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    assert say(http, PM, channel, f"/release new Payroll to Azure --cutover {start}Z --duration 4h")["known"]

    # The creator is told once the whole checklist is posted.
    wait_until(
        lambda: any(m["ephemeral"] and "Created" in m["html"] for m in channel_view(http, PM, channel)),
        timeout=20,
        message="the creator was not told the release was created",
    )
    return next(m for m in channel_view(http, PM, channel) if not m["ephemeral"] and m["reply_count"] >= 5)


def assign_wbo(http: httpx.Client, channel: str) -> None:
    """Gives Wanda the business owner's role; returns once the app has recorded it (it acks first)."""
    say(http, PM, channel, "/release assign wbo @wanda")
    wait_until(
        # One post in the channel says it; typed there, nothing private repeats it.
        lambda: any(not m["ephemeral"] and "now holds" in m["html"] for m in channel_view(http, PM, channel)),
        timeout=10,
        message="the assignment was not confirmed",
    )


def gate_button(html: str, title: str, action_id: str) -> tuple[str, str]:
    """(block_id, action_id) of an item's button, found in rendered HTML after the item's title."""
    start = html.index(title)
    marker = f'data-action-id="{action_id}" data-block-id="'
    at = html.index(marker, start) + len(marker)
    return html[at : html.index('"', at)], action_id


def find_in_thread(http: httpx.Client, user: str, channel: str, ts: str, text: str) -> dict[str, Any]:
    for reply in thread_view(http, user, channel, ts)["replies"]:
        if text in reply["html"]:
            return reply
    raise AssertionError(f"{text!r} is not in the thread")


# --- the workspace ------------------------------------------------------------------------------


def test_state_lists_people_with_roles_and_zones_and_the_users_own_dm(sandbox: Sandbox, http: httpx.Client) -> None:
    state = ok(http.get("/api/state", params={"user": WBO}))
    assert state["me"]["id"] == WBO and state["me"]["role"] == "Workload Business Owner"
    assert state["me"]["tz"] == "America/New_York"
    people = {p["id"]: p for p in state["people"]}
    assert set(people) == {row[0] for row in PEOPLE}
    assert len({p["tz"] for p in people.values()}) == len(people), "everyone in a different zone"
    assert people[PM]["role"] == "Project Manager" and people[PM]["tz"] == "Europe/London"
    names = {c["name"] for c in state["channels"]}
    assert {"payroll-migration", "business-users", "it-ops"} <= names
    assert [d["id"] for d in state["dms"]] == [sandbox.team.dms[WBO]]
    # Without a user the page starts as the first person (the project manager).
    assert ok(http.get("/api/state"))["me"]["id"] == PM
    assert state["default_channel"] == sandbox.team.release_channel


def test_the_page_and_its_assets_are_served(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "/static/app.css" in page.text
    assert "http" not in page.text.replace("http-equiv", ""), "no external URLs"
    script = http.get("/static/app.js")
    assert script.status_code == 200 and "/api/changes" in script.text
    assert http.get("/static/app.css").status_code == 200
    assert http.get("/static/../page.py").status_code in (403, 404)
    # No other site may frame it and lure clicks on its buttons.
    for path in ("/", "/static/app.js", "/api/state"):
        headers = http.get(path).headers
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_the_emoji_labels_for_a_browser_without_colour_emoji_are_served(http: httpx.Client) -> None:
    labels = ok(http.get("/api/emoji"))["labels"]
    assert (labels["⏳"], labels["✅"], labels["⛔"]) == ("[pending]", "[approved]", "[rejected]")
    assert labels["🚀"] == ":rocket:"


# --- the composer -------------------------------------------------------------------------------


def test_slash_creates_a_release_whose_checklist_shows_rendered(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    summary = create_release(http, channel)
    assert "REL-" in summary["html"] and "Payroll to Azure" in summary["html"]
    assert summary["author"] == "Cutover" and summary["is_bot"]
    assert 'data-action-id="release.start"' in summary["html"] and "data-confirm" in summary["html"]
    thread = thread_view(http, PM, channel, summary["ts"])
    assert len(thread["replies"]) == summary["reply_count"]
    assert any('data-action-id="item.approve"' in r["html"] for r in thread["replies"])
    # Times follow the viewer's zone: the same message, seen from London and from Sydney.
    london = channel_view(http, PM, channel)[0]
    sydney = channel_view(http, "UWA", channel)[0]
    assert london["ts"] == sydney["ts"] and london["iso"] != sydney["iso"]
    assert london["iso"].endswith(("+00:00", "+01:00")) and sydney["iso"].endswith(("+10:00", "+11:00"))
    # The creator was told privately (through response_url), and only they see it.
    told = [m for m in channel_view(http, PM, channel) if m["ephemeral"]]
    assert any("Created" in m["html"] for m in told)
    assert not [m for m in channel_view(http, WBO, channel) if m["ephemeral"]]


def test_a_commands_ack_shows_as_an_ephemeral_for_that_user_only(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    say(http, MA, channel, "/release help")
    mine = [m for m in channel_view(http, MA, channel) if m["ephemeral"]]
    assert len(mine) == 1 and "/release" in mine[0]["html"] and "assign" in mine[0]["html"]
    assert channel_view(http, PM, channel) == [] and channel_view(http, WBO, channel) == []
    # Dismissing hides it for that user.
    ok(http.post("/api/dismiss", json={"user": MA, "channel": channel, "ts": mine[0]["ts"]}))
    assert channel_view(http, MA, channel) == []


def test_unknown_commands_and_plain_messages_behave_like_slack(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    assert say(http, PM, channel, "/deploy now")["known"] is False
    (refusal,) = channel_view(http, PM, channel)
    assert refusal["ephemeral"] and "not a valid command" in refusal["html"] and refusal["author"] == "Slackbot"
    say(http, PM, channel, "Cutover rehearsal at 10 — @wanda & #it-ops please <check>")
    stored = sandbox.standin.messages(channel)[-1]
    assert stored["user"] == PM
    assert stored["text"] == "Cutover rehearsal at 10 — <@UWBO|wanda> &amp; <#CITOPS|it-ops> please &lt;check&gt;"
    (seen,) = channel_view(http, WBO, channel)
    assert seen["author"] == "Pat Morgan" and not seen["is_bot"] and "Wanda Brooks" in seen["html"]
    assert "&lt;check&gt;" in seen["html"]


# --- clicks, modals -----------------------------------------------------------------------------


def test_clicks_are_checked_by_the_app_and_recorded(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    summary = create_release(http, channel)
    title = "Approve the outage window"
    phase = find_in_thread(http, PM, channel, summary["ts"], title)
    block_id, action_id = gate_button(phase["html"], title, "item.approve")
    click = {"channel": channel, "ts": phase["ts"], "action_id": action_id, "block_id": block_id}

    # Someone without the role is refused; the answer shows in the thread, to them only.
    assert ok(http.post("/api/action", json={"user": MA, **click}))["ok"]
    refusal = wait_until(
        lambda: [r for r in thread_view(http, MA, channel, summary["ts"])["replies"] if r["ephemeral"]], timeout=10
    )[0]
    assert "Workload Business Owner" in refusal["html"]
    assert not [r for r in thread_view(http, PM, channel, summary["ts"])["replies"] if r["ephemeral"]]
    assert not [m for m in channel_view(http, MA, channel) if m["ephemeral"]]

    # The role's holder approves; the checklist shows who did, for everyone.
    assign_wbo(http, channel)
    assert ok(http.post("/api/action", json={"user": WBO, **click}))["ok"]
    wait_until(
        lambda: "Wanda Brooks" in find_in_thread(http, MA, channel, summary["ts"], title)["html"].split(title, 1)[1],
        timeout=10,
        message="the approval did not show in the checklist",
    )
    approve_calls = [
        c for c in sandbox.standin.calls("chat.update") if c.args.get("channel") == channel and c.status == 200
    ]
    assert approve_calls, "the app updated the checklist messages"


def test_the_answer_to_a_click_names_the_message_clicked(sandbox: Sandbox, http: httpx.Client) -> None:
    """The page shows a click's private answer where the person is looking: it needs to know which
    message's button the answer is for."""
    channel = new_channel(sandbox)
    summary = create_release(http, channel)
    title = "Approve decommissioning the source workload"
    phase = find_in_thread(http, PM, channel, summary["ts"], title)
    block_id, action_id = gate_button(phase["html"], title, "item.approve")
    ok(
        http.post(
            "/api/action",
            json={"user": MA, "channel": channel, "ts": phase["ts"], "action_id": action_id, "block_id": block_id},
        )
    )
    refusal = wait_until(
        lambda: [r for r in thread_view(http, MA, channel, summary["ts"])["replies"] if r["ephemeral"]], timeout=10
    )[0]
    assert refusal["answers"] == phase["ts"], "the refusal answers the click on that phase's message"

    # Start refused on the summary: the answer shows in the channel, naming the summary.
    block_id, action_id = gate_button(summary["html"], "REL-", "release.start")
    ok(
        http.post(
            "/api/action",
            json={"user": MA, "channel": channel, "ts": summary["ts"], "action_id": action_id, "block_id": block_id},
        )
    )
    refused = wait_until(
        lambda: [m for m in channel_view(http, MA, channel) if m["ephemeral"] and m["answers"]], timeout=10
    )[0]
    assert refused["answers"] == summary["ts"]
    # What answers a command, not a click, answers no message.
    told = [m for m in channel_view(http, PM, channel) if m["ephemeral"]]
    assert told and all(m["answers"] is None for m in told)
    assert summary["answers"] is None


def test_a_modal_submission_missing_a_required_field_gets_its_errors(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    summary = create_release(http, channel)
    title = "Approve the outage window"
    phase = find_in_thread(http, PM, channel, summary["ts"], title)
    block_id, action_id = gate_button(phase["html"], title, "item.reject")
    assign_wbo(http, channel)
    click = {"user": WBO, "channel": channel, "ts": phase["ts"], "action_id": action_id, "block_id": block_id}
    ok(http.post("/api/action", json=click))
    modal = wait_until(lambda: ok(http.get("/api/modal", params={"user": WBO}))["modal"], timeout=10)
    assert modal["callback_id"] == "item.reject" and 'class="bk-modal"' in modal["html"]
    assert ok(http.get("/api/modal", params={"user": PM}))["modal"] is None, "modals belong to their user"

    answer = ok(http.post("/api/submit", json={"user": WBO, "view_id": modal["view_id"], "values": {}}))
    assert list(answer["errors"]) == ["reason"]
    shown = ok(http.get("/api/modal", params={"user": WBO}))["modal"]
    assert shown["view_id"] == modal["view_id"] and shown["errors"] == answer["errors"]
    assert "bk-error" in shown["html"]

    assert ok(http.post("/api/close", json={"user": WBO, "view_id": modal["view_id"]}))["notified"] is False
    assert ok(http.get("/api/modal", params={"user": WBO}))["modal"] is None


# --- refusals -----------------------------------------------------------------------------------


def snapshot(sandbox: Sandbox, channel: str) -> str:
    st = sandbox.standin
    return json.dumps(
        [st.messages(channel), st.ephemerals(), [st.view_stack(p.id) for p in sandbox.team.people]], sort_keys=True
    )


def test_bad_input_is_refused_with_400_and_changes_nothing(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    say(http, PM, channel, "/release help")
    (help_ephemeral,) = channel_view(http, PM, channel)
    other_dm = sandbox.team.dms[WBO]
    bad: list[tuple[str, str, Any]] = [
        ("GET", "/api/state", {"user": "UNOBODY"}),
        ("GET", "/api/channel", {"user": PM, "channel": "CNOPE"}),
        ("GET", "/api/channel", {"user": PM, "channel": other_dm}),
        ("GET", "/api/thread", {"user": PM, "channel": channel, "ts": "1.000001"}),
        ("GET", "/api/modal", {"user": "UBOT"}),
        ("GET", "/api/changes", {"since": "soon"}),
        ("GET", "/api/changes", {"since": "1", "wait": "nan"}),
        ("POST", "/api/slash", {"user": "UNOBODY", "channel": channel, "text": "/release help"}),
        ("POST", "/api/slash", {"user": PM, "channel": "CNOPE", "text": "/release help"}),
        ("POST", "/api/slash", {"user": PM, "channel": other_dm, "text": "hi"}),
        ("POST", "/api/slash", {"user": PM, "channel": channel, "text": "   "}),
        ("POST", "/api/slash", {"user": PM, "channel": channel}),
        ("POST", "/api/action", {"user": PM, "channel": channel, "ts": "1.000001", "action_id": "item.approve"}),
        ("POST", "/api/action", {"user": WBO, "channel": channel, "ts": help_ephemeral["ts"], "action_id": "x"}),
        ("POST", "/api/action", {"user": PM, "channel": channel, "ts": help_ephemeral["ts"], "action_id": "nope"}),
        ("POST", "/api/action", {"user": PM, "view_id": "VNOPE", "action_id": "x"}),
        ("POST", "/api/submit", {"user": PM, "view_id": "VNOPE", "values": {}}),
        ("POST", "/api/close", {"user": PM, "view_id": "VNOPE"}),
        ("POST", "/api/dismiss", {"user": WBO, "channel": channel, "ts": help_ephemeral["ts"]}),
    ]
    before = snapshot(sandbox, channel)
    for method, path, data in bad:
        if method == "GET":
            response = http.get(path, params=data)
        else:
            response = http.post(path, json=data)
        assert response.status_code == 400, (path, data, response.text)
        assert response.json()["ok"] is False and response.json()["error"], (path, data)
    not_json = http.post(
        "/api/slash", content=b"user=UPM", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert not_json.status_code == 400 and "application/json" in not_json.json()["error"]
    broken = http.post("/api/slash", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert snapshot(sandbox, channel) == before


def test_a_submission_that_does_not_fit_the_modal_is_refused(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    say(http, MA, channel, "/release new")  # the "New release" modal
    modal = wait_until(lambda: ok(http.get("/api/modal", params={"user": MA}))["modal"], timeout=10)
    bad = http.post(
        "/api/submit", json={"user": MA, "view_id": modal["view_id"], "values": {"no-such-block": {"x": "1"}}}
    )
    assert bad.status_code == 400 and "no-such-block" in bad.json()["error"]
    assert ok(http.get("/api/modal", params={"user": MA}))["modal"]["view_id"] == modal["view_id"]
    ok(http.post("/api/close", json={"user": MA, "view_id": modal["view_id"]}))


def test_foreign_host_names_are_refused(http: httpx.Client) -> None:
    response = http.get("/api/state", headers={"Host": "attacker.example"})
    assert response.status_code == 403


# --- live updates -------------------------------------------------------------------------------


def test_changes_long_poll_wakes_on_activity(sandbox: Sandbox, http: httpx.Client) -> None:
    channel = new_channel(sandbox)
    now = ok(http.get("/api/changes", params={"since": -1}))["revision"]
    started = time.monotonic()
    quiet = ok(http.get("/api/changes", params={"since": now, "wait": 0.3}))
    if quiet["changed"]:  # the app's scheduler may have called the Web API meanwhile
        now = quiet["revision"]
    else:  # nothing happened: the poll waited its time out
        assert time.monotonic() - started >= 0.25
    say(http, PM, channel, "anyone there?")
    moved = ok(http.get("/api/changes", params={"since": now, "wait": 5}))
    assert moved["changed"] and moved["revision"] != now


# --- the composer's escaping (pure) ------------------------------------------------------------

DIRECTORY = Directory(users={"wanda": "UWBO", "pat": "UPM"}, channels={"it-ops": "CITOPS"}, groups={"dbas": "S1"})


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("assign wbo @wanda", "assign wbo <@UWBO|wanda>"),
        ("assign wbo @Wanda, @pat.", "assign wbo <@UWBO|Wanda>, <@UPM|pat>."),
        ("channel it #it-ops", "channel it <#CITOPS|it-ops>"),
        ("assign ma @dbas", "assign ma <!subteam^S1|@dbas>"),
        ("ping @here", "ping <!here>"),
        ("a & b <c>", "a &amp; b &lt;c&gt;"),
        ("@nobody #nowhere mail@example.com", "@nobody #nowhere mail@example.com"),
    ],
)
def test_typed_text_reaches_the_app_as_slack_escapes_it(typed: str, sent: str) -> None:
    assert escape_like_slack(typed, DIRECTORY) == sent


# --- the launcher -------------------------------------------------------------------------------


def test_a_taken_page_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sb = Sandbox(command=[sys.executable, "-c", "raise SystemExit(9)"], port=port, log_path=tmp_path / "a.log")
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}.*port taken"):
            sb.start()
    with pytest.raises(SandboxError, match="not running"):
        _ = sb.url


def test_an_app_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('SLACK_SIGNING_SECRET is missing'); sys.exit(2)"]
    with pytest.raises(SandboxError, match="status 2") as caught:
        Sandbox(command=command, port=0, log_path=tmp_path / "b.log").start()
    assert "SLACK_SIGNING_SECRET is missing" in str(caught.value)


HEALTHY_APP = """
import os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404); self.end_headers()
    def log_message(self, *a): pass
signal.signal(signal.SIGTERM, lambda *a: (print("terminated", flush=True), sys.exit(0)))
print("token", os.environ["SLACK_BOT_TOKEN"].startswith("xoxb-"), "db", os.environ["DATABASE_URL"],
      "extra", os.environ["EXTRA"], flush=True)
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def test_the_launcher_passes_settings_and_terminates_the_app(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    sb = Sandbox(
        command=[sys.executable, "-c", HEALTHY_APP],
        database_url="sqlite:///x.db",
        port=0,
        log_path=log,
        env={"EXTRA": "yes"},
    )
    with sb:
        assert sb.app_url.startswith("http://127.0.0.1:") and sb.url.startswith("http://127.0.0.1:")
        pid = sb.app_pid
        assert pid is not None and sb.team.release_channel == "CPAYROLL"
        with pytest.raises(SandboxError, match="already running"):
            sb.start()
        # An app that fails a command: the person sees that the command failed, as in Slack.
        with httpx.Client(base_url=sb.url) as page:
            answer = ok(page.post("/api/slash", json={"user": PM, "channel": "CPAYROLL", "text": "/release help"}))
            assert answer == {"ok": False, "error": "the app answered HTTP 501"}
            (failed,) = channel_view(page, PM, "CPAYROLL")
            assert "failed" in failed["html"] and failed["author"] == "Slackbot"
    assert sb.app_pid is None
    text = log.read_text()
    assert "token True db sqlite:///x.db extra yes" in text and "terminated" in text
    assert sb._signing_secret not in text and sb._bot_token not in text
