"""Release roles and how people name them.

A release's roles come from its template (`roles:`); `ROLES` are the built-in CAF template's, kept here
as the default for code that has no release at hand (a test keeps them equal to the template's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    key: str  # slug, as typed in /release assign
    name: str
    aliases: tuple[str, ...]
    description: str = ""

    @property
    def alias(self) -> str:
        return self.aliases[0] if self.aliases else ""


ROLES: tuple[Role, ...] = (
    Role(
        "project-manager", "Project Manager", ("pm",), "Runs the plan, drives testing, organizes stakeholder updates."
    ),
    Role(
        "org-change-manager", "Organizational Change Manager", ("ocm",), "Communicates the change to the organization."
    ),
    Role(
        "workload-business-owner",
        "Workload Business Owner",
        ("wbo",),
        "Owns the workload's business value; approves windows and sign-offs.",
    ),
    Role("workload-architect", "Workload Architect", ("wa",), "Architectural guidance and decisions for the workload."),
    Role("uat-tester", "User Acceptance Tester", ("uat",), "Tests the workload as a business user."),
    Role("migration-architect", "Migration Architect", ("ma",), "Makes the technical migration decisions."),
    Role("migration-engineer", "Migration Engineer", ("me",), "Executes the migration tasks."),
    Role("cloud-ops-manager", "Cloud Operations Manager", ("com",), "Puts monitoring, backup and operations in place."),
    Role("project-sponsor", "Project Sponsor", ("sponsor",), "Owns release decisions and scope."),
    Role("security-officer", "Security Officer", ("sec",), "Reviews security risks before cutover."),
    Role("licensing-specialist", "Licensing Specialist", ("lic",), "Licensing and FinOps."),
)

ROLES_BY_KEY: dict[str, Role] = {r.key: r for r in ROLES}
PROJECT_MANAGER = "project-manager"


class UnknownRole(ValueError):
    def __init__(self, text: str, candidates: tuple[Role, ...] = (), roles: Sequence[Role] = ROLES) -> None:
        self.text = text
        self.candidates = candidates
        if candidates:
            names = ", ".join(f"`{r.key}`" for r in candidates)
            msg = f"`{text}` could mean {names}; type more of the name."
        else:
            msg = f"`{text}` is not a role. Roles: " + ", ".join(_shown(r) for r in roles)
        super().__init__(msg)


def _shown(role: Role) -> str:
    return f"`{role.key}` ({', '.join(role.aliases)})" if role.aliases else f"`{role.key}`"


def resolve_role(text: str, roles: Sequence[Role] = ROLES) -> Role:
    """A role of ``roles`` (a release's template's) from its slug, alias or an unambiguous prefix of its slug."""
    t = text.strip().lower()
    if not t:
        raise UnknownRole(text, roles=roles)
    for r in roles:
        if r.key == t:
            return r
    for r in roles:
        if t in r.aliases:
            return r
    matches = tuple(r for r in roles if r.key.startswith(t))
    if len(matches) == 1:
        return matches[0]
    raise UnknownRole(text, matches, roles)


def role_name(key: str, roles: Sequence[Role] = ROLES) -> str:
    """What people call the role ``key`` in a release whose template declares ``roles``."""
    for role in roles:
        if role.key == key:
            return role.name
    return key
