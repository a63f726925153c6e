"""Modals: "New release" and "Reject sign-off".

The app reads submissions by these ids (``view.state.values[block_id][action_id]``); they are
part of the contract with bot code and must not change.

``new_release_modal`` — callback_id ``release.new``, private_metadata = the channel id the
command came from:

=============  ============  =======================  =====================================
block_id       action_id     element                  value in the submission
=============  ============  =======================  =====================================
``name``       ``name``      plain_text_input         ``value`` (required)
``workload``   ``workload``  plain_text_input         ``value`` or None (optional)
``cutover``    ``cutover``   datetimepicker           ``selected_date_time``: epoch seconds
``duration``   ``duration``  static_select            ``selected_option.value``: ``1h`` … ``2d``
``template``   ``template``  static_select            ``selected_option.value``: template key
=============  ============  =======================  =====================================

The text inputs take at most ``RELEASE_NAME_MAX`` and ``WORKLOAD_MAX`` characters (``domain.limits``).
The datetimepicker shows the picker in the submitting user's own time zone and returns an
absolute epoch, so no separate time zone field is needed. Duration values use the same syntax
as ``--duration`` on the command line.

``reject_modal`` — callback_id ``item.reject``, private_metadata ``"<item id>:<version>"``
(the same form as the buttons' ``value``); one input, block_id ``reason`` / action_id
``reason`` (multiline plain_text_input, required, ``REJECT_REASON_MIN``–``REJECT_REASON_MAX``
chars). Slack only enforces the lengths: the app still refuses a whitespace-only reason with
``response_action: errors`` on ``reason``.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    DateTimePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from domain.limits import REJECT_REASON_MAX, REJECT_REASON_MIN, RELEASE_NAME_MAX, WORKLOAD_MAX
from domain.model import ItemView, ReleaseView
from domain.rehearsal import describe

from . import ids
from .checklist import release_title
from .common import clip, one_line, role_names, section

OPTION_TEXT_MAX = 75
DURATION_HOURS: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 24, 48)


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def _duration_value(hours: int) -> str:
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def _duration_label(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def duration_options() -> list[Option]:
    """The window-length choices, the template's own length first (the form's initial choice: the template
    is picked in the same form, and a form is not redrawn when a select changes)."""
    return [Option(value=ids.TEMPLATE_LENGTH, text=_plain("As the template says"))] + [
        Option(value=_duration_value(h), text=_plain(_duration_label(h))) for h in DURATION_HOURS
    ]


# The rehearsal speeds the form offers; any other factor can be typed with `--rehearsal`.
REHEARSAL_CHOICES = (60, 3600, 7200)


def rehearsal_options() -> list[Option]:
    """ "The real release" first, then rehearsal speeds; the value is the clock factor ("0": real)."""
    return [Option(value="0", text=_plain("The real release"))] + [
        Option(value=str(f), text=_plain(f"Rehearsal ×{f} ({describe(f)})")) for f in REHEARSAL_CHOICES
    ]


def new_release_modal(templates: Sequence[tuple[str, str]], channel_id: str) -> View:
    """``templates`` are (key, display name) pairs; the first is preselected. Raises ValueError
    when there is none (a release needs a template)."""
    if not templates:
        raise ValueError("new_release_modal needs at least one template")
    template_options = [
        Option(value=key, text=_plain(clip(one_line(label), OPTION_TEXT_MAX) or key)) for key, label in templates[:100]
    ]
    durations = duration_options()
    blocks = [
        InputBlock(
            block_id=ids.NEW_NAME,
            label=_plain("Release name"),
            element=PlainTextInputElement(
                action_id=ids.NEW_NAME,
                max_length=RELEASE_NAME_MAX,
                placeholder=_plain("e.g. Payroll to Azure, wave 2"),
            ),
        ),
        InputBlock(
            block_id=ids.NEW_WORKLOAD,
            label=_plain("Workload"),
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.NEW_WORKLOAD,
                max_length=WORKLOAD_MAX,
                placeholder=_plain("e.g. Payroll (SAP HCM)"),
            ),
        ),
        InputBlock(
            block_id=ids.NEW_CUTOVER,
            label=_plain("Cutover starts"),
            hint=_plain("In your time zone. Due dates and announcements are planned from this time."),
            element=DateTimePickerElement(action_id=ids.NEW_CUTOVER),
        ),
        InputBlock(
            block_id=ids.NEW_DURATION,
            label=_plain("Cutover window length"),
            hint=_plain("Each template names the window it was written for; its steps inside the window are scaled."),
            element=StaticSelectElement(action_id=ids.NEW_DURATION, options=durations, initial_option=durations[0]),
        ),
        InputBlock(
            block_id=ids.NEW_TEMPLATE,
            label=_plain("Checklist template"),
            element=StaticSelectElement(
                action_id=ids.NEW_TEMPLATE, options=template_options, initial_option=template_options[0]
            ),
        ),
        InputBlock(
            block_id=ids.NEW_REHEARSAL,
            label=_plain("Run it as"),
            hint=_plain(
                "A rehearsal plays the whole plan faster, here only: announcements come to this channel "
                "marked REHEARSAL."
            ),
            element=StaticSelectElement(
                action_id=ids.NEW_REHEARSAL, options=(modes := rehearsal_options()), initial_option=modes[0]
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.NEW_RELEASE_CALLBACK,
        private_metadata=channel_id,
        title=_plain("New release"),
        submit=_plain("Create"),
        close=_plain("Cancel"),
        blocks=blocks,
    )


def reason_modal(
    *,
    callback_id: str,
    metadata: str,
    title: str,
    submit: str,
    intro: str,
    min_length: int,
    max_length: int,
    placeholder: str,
) -> View:
    """A modal that asks for one required reason (block and action id `reason`)."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata,
        title=_plain(title),
        submit=_plain(submit),
        close=_plain("Cancel"),
        blocks=[
            section(intro),
            InputBlock(
                block_id=ids.REASON_INPUT,
                label=_plain("Reason"),
                element=PlainTextInputElement(
                    action_id=ids.REASON_INPUT,
                    multiline=True,
                    min_length=min_length,
                    max_length=max_length,
                    placeholder=_plain(placeholder),
                ),
            ),
        ],
    )


def reject_modal(item: ItemView, release: ReleaseView) -> View:
    intro = (
        f"Reject *{clip(one_line(item.title), 300)}* in *{release_title(release)}*?\n"
        f"Sign-off: {role_names(item.approver_roles, release.roles) or '—'}\n"
        "Your reason is shown in the checklist and kept in the release's audit log."
    )
    return reason_modal(
        callback_id=ids.REJECT_CALLBACK,
        metadata=f"{item.id}:{item.version}",
        title="Reject sign-off",
        submit="Reject",
        intro=intro,
        min_length=REJECT_REASON_MIN,
        max_length=REJECT_REASON_MAX,
        placeholder="What is wrong, and what has to change before this can be approved?",
    )


def notice_modal(text: str, title: str = "Reject sign-off") -> View:
    """What replaces a form opened before the checks finished, when they refuse: the reason, and Close."""
    return View(type="modal", title=_plain(title), close=_plain("Close"), blocks=[section(text)])
