"""`/release cutover …` and `/release retro open|close` after the ack."""

from __future__ import annotations

from bot import lifecycle, retro
from bot.components import Components
from bot.flows import manager_refusal
from bot.grammar import CutoverCommand, Retro
from domain.model import ReleaseState, ReleaseView
from messages.help import info_message


async def lifecycle_command(
    c: Components, view: ReleaseView, cmd: CutoverCommand | Retro, user_id: str, tell: lifecycle.Tell
) -> None:
    if isinstance(cmd, CutoverCommand):
        await lifecycle.transition(c, view, cmd.action, user_id, tell, reason=cmd.reason, override=cmd.override)
        return
    if refusal := await manager_refusal(c, view, user_id, f"{cmd.action} the retrospective of"):
        await tell(refusal)
        return
    if cmd.action == "open":
        if view.state not in (ReleaseState.COMPLETED, ReleaseState.ROLLED_BACK, ReleaseState.CLOSED):
            await tell(
                info_message(
                    f"{view.key} is {view.state.value.replace('_', ' ')}; the retrospective opens after the cutover."
                )
            )
            return
        await retro.open_survey(c, view.id, tell)
    else:
        await retro.close_survey(c, view.id, tell)
