"""The roles a person holds on a release, asking Slack about user groups only when needed."""

from __future__ import annotations

from collections.abc import Iterable

from bot.slackapi import Directory
from domain.model import ReleaseView
from domain.policy import groups_to_resolve, roles_of


async def roles_for(directory: Directory, release: ReleaseView, user_id: str, wanted: Iterable[str]) -> frozenset[str]:
    groups = groups_to_resolve(user_id, release.assignments, wanted)
    member_of = await directory.groups_containing(user_id, groups) if groups else ()
    return roles_of(user_id, release.assignments, member_of)
