"""Block Kit → HTML renderer (sandbox/render): blocks, elements, mrkdwn, dates, escaping, placeholders."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from sandbox.render import (
    PLACEHOLDER_CLASS,
    RenderContext,
    render_blocks,
    render_message,
    render_mrkdwn,
    render_plain,
    render_view,
)
from sandbox.render.emoji import EMOJI, text_labels

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CTX = RenderContext(
    viewer="UVIEWER01",
    viewer_tz="Europe/Berlin",
    users={"UVIEWER01": "Vera Viewer", "U123": "Ada <Admin>", "U456": "Bob"},
    channels={"C123": "release-3", "C456": "ops"},
    usergroups={"S123": "oncall"},
    now=NOW,
)


# --- a small DOM to assert on ---------------------------------------------------------------------


class Doc(HTMLParser):
    """Start tags with their attributes, and the visible text, of an HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.parts: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def all(self, tag: str | None = None, **where: str) -> list[dict[str, str | None]]:
        """Attributes of every ``tag`` whose attributes include ``where`` (``data_x`` means ``data-x``)."""
        wanted = {k.replace("_", "-"): v for k, v in where.items()}
        return [a for t, a in self.tags if (tag is None or t == tag) and all(a.get(k) == v for k, v in wanted.items())]

    def one(self, tag: str | None = None, **where: str) -> dict[str, str | None]:
        found = self.all(tag, **where)
        assert len(found) == 1, (tag, where, found)
        return found[0]

    def classes(self) -> set[str]:
        return {c for _, a in self.tags for c in (a.get("class") or "").split()}


def assert_inert(markup: str) -> None:
    """Nothing in the output can run script or escape its element."""
    doc = Doc(markup)
    assert "script" not in {t for t, _ in doc.tags}
    for tag, found in doc.tags:
        assert not any(name.startswith("on") for name in found), (tag, found)
        for key in ("href", "src", "data-url"):
            value = found.get(key)
            assert value is None or value.startswith(("https://", "http://", "mailto:", "tel:")), (tag, found)


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def blocks(*items: Mapping[str, Any], surface: str = "message") -> Doc:
    markup = render_blocks(list(items), CTX, surface="modal" if surface == "modal" else "message")
    return Doc(markup)


def plain(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, **extra}


def option(value: str, text: str) -> dict[str, Any]:
    return {"value": value, "text": plain(text)}


# --- mrkdwn ---------------------------------------------------------------------------------------


def test_inline_formatting() -> None:
    out = render_mrkdwn("*bold* _italic_ ~strike~ `co*de*` plain", CTX)
    assert out == ('<b>bold</b> <i>italic</i> <s>strike</s> <code class="bk-code">co*de*</code> plain')
    assert render_mrkdwn("2*3*4 and snake_case_name", CTX) == "2*3*4 and snake_case_name"
    assert render_mrkdwn("*`/release` commands*", CTX) == '<b><code class="bk-code">/release</code> commands</b>'
    assert render_mrkdwn("_+3 more: see the thread_", CTX) == "<i>+3 more: see the thread</i>"


def test_line_breaks_quotes_and_preformatted() -> None:
    out = render_mrkdwn("one\ntwo\n> quoted\n&gt; also quoted\nafter", CTX)
    assert out == 'one<br>two<blockquote class="bk-quote">quoted<br>also quoted</blockquote>after'
    pre = render_mrkdwn("*Usage*\n```/release assign &lt;role&gt; *not bold*\nline 2```\ntail", CTX)
    assert pre == '<b>Usage</b><pre class="bk-pre">/release assign &lt;role&gt; *not bold*\nline 2</pre>tail'
    assert render_mrkdwn("&gt;&gt;&gt; all\nof this", CTX) == '<blockquote class="bk-quote">all<br>of this</blockquote>'
    assert render_mrkdwn("an ``` unclosed fence", CTX) == "an ``` unclosed fence"


def test_links() -> None:
    doc = Doc(
        render_mrkdwn("<https://example.com/a?b=1&amp;c=2|the *docs*> <https://x.test> <mailto:a@b.test|Mail>", CTX)
    )
    links = doc.all("a")
    assert [a["href"] for a in links] == ["https://example.com/a?b=1&c=2", "https://x.test", "mailto:a@b.test"]
    assert all(a["rel"] == "noopener noreferrer" and a["target"] == "_blank" for a in links)
    assert doc.text == "the *docs* https://x.test Mail"


