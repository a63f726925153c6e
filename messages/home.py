"""The App Home tab: what waits for the viewer, their releases, what they decided lately. Pure builder.

Due times are Slack date tokens, so each viewer reads them in their own zone. The Approve and Reject
buttons are the checklist's own (same action ids, same `item id:version` value): a click from Home goes
through exactly the checks and the audit of a click in the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, PlainTextObject
from slack_sdk.models.views import View

from domain.approvals import approvals_text
from domain.home import Involved, Waiting
from domain.model import DecisionKind

from . import ids
from .common import (
    clip,
    context,
    escape,
    header,
    one_line,
    percent,
    plural,
    progress,
    role_names,
    section,
    state_label,
    user_mention,
)
from .dates import slack_date, slack_window

# A Home view holds 100 blocks: each waiting gate takes two, the rest is headers and lists.
MAX_WAITING = 30
MAX_RELEASES = 10
TITLE_MAX = 150
EMPTY_WAITING = "Nothing waits for you: no sign-off you may give is pending in any release."

_KIND_WORDS = {DecisionKind.APPROVE: "Approved", DecisionKind.REJECT: "Rejected", DecisionKind.DONE: "Done"}


@dataclass(frozen=True)
class Decided:
    """One recent decision of the viewer, with a link to the checklist message when there is one."""

    kind: DecisionKind
    at: datetime
    item_title: str
    release_key: str
    for_user: str | None
    permalink: str | None


def _waiting_blocks(w: Waiting) -> list[Block]:
    item = w.item
    line = (
        f"*{clip(one_line(item.title), TITLE_MAX)}*\n"
        f"{escape(w.release.key)} · {clip(one_line(w.release.name), 80)} · <#{w.release.channel_id}> · "
        f"due {slack_date(item.due_at)}"
    )
    how = f"as {role_names([w.via_role], w.release.roles)}"
    if w.for_user:
        how += f" for {user_mention(w.for_user)} (deputy)"
    if item.approvals_needed > 1:
        how += f" · {approvals_text(item)}"
    value = f"{item.id}:{item.version}"
    return [
        section(f"{line}\n{how}", block_id=f"home-{ids.item_block(item.id)}"),
        ActionsBlock(
            block_id=f"home-{ids.item_block(item.id)}-actions",
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Approve"), action_id=ids.ITEM_APPROVE, value=value, style="primary"
                ),
                ButtonElement(
                    text=PlainTextObject(text="Reject"), action_id=ids.ITEM_REJECT, value=value, style="danger"
                ),
            ],
        ),
    ]


def _release_line(r: Involved) -> str:
    release = r.release
    done, total = progress(release.items)
    line = (
        f"*{escape(release.key)}* · {clip(one_line(release.name), 80)} · {state_label(release.state)}\n"
        f"{slack_window(release.cutover_start, release.cutover_end)} · {done}/{total} ({percent(done, total)}%) · "
        f"you: {role_names(r.roles, release.roles)}"
    )
    if r.next_item is not None:
        line += f"\nNext: {clip(one_line(r.next_item.title), 100)}, due {slack_date(r.next_item.due_at)}"
    return line


def _decided_line(d: Decided) -> str:
    what = f"{_KIND_WORDS.get(d.kind, d.kind.value.title())} “{clip(one_line(d.item_title), 100)}”"
    if d.permalink:
        what = f"<{d.permalink}|{what}>"
    deputy = f" for {user_mention(d.for_user)} (deputy)" if d.for_user else ""
    return f"{what}{deputy} · {escape(d.release_key)} · {slack_date(d.at)}"


def home_view(
    waiting: Sequence[Waiting], releases: Sequence[Involved], decided: Sequence[Decided], *, command: str
) -> View:
    blocks: list[Block] = [header("Waiting for you")]
    if waiting:
        for w in waiting[:MAX_WAITING]:
            blocks.extend(_waiting_blocks(w))
        if len(waiting) > MAX_WAITING:
            blocks.append(context(f"_+{plural(len(waiting) - MAX_WAITING, 'more sign-off')}: oldest due shown first_"))
    else:
        blocks.append(section(EMPTY_WAITING, block_id="home-empty"))
    blocks += [DividerBlock(), header("Your releases")]
    if releases:
        blocks += [section(_release_line(r)) for r in releases[:MAX_RELEASES]]
        if len(releases) > MAX_RELEASES:
            blocks.append(context(f"_+{plural(len(releases) - MAX_RELEASES, 'more release')}_"))
    else:
        blocks.append(section(f"You hold no role in a current release. `{escape(command)} list` shows them all."))
    blocks += [DividerBlock(), header("Recently decided by you")]
    if decided:
        blocks.append(section("\n".join(_decided_line(d) for d in decided)))
    else:
        blocks.append(section("No decisions yet."))
    return View(type="home", blocks=blocks)
