"""Sign-off rules beyond "holds an approver role": deputies, quorum and separation of duties. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.model import Approval, Deputy, ItemView, ReleaseView
from domain.roles import PROJECT_MANAGER, Role, role_name


def deputy_is_valid(deputy: Deputy, now: datetime) -> bool:
    """A deputy stands in until their deadline (exclusive); one without a deadline until removed."""
    return deputy.until is None or now < deputy.until


@dataclass(frozen=True)
class Standing:
    """How a person may act for a role: directly, or as a deputy (valid or expired)."""

    role_key: str
    deputy: Deputy | None = None  # None: they hold the role themselves

    @property
    def for_user(self) -> str | None:
        return self.deputy.for_user if self.deputy else None


def deputy_grants(
    user_id: str, deputies: Iterable[Deputy], roles: Iterable[str], now: datetime
) -> tuple[list[Deputy], list[Deputy]]:
    """(valid, expired) deputy grants this person has for any of these roles, in the roles' order."""
    wanted = list(roles)
    mine = [d for d in deputies if d.user_id == user_id and d.role_key in wanted]
    mine.sort(key=lambda d: wanted.index(d.role_key))
    return [d for d in mine if deputy_is_valid(d, now)], [d for d in mine if not deputy_is_valid(d, now)]


def expired_text(deputy: Deputy, roles: Sequence[Role]) -> str:
    assert deputy.until is not None
    stamp = int(deputy.until.timestamp())
    fallback = deputy.until.strftime("%Y-%m-%d %H:%M UTC")
    whose = f" for <@{deputy.for_user}>" if deputy.for_user else ""
    return (
        f"Your deputy standing as {role_name(deputy.role_key, roles)}{whose} ended "
        f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>: you may no longer decide for that role. "
        f"Ask the role holder or a {role_name(PROJECT_MANAGER, roles)} to set it again."
    )


def approval_refusal(
    release: ReleaseView, item: ItemView, user_id: str, for_user: str | None, user_roles: frozenset[str]
) -> str | None:
    """Why this approval may not count, naming the rule; None when it may.

    A quorum needs different people: whoever already approved (or was stood in for) may not approve
    again. Separation of duties keeps the release's creator, or the holders of the item's responsible
    roles, from approving what they asked for or did.
    """
    acting = {p for p in (user_id, for_user) if p}
    if acting & {p for a in item.approvals for p in a.people}:
        return (
            f"This sign-off needs {item.approvals_needed} different approvers: you already approved "
            f"({approvals_text(item)})."
        )
    if "creator" in item.not_by and release.created_by in acting:
        return "The release's creator may not approve this gate (not_by: creator)."
    if "responsible" in item.not_by and user_roles & set(item.responsible_roles):
        return "Holders of this item's responsible roles may not approve it (not_by: responsible)."
    return None


def approved_by(item: ItemView, user_id: str) -> bool:
    """Whether one of the approvals counted on this gate is this person's (theirs, or made for them)."""
    return any(user_id in a.people for a in item.approvals)


def after_undo(item: ItemView, user_id: str) -> tuple[Approval, ...]:
    """The approvals that still count after this person's undo.

    An approver's undo withdraws only their own approval (a quorum gate keeps the others and waits
    again); anyone else's (the decider of a rejection, a manager) takes back every approval.
    """
    if approved_by(item, user_id):
        return tuple(a for a in item.approvals if user_id not in a.people)
    return ()


def completes_quorum(item: ItemView) -> bool:
    """Whether one more approval makes the gate approved."""
    return len(item.approvals) + 1 >= item.approvals_needed


def approvals_text(item: ItemView) -> str:
    """ "1 of 2 approvals", for the checklist and refusals."""
    return f"{len(item.approvals)} of {item.approvals_needed} approvals"


def encode_approval(a: Approval) -> str:
    """How one approval is stored: the user id, and `>` the person stood in for."""
    return f"{a.user_id}>{a.for_user}" if a.for_user else a.user_id


def decode_approval(text: str) -> Approval:
    user, _, for_user = text.partition(">")
    return Approval(user, for_user or None)