def test_bare_urls_are_linked_unless_verbatim() -> None:
    text = {"type": "mrkdwn", "text": "see https://example.com/x."}
    linked = Doc(render_blocks([{"type": "section", "text": text}], CTX, surface="message"))
    assert [a["href"] for a in linked.all("a")] == ["https://example.com/x"]
    assert "see https://example.com/x." in linked.text
    verbatim = Doc(render_blocks([{"type": "section", "text": {**text, "verbatim": True}}], CTX, surface="message"))
    assert verbatim.all("a") == []
    assert "see https://example.com/x." in verbatim.text


def test_unsafe_links_are_shown_not_followed() -> None:
    out = render_mrkdwn("<javascript:alert(1)|click> <data:text/html,x>", CTX)
    assert_inert(out)
    assert Doc(out).all("a") == []
    assert Doc(out).text == "<javascript:alert(1)|click> <data:text/html,x>"


def test_mentions() -> None:
    doc = Doc(
        render_mrkdwn(
            "<@U123> <@UVIEWER01> <@U999> <@U998|fallback> <#C123> <#C999|named> <!subteam^S123> "
            "<!subteam^S999|@team> <!here> <!channel> <!everyone>",
            CTX,
        )
    )
    assert (
        doc.text == "@Ada <Admin> @Vera Viewer @U999 @fallback #release-3 #named @oncall @team @here @channel @everyone"
    )
    assert doc.one("span", data_user_id="U123")["class"] == "bk-mention"
    assert doc.one("span", data_user_id="UVIEWER01")["class"] == "bk-mention bk-mention-self"
    assert doc.one("span", data_channel_id="C123")["class"] == "bk-mention bk-channel"
    assert doc.one("span", data_usergroup_id="S123")["class"] == "bk-mention bk-usergroup"
    assert len(doc.all("span", **{"class": "bk-mention bk-broadcast"})) == 3


def test_entities_are_decoded_once_then_escaped() -> None:
    out = render_mrkdwn("Payroll &amp; HR &lt;wave 2&gt; &amp;lt; &quot;", CTX)
    assert out == "Payroll &amp; HR &lt;wave 2&gt; &amp;lt; &amp;quot;"
    assert Doc(out).text == "Payroll & HR <wave 2> &lt; &quot;"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        '" onmouseover="alert(1)',
        '<https://x.test" onmouseover="alert(1)|x>',
        "<img src=x onerror=alert(1)>",
        "`<script>`",
        "```<script>```",
        "\ue000" + "0\ue001 <@U123>",
    ],
)
def test_message_text_cannot_inject_html(hostile: str) -> None:
    for out in (
        render_mrkdwn(hostile, CTX),
        render_plain(hostile),
        render_message({"text": hostile}, CTX),
        render_blocks([section(hostile, block_id=hostile)], CTX, surface="message"),
        render_blocks(
            [
                {
                    "type": "actions",
                    "block_id": hostile,
                    "elements": [
                        {
                            "type": "button",
                            "action_id": hostile,
                            "value": hostile,
                            "url": hostile,
                            "text": plain(hostile),
                        }
                    ],
                }
            ],
            CTX,
            surface="message",
        ),
        render_view({"type": "modal", "title": plain(hostile), "callback_id": hostile, "blocks": []}, CTX),
    ):
        assert "<script" not in out and "<img" not in out
        assert_inert(out)


def test_attribute_values_stay_inside_their_quotes() -> None:
    evil = '" onmouseover="alert(1)'
    doc = blocks(
        {
            "type": "actions",
            "block_id": evil,
            "elements": [{"type": "button", "action_id": evil, "value": evil, "text": plain("Go")}],
        }
    )
    button = doc.one("button")
    assert button["data-block-id"] == evil and button["data-action-id"] == evil and button["data-value"] == evil


def test_every_emoji_has_a_text_label_for_browsers_that_cannot_draw_colour_emoji() -> None:
    labels = text_labels()
    # The checklist's states in words, so pending, approved and rejected never look alike.
    states = (labels["⏳"], labels["✅"], labels["⛔"], labels["☑️"])
    assert states == ("[pending]", "[approved]", "[rejected]", "[done]")
    # Everything else by its Slack name, as Slack writes an emoji it cannot draw; with or without VS16.
    assert set(EMOJI.values()) <= set(labels)
    assert labels["🚀"] == ":rocket:" and labels["⚠️"] == labels["⚠"] == ":warning:"
    assert all(label.isascii() and label for label in labels.values())


