"""The one vocabulary of builders and listeners: action, callback and block ids.

Builders draw buttons and forms with these; listeners register for the same names. The target of an
action (an item, a release, a survey) never lives in an id: it travels in `value` or
`private_metadata` and is validated on the way in.
"""

from __future__ import annotations

from typing import Final

# Checklist items: `value` is "<item id>:<item version>" as drawn.
ITEM_DONE: Final = "item.done"
ITEM_APPROVE: Final = "item.approve"
ITEM_REJECT: Final = "item.reject"
ITEM_UNDO: Final = "item.undo"
ITEM_ACTIONS: Final = (ITEM_DONE, ITEM_APPROVE, ITEM_REJECT, ITEM_UNDO)

# The cutover buttons on the summary: `value` is the release id.
RELEASE_START: Final = "release.start"
RELEASE_COMPLETE: Final = "release.complete"
RELEASE_ROLLBACK: Final = "release.rollback"
RELEASE_ACTIONS: Final = (RELEASE_START, RELEASE_COMPLETE, RELEASE_ROLLBACK)
RELEASE_ACTIONS_BLOCK: Final = "release-actions"

# The retrospective survey: `value` / `private_metadata` is the survey id.
SURVEY_TAKE: Final = "retro.take"

# Modal callbacks (view submissions).
REJECT_CALLBACK: Final = "item.reject"  # private_metadata: "<item id>:<item version>"
ROLLBACK_CALLBACK: Final = "release.rollback"  # private_metadata: the release id
NEW_RELEASE_CALLBACK: Final = "release.new"  # private_metadata: the channel the form was opened in
SURVEY_CALLBACK: Final = "retro.submit"  # private_metadata: the survey id

# Inputs of the reason modals (reject, rollback): block and action share the name.
REASON_INPUT: Final = "reason"

# Inputs of the new-release form.
NEW_NAME: Final = "name"
NEW_WORKLOAD: Final = "workload"
NEW_CUTOVER: Final = "cutover"
NEW_DURATION: Final = "duration"
NEW_TEMPLATE: Final = "template"
NEW_REHEARSAL: Final = "rehearsal"
# The window-length choice that means "the length the chosen template was written for".
TEMPLATE_LENGTH: Final = "template"


def item_block(item_id: int) -> str:
    """The block that shows one checklist item (its buttons sit in `<this>-actions` for a gate)."""
    return f"item-{item_id}"


# A nudge's Snooze buttons: `value` is "<item id>".
NUDGE_SNOOZE_2H: Final = "nudge.snooze_2h"
NUDGE_SNOOZE_TOMORROW: Final = "nudge.snooze_tomorrow"
NUDGE_SNOOZES: Final = (NUDGE_SNOOZE_2H, NUDGE_SNOOZE_TOMORROW)
