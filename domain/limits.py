"""How much a person may type, wherever they type it (slash command, form, modal).

The grammar, the forms' `max_length` and the listeners' checks all read these, so a limit is
changed once. Display clipping (how much of a text a message shows) is the builders' business.
"""

from __future__ import annotations

from typing import Final

COMMAND_TEXT_MAX: Final = 2000  # everything after the slash command
RELEASE_NAME_MAX: Final = 80
WORKLOAD_MAX: Final = 80
ANNOUNCEMENT_TEXT_MAX: Final = 2000

# A rejection explains a sign-off refused; a cutover reason (rollback, go/no-go override) is posted
# in the release channel, so it is kept shorter. Both need enough words for others to act on.
REJECT_REASON_MIN: Final = 1
REJECT_REASON_MAX: Final = 2000
CUTOVER_REASON_MIN: Final = 3
CUTOVER_REASON_MAX: Final = 500