def test_emoji_shortcodes() -> None:
    assert render_mrkdwn(":white_check_mark: done :no_such_emoji: `:x:`", CTX) == (
        '✅ done :no_such_emoji: <code class="bk-code">:x:</code>'
    )
    assert render_plain(":rocket: &amp; <b>") == "🚀 &amp; &lt;b&gt;"
    header = blocks({"type": "header", "text": plain(":tada: :lock:", emoji=False)})
    assert header.text == ":tada: :lock:"
    assert render_mrkdwn("at 10:30:00", CTX) == "at 10:30:00"


# --- dates ----------------------------------------------------------------------------------------


def token(when: datetime, fmt: str, fallback: str = "fallback", link: str | None = None) -> str:
    middle = f"{fmt}^{link}" if link else fmt
    return f"<!date^{int(when.timestamp())}^{middle}|{fallback}>"


def zone_ctx(tz: str, now: datetime = NOW) -> RenderContext:
    return RenderContext(CTX.viewer, tz, CTX.users, CTX.channels, CTX.usergroups, now)


def test_dates_render_in_the_viewers_zone() -> None:
    when = datetime(2026, 11, 27, 13, 5, tzinfo=UTC)
    berlin = Doc(render_mrkdwn(token(when, "{date_short} at {time}"), zone_ctx("Europe/Berlin")))
    new_york = Doc(render_mrkdwn(token(when, "{date_short} at {time}"), zone_ctx("America/New_York")))
    assert berlin.text == "Nov 27, 2026 at 14:05"
    assert new_york.text == "Nov 27, 2026 at 08:05"
    assert berlin.one("time")["datetime"] == new_york.one("time")["datetime"] == "2026-11-27T13:05:00Z"
    assert berlin.one("time")["class"] == "bk-date"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("{date_num}", "2026-11-27"),
        ("{date}", "November 27th, 2026"),
        ("{date_short}", "Nov 27, 2026"),
        ("{date_long}", "Friday, November 27th, 2026"),
        ("{date_pretty}", "Today"),
        ("{date_short_pretty} {time}", "Today 14:05"),
        ("{date_long_pretty}", "Today"),
        ("{time_secs}", "14:05:09"),
        ("{ago}", "in 3 hours"),
        ("Posted {date_short} at {time}.", "Posted Nov 27, 2026 at 14:05."),
    ],
)
def test_date_formats(fmt: str, expected: str) -> None:
    when = datetime(2026, 11, 27, 13, 5, 9, tzinfo=UTC)
    assert Doc(render_mrkdwn(token(when, fmt), CTX)).text == expected


def test_today_tomorrow_yesterday_depend_on_the_zone() -> None:
    late = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    assert Doc(render_mrkdwn(token(late, "{date_pretty} {time}"), CTX)).text == "Today 23:30"
    assert Doc(render_mrkdwn(token(late, "{date_pretty} {time}"), zone_ctx("Asia/Tokyo"))).text == "Tomorrow 07:30"
    before = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert Doc(render_mrkdwn(token(before, "{date_short_pretty}"), CTX)).text == "Yesterday"
    later = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    assert Doc(render_mrkdwn(token(later, "{date_long_pretty}"), CTX)).text == "Thursday, December 24th, 2026"
    assert Doc(render_mrkdwn(token(NOW - timedelta(minutes=3), "{ago}"), CTX)).text == "3 minutes ago"
    assert Doc(render_mrkdwn(token(NOW + timedelta(days=2), "{ago}"), CTX)).text == "in 2 days"


def test_unknown_date_token_or_bad_epoch_shows_the_fallback() -> None:
    unknown = Doc(render_mrkdwn(token(NOW, "{date_weird} {time}", "2026-11-27 10:00 UTC"), CTX))
    assert unknown.text == "2026-11-27 10:00 UTC"
    assert unknown.one("span")["class"] == "bk-date bk-date-fallback"
    bad = Doc(render_mrkdwn("<!date^soon^{date}|whenever &amp; later>", CTX))
    assert bad.text == "whenever & later"


def test_date_with_link() -> None:
    doc = Doc(render_mrkdwn(token(NOW, "{date_num}", link="https://example.com/cal"), CTX))
    assert doc.one("a")["href"] == "https://example.com/cal"
    assert doc.text == "2026-11-27"
    assert Doc(render_mrkdwn(token(NOW, "{date_num}", link="javascript:alert(1)"), CTX)).all("a") == []


