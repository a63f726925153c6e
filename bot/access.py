"""Who may act: the roles a person holds on a release (asking Slack about user groups only when
needed) and the release-manager check every managing verb runs on the server."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.slack.client import Directory
from domain.model import ReleaseView, SubjectKind
from domain.policy import groups_to_resolve, may_manage, roles_of
from domain.roles import PROJECT_MANAGER, role_name
from messages.common import Rendered, escape
from messages.help import info_message

log = logging.getLogger(__name__)


async def roles_for(
    directory: Directory, release: ReleaseView, user_id: str, wanted: Iterable[str], *, every_group: bool = False
) -> frozenset[str]:
    """The roles the person holds. User groups are asked about only when the person lacks every wanted
    role directly, unless `every_group`: a rule that refuses a role (separation of duties) or a view
    of all of them (the App Home) must see the roles held through groups too."""
    wanted = tuple(wanted)
    if every_group:
        groups = tuple(
            sorted(
                {
                    a.subject.id
                    for a in release.assignments
                    if a.role_key in wanted and a.subject.kind is SubjectKind.GROUP
                }
            )
        )
    else:
        groups = groups_to_resolve(user_id, release.assignments, wanted)
    member_of = await directory.groups_containing(user_id, groups) if groups else ()
    return roles_of(user_id, release.assignments, member_of)


def holders_text(release: ReleaseView, role_key: str) -> str:
    holders = release.holders(role_key)
    return ", ".join(s.mention for s in holders) if holders else "nobody yet"


async def manager_refusal(directory: Directory, release: ReleaseView, user_id: str, doing: str) -> Rendered | None:
    """None when the person manages the release (its creator or a Project Manager); else why not."""
    held = await roles_for(directory, release, user_id, (PROJECT_MANAGER,))
    if may_manage(release, user_id, held):
        return None
    manager = escape(role_name(PROJECT_MANAGER, release.roles))
    return info_message(
        f":no_entry: Only {release.key}'s creator or a {manager} may {doing} it. "
        f"{manager}: {holders_text(release, PROJECT_MANAGER)}."
    )


async def people_holding(
    directory: Directory, release: ReleaseView, roles: Iterable[str] | None = None
) -> tuple[set[str], tuple[str, ...]]:
    """The people holding these roles (all roles when None), user groups expanded, and the groups
    Slack would not list now: a caller decides whether a partial answer will do."""
    wanted = None if roles is None else set(roles)
    people: set[str] = set()
    unread: list[str] = []
    for a in release.assignments:
        if wanted is not None and a.role_key not in wanted:
            continue
        if a.subject.kind is SubjectKind.USER:
            people.add(a.subject.id)
            continue
        try:
            people |= await directory.group_members(a.subject.id)
        except SlackApiError as e:
            log.warning("could not list the members of %s: %s", a.subject.id, e.response.get("error"))
            unread.append(a.subject.id)
    return people, tuple(unread)