def test_bad_zone_or_naive_now_do_not_raise() -> None:
    odd = RenderContext("U1", "Mars/Olympus", {}, {}, {}, datetime(2026, 11, 27, 10, 0))
    # Shown on the UTC clock for want of the zone, and saying so.
    assert Doc(render_mrkdwn(token(NOW, "{date_pretty} {time}"), odd)).text == "Today 10:00 UTC"
    assert Doc(render_mrkdwn(token(NOW, "{date_short} at {time_secs}"), odd)).text == "Nov 27, 2026 at 10:00:00 UTC"
    assert Doc(render_mrkdwn(token(NOW, "{date_pretty}"), odd)).text == "Today"  # no time of day, no clock
    assert Doc(render_mrkdwn(token(NOW, "{date_pretty} {time}"), CTX)).text == "Today 11:00"  # a known zone: as is


# --- blocks ---------------------------------------------------------------------------------------


def test_header_divider_and_block_ids() -> None:
    doc = blocks({"type": "header", "block_id": "h1", "text": plain("Title &amp; more")}, {"type": "divider"})
    assert doc.one("div", data_block_type="header")["data-block-id"] == "h1"
    assert doc.one("hr")["data-block-id"] == ""
    assert doc.text == "Title & more"


@pytest.mark.parametrize(
    ("text", "shown", "css"),
    [
        (plain("*not bold* :rocket:"), "*not bold* 🚀", "bk-plain"),
        ({"type": "mrkdwn", "text": "*bold* :rocket:"}, "bold 🚀", "bk-mrkdwn"),
        ({"type": "mrkdwn", "text": "*bold* <@U123>", "verbatim": True}, "bold @Ada <Admin>", "bk-mrkdwn"),
    ],
)
def test_section_text_kinds(text: dict[str, Any], shown: str, css: str) -> None:
    doc = blocks({"type": "section", "text": text})
    assert doc.text == shown
    assert doc.one("div", **{"class": f"bk-section-text {css}"})
    assert ("b" in {t for t, _ in doc.tags}) is (text["type"] == "mrkdwn")


def test_section_fields_and_accessories() -> None:
    doc = blocks(
        {
            "type": "section",
            "block_id": "s1",
            "fields": [{"type": "mrkdwn", "text": "*State*\nReady"}, plain("Owner: <@U123>")],
            "accessory": {"type": "button", "action_id": "go", "text": plain("Go")},
        },
        section(
            "pick",
            block_id="s2",
            accessory={
                "type": "overflow",
                "action_id": "more",
                "options": [option("a", "Alpha"), {**option("b", "Docs"), "url": "https://docs.test"}],
            },
        ),
        section(
            "select",
            block_id="s3",
            accessory={
                "type": "static_select",
                "action_id": "sel",
                "options": [option("1", "One"), option("2", "Two")],
                "initial_option": option("2", "Two"),
            },
        ),
        section(
            "img", block_id="s4", accessory={"type": "image", "image_url": "https://i.test/a.png", "alt_text": "A"}
        ),
        section(
            "date", block_id="s5", accessory={"type": "datepicker", "action_id": "day", "initial_date": "2026-12-05"}
        ),
    )
    assert len(doc.all("div", **{"class": "bk-field bk-mrkdwn"})) == 1
    assert len(doc.all("div", **{"class": "bk-field bk-plain"})) == 1
    assert "State" in doc.text and "Owner: <@U123>" in doc.text  # plain_text fields show markup as typed
    assert doc.one("button")["data-block-id"] == "s1"
    overflow = doc.one("select", data_type="overflow")
    assert overflow["data-action-id"] == "more" and overflow["data-block-id"] == "s2"
    assert doc.one("option", value="b")["data-url"] == "https://docs.test"
    assert doc.one("select", data_type="static_select")["data-block-id"] == "s3"
    assert "selected" in doc.one("option", value="2")
    assert doc.one("img")["src"] == "https://i.test/a.png" and doc.one("img")["alt"] == "A"
    assert doc.one("input", type="date")["value"] == "2026-12-05"
    assert len(doc.all("div", **{"class": "bk-accessory"})) == 5


def test_context_block() -> None:
    doc = blocks(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "*Updated* <@U456>"},
                plain("plain *x*"),
                {"type": "image", "image_url": "https://i.test/i.png", "alt_text": "icon"},
            ],
        }
    )
    assert doc.text == "Updated @Bobplain *x*"
    assert doc.one("img")["class"] == "bk-context-image"


def test_buttons() -> None:
    confirm = {
        "title": plain("Undo this sign-off?"),
        "text": {"type": "mrkdwn", "text": "Reopens *the gate* &amp; logs it"},
        "confirm": plain("Undo"),
        "deny": plain("Keep"),
        "style": "danger",
    }
    doc = blocks(
        {
            "type": "actions",
            "block_id": "a1",
            "elements": [
                {"type": "button", "action_id": "ok", "value": "7:2", "style": "primary", "text": plain("Approve")},
                {"type": "button", "action_id": "no", "style": "danger", "text": plain("Reject"), "confirm": confirm},
                {"type": "button", "action_id": "link", "url": "https://x.test", "text": plain("Open")},
            ],
        },
        {"type": "actions", "elements": [{"type": "button", "action_id": "plain", "text": plain("Plain")}]},
    )
    ok, no, link, bare = doc.all("button")
    assert ok == {
        "type": "button",
        "class": "bk-button bk-primary",
        "data-action-id": "ok",
        "data-block-id": "a1",
        "data-type": "button",
        "data-value": "7:2",
    }
    assert no["class"] == "bk-button bk-danger" and "data-value" not in no
    assert json.loads(no["data-confirm"] or "") == {
        "title": "Undo this sign-off?",
        "text": "Reopens <b>the gate</b> &amp; logs it",
        "confirm": "Undo",
        "deny": "Keep",
        "style": "danger",
    }
    assert link["data-url"] == "https://x.test" and link["class"] == "bk-button"
    assert bare["data-block-id"] == ""
    assert doc.text == "ApproveRejectOpenPlain"


def test_actions_block_elements() -> None:
    doc = blocks(
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "s",
                    "placeholder": plain("Pick"),
                    "options": [option("a", "A")],
                },
                {"type": "overflow", "action_id": "o", "options": [option("x", "X")]},
                {"type": "datepicker", "action_id": "d"},
                {"type": "timepicker", "action_id": "t", "initial_time": "09:30", "timezone": "Europe/Berlin"},
                {"type": "users_select", "action_id": "u", "initial_user": "U456"},
                {"type": "conversations_select", "action_id": "c"},
                {"type": "radio_buttons", "action_id": "r", "options": [option("1", "One"), option("2", "Two")]},
                {
                    "type": "checkboxes",
                    "action_id": "k",
                    "options": [option("x", "X")],
                    "initial_options": [option("x", "X")],
                },
            ],
        }
    )
    kinds = [
        "static_select",
        "overflow",
        "datepicker",
        "timepicker",
        "users_select",
        "conversations_select",
        "radio_buttons",
        "checkboxes",
    ]
    for kind in kinds:
        assert doc.all(data_type=kind), kind
        assert all(a["data-block-id"] == "acts" for a in doc.all(data_type=kind))
    assert doc.one("input", type="time")["value"] == "09:30"
    users = doc.one("select", data_type="users_select")
    assert users["data-action-id"] == "u"
    values = [a.get("value") or "" for a in doc.all("option")]
    assert [v for v in values if v.startswith("U")] == ["U123", "U456", "UVIEWER01"]
    assert "selected" in doc.one("option", value="U456")
    assert {v for v in values if v.startswith("C")} == {"C123", "C456"}
    assert "#release-3" in doc.text and "Pick" in doc.text
    radios = doc.all("input", type="radio")
    assert [r["value"] for r in radios] == ["1", "2"] and radios[0]["name"] == radios[1]["name"]
    assert "checked" in doc.one("input", type="checkbox", value="x")


def test_image_block() -> None:
    doc = blocks(
        {"type": "image", "image_url": "https://i.test/chart.png", "alt_text": "Burn-down", "title": plain("Progress")},
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "bad"},
        {"type": "image", "slack_file": {"url": "https://files.test/f.png"}, "alt_text": "file"},
    )
    srcs = [a["src"] for a in doc.all("img")]
    assert srcs == ["https://i.test/chart.png", "https://files.test/f.png"]
    assert "Progress" in doc.text and "bad" in doc.text


def test_rich_text_block() -> None:
    doc = blocks(
        {
            "type": "rich_text",
            "block_id": "rt",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi <b> ", "style": {"bold": True}},
                        {"type": "user", "user_id": "U123"},
                        {"type": "text", "text": " in "},
                        {"type": "channel", "channel_id": "C456"},
                        {"type": "emoji", "name": "rocket"},
                        {"type": "emoji", "name": "custom", "unicode": "1f44d"},
                        {"type": "link", "url": "https://x.test", "text": "site", "style": {"italic": True}},
                        {"type": "usergroup", "usergroup_id": "S123"},
                        {"type": "broadcast", "range": "here"},
                        {"type": "date", "timestamp": int(NOW.timestamp()), "format": "{date_num}", "fallback": "x"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "offset": 2,
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "first"}]},
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": "code", "style": {"code": True}}],
                        },
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "dot"}]}],
                },
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "pre\ntext"}]},
            ],
        }
    )
    assert "Hi <b> @Ada <Admin> in #ops🚀👍site@oncall@here2026-11-27" in doc.text
    assert doc.one("ol")["start"] == "3" and len(doc.all("ul")) == 1
    assert doc.one("a")["href"] == "https://x.test"
    assert {t for t, _ in doc.tags} >= {"b", "i", "code", "blockquote", "pre", "li", "time"}
    assert PLACEHOLDER_CLASS not in doc.classes()


def test_message_uses_blocks_else_text() -> None:
    with_blocks = Doc(render_message({"text": "fallback", "blocks": [section("from *blocks*")], "ts": "1.2"}, CTX))
    assert with_blocks.text == "from blocks"
    assert with_blocks.one("div", **{"class": "bk-message"})["data-ts"] == "1.2"
    empties: tuple[list[Any] | None, ...] = (None, [])
    for empty in empties:
        only_text = Doc(render_message({"text": "just *text* <@U456>", "blocks": empty}, CTX))
        assert only_text.text == "just text @Bob"


def test_render_blocks_marks_the_surface() -> None:
    assert Doc(render_blocks([], CTX, surface="modal")).one("div")["data-surface"] == "modal"


# --- input blocks ---------------------------------------------------------------------------------


def input_block(block_id: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(f"Label {block_id}"),
        "element": {"action_id": f"{block_id}-a", **element},
        **extra,
    }


def test_text_inputs() -> None:
    doc = blocks(
        input_block(
            "name",
            {
                "type": "plain_text_input",
                "initial_value": "Payroll <wave 2> &amp;",
                "placeholder": plain("e.g. Payroll"),
                "min_length": 3,
                "max_length": 80,
            },
        ),
        input_block(
            "notes",
            {"type": "plain_text_input", "multiline": True, "initial_value": "a\n<b>"},
            optional=True,
            hint=plain("One per line"),
        ),
        input_block(
            "count",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "9",
                "initial_value": "3",
            },
        ),
        input_block("mail", {"type": "email_text_input"}),
        input_block("site", {"type": "url_text_input"}),
        surface="modal",
    )
    name = doc.one("input", data_block_id="name")
    # An initial value is what someone typed: shown as typed, entities and all.
    assert name["value"] == "Payroll <wave 2> &amp;" and name["placeholder"] == "e.g. Payroll"
    assert (name["minlength"], name["maxlength"], name["type"]) == ("3", "80", "text")
    assert name["data-action-id"] == "name-a" and name["data-type"] == "plain_text_input" and "required" in name
    assert doc.one("label", **{"for": name["id"] or ""})
    notes = doc.one("textarea")
    assert notes["data-block-id"] == "notes" and "required" not in notes
    assert "a\n<b>" in doc.text
    count = doc.one("input", type="number")
    assert (count["min"], count["max"], count["step"], count["value"]) == ("1", "9", "1", "3")
    assert doc.one("input", type="email")["data-type"] == "email_text_input"
    assert doc.one("input", type="url")["data-type"] == "url_text_input"
    wrappers = doc.all("div", **{"class": "bk-input"})
    assert [w["data-block-id"] for w in wrappers] == ["name", "notes", "count", "mail", "site"]
    assert [w["data-optional"] for w in wrappers] == ["false", "true", "false", "false", "false"]
    assert "Label notes (optional)" in doc.text and "One per line" in doc.text


def test_select_inputs() -> None:
    doc = blocks(
        input_block(
            "single",
            {
                "type": "static_select",
                "placeholder": plain("Choose"),
                "option_groups": [
                    {"label": plain("Hours"), "options": [option("1h", "1 hour")]},
                    {"label": plain("Days"), "options": [option("1d", "1 day")]},
                ],
                "initial_option": option("1d", "1 day"),
            },
        ),
        input_block(
            "multi",
            {
                "type": "multi_static_select",
                "options": [option("a", "A"), option("b", "B"), option("c", "C")],
                "initial_options": [option("a", "A"), option("c", "C")],
            },
        ),
        input_block("people", {"type": "multi_users_select", "initial_users": ["U123", "UGONE"]}),
        input_block("chan", {"type": "channels_select", "initial_channel": "C456"}),
        input_block("convs", {"type": "multi_conversations_select"}, optional=True),
        surface="modal",
    )
    assert [a["label"] for a in doc.all("optgroup")] == ["Hours", "Days"]
    assert "selected" in doc.one("option", value="1d") and "selected" not in doc.one("option", value="1h")
    multi = doc.one("select", data_block_id="multi")
    assert "multiple" in multi and "required" in multi
    assert [o["value"] for o in doc.all("option") if "selected" in o and o["value"] in ("a", "b", "c")] == ["a", "c"]
    people = doc.one("select", data_block_id="people")
    assert people["data-type"] == "multi_users_select"
    assert "UGONE" in {o["value"] for o in doc.all("option")}  # an unknown initial user is still shown
    chan, convs = doc.all("option", value="C456")  # one option in each conversation select
    assert "selected" in chan and "selected" not in convs
    assert "required" not in doc.one("select", data_block_id="convs")


def test_choice_and_picker_inputs() -> None:
    doc = blocks(
        input_block(
            "yes",
            {
                "type": "radio_buttons",
                "options": [option("yes", "Yes"), option("no", "No")],
                "initial_option": option("no", "No"),
            },
        ),
        input_block(
            "boxes",
            {
                "type": "checkboxes",
                "options": [{**option("a", "A"), "description": plain("first")}, option("b", "B")],
                "initial_options": [option("b", "B")],
            },
            optional=True,
        ),
        input_block("day", {"type": "datepicker", "initial_date": "2026-12-05"}),
        input_block("clock", {"type": "timepicker", "initial_time": "22:00"}),
        input_block(
            "when",
            {"type": "datetimepicker", "initial_date_time": int(datetime(2026, 12, 5, 21, 0, tzinfo=UTC).timestamp())},
        ),
        surface="modal",
    )
    radios = doc.all("input", type="radio")
    assert [(r["value"], "checked" in r, "required" in r) for r in radios] == [("yes", False, True), ("no", True, True)]
    assert all(r["data-block-id"] == "yes" and r["data-action-id"] == "yes-a" for r in radios)
    boxes = doc.all("input", type="checkbox")
    assert [(b["value"], "checked" in b) for b in boxes] == [("a", False), ("b", True)]
    assert "first" in doc.text
    assert doc.one("input", type="date")["value"] == "2026-12-05"
    assert doc.one("input", type="time")["value"] == "22:00"
    when = doc.one("input", type="datetime-local")
    assert when["value"] == "2026-12-05T22:00" and when["data-timezone"] == "Europe/Berlin"


# --- modals ---------------------------------------------------------------------------------------


MODAL: dict[str, Any] = {
    "type": "modal",
    "id": "V123",
    "callback_id": "item.reject",
    "title": plain("Reject sign-off"),
    "submit": plain("Reject"),
    "blocks": [
        section("Reject *Go/no-go*?"),
        input_block("reason", {"type": "plain_text_input", "multiline": True}),
        input_block("extra", {"type": "plain_text_input"}, optional=True),
    ],
}


def test_view_with_title_submit_and_default_close() -> None:
    doc = Doc(render_view(MODAL, CTX))
    modal = doc.one("div", **{"class": "bk-modal"})
    assert modal["data-view-id"] == "V123" and modal["data-callback-id"] == "item.reject"
    assert doc.one("button", **{"class": "bk-submit"})
    assert doc.one("button", **{"class": "bk-close"})
    assert doc.text.startswith("Reject sign-off") and doc.text.endswith("CancelReject")
    assert len(doc.all("div", **{"class": "bk-input"})) == 2
    assert "bk-error" not in doc.classes()


def test_view_without_submit_and_with_custom_close() -> None:
    doc = Doc(render_view({"type": "modal", "title": plain("Info"), "close": plain("Done"), "blocks": []}, CTX))
    assert doc.all("button", **{"class": "bk-submit"}) == []
    assert doc.text.endswith("Done")


def test_view_errors_show_under_their_input() -> None:
    markup = render_view(MODAL, CTX, {"reason": "Give a reason <now>", "nosuch": "lost?"})
    doc = Doc(markup)
    reason = doc.one("div", **{"class": "bk-input", "data-block-id": "reason"})
    assert reason["data-has-error"] == "true"
    assert "data-has-error" not in doc.one("div", **{"class": "bk-input", "data-block-id": "extra"})
    assert "Give a reason <now>" in doc.text
    # The error sits inside the reason block, after its control.
    inside = markup.split('data-block-id="reason" data-optional')[1].split('data-block-id="extra"')[0]
    assert '<div class="bk-error" role="alert">Give a reason &lt;now&gt;</div>' in inside
    assert "nosuch: lost?" in doc.text  # an error for no input block is not silently dropped


# --- the unknown and the malformed ------------------------------------------------------------------


def placeholders(markup: str) -> list[dict[str, str | None]]:
    return [a for t, a in Doc(markup).tags if a.get("class") == PLACEHOLDER_CLASS]


def test_unknown_block_becomes_a_placeholder_in_place() -> None:
    markup = render_blocks(
        [section("before"), {"type": "video", "title": plain("x")}, section("after")], CTX, surface="message"
    )
    assert '<div class="bk-unsupported" data-kind="block">Unsupported: video</div>' in markup
    assert Doc(markup).text == "beforeUnsupported: videoafter"


def test_unknown_element_and_text_object_become_placeholders() -> None:
    markup = render_blocks(
        [
            {
                "type": "actions",
                "elements": [
                    {"type": "fancy_widget", "action_id": "x"},
                    {"type": "button", "action_id": "ok", "text": plain("OK")},
                ],
            },
            {"type": "section", "text": {"type": "html", "text": "<b>x</b>"}},
            {"type": "context", "elements": [{"type": "video"}]},
            input_block("f", {"type": "file_input"}),
        ],
        CTX,
        surface="modal",
    )
    assert '<span class="bk-unsupported" data-kind="element">Unsupported: fancy_widget</span>' in markup
    assert '<span class="bk-unsupported" data-kind="text">Unsupported: html</span>' in markup
    assert [p["data-kind"] for p in placeholders(markup)] == ["element", "text", "element", "element"]
    assert "OK" in Doc(markup).text


@pytest.mark.parametrize(
    "weird",
    [
        None,
        "section",
        42,
        {},
        {"type": None},
        {"type": "section"},
        {"type": "section", "text": "not an object"},
        {"type": "section", "text": {"type": "mrkdwn", "text": None}},
        {"type": "section", "fields": "nope", "text": plain("x"), "accessory": "button"},
        {"type": "actions", "elements": None},
        {"type": "actions", "elements": [None, 3, {"type": "button"}]},
        {"type": "context", "elements": {"type": "mrkdwn"}},
        {"type": "input"},
        {"type": "input", "element": {"type": "static_select", "options": "x", "initial_option": 5}},
        {"type": "input", "element": {"type": "datetimepicker", "initial_date_time": "later"}},
        {"type": "input", "element": {"type": "checkboxes", "options": [None, {"value": 3}]}},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "elements": [None]}, "x", {"type": "odd"}]},
        {"type": "image"},
        {"type": "header", "text": {"type": "plain_text", "text": ["x"]}},
        {"type": "section", "text": plain("<!date^99999999999999999^{date}|far> <!date^1^{date}>")},
    ],
)
def test_malformed_input_never_raises(weird: Any) -> None:
    markup = render_blocks([weird], CTX, surface="modal")  # type: ignore[list-item]
    assert_inert(markup)
    render_message({"blocks": weird, "text": weird}, CTX)  # type: ignore[dict-item]
    render_view({"blocks": [weird], "title": weird, "submit": weird}, CTX, {"x": "y"})


def test_malformed_structures_are_visible() -> None:
    assert placeholders(render_blocks([None], CTX, surface="message"))  # type: ignore[list-item]
    assert placeholders(render_blocks([{"type": "section"}], CTX, surface="message"))
    assert placeholders(render_message({"blocks": "oops", "text": "t"}, CTX))
    assert placeholders(render_mrkdwn("<!somethingnew>", CTX))
