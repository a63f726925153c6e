"""The seeded sandbox workspace: one person per release role, spread over the world's time zones.

The role keys and titles mirror domain/roles.py as a plain table on purpose: sandbox/ stays
independent of the app it imitates Slack for, so the stand-in never tests the app against itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sandbox.webapi import SlackStandIn

WORKSPACE_NAME = "Cutover Sandbox"


@dataclass(frozen=True)
class Person:
    id: str
    name: str  # Slack handle, typed as @name in the composer
    real_name: str
    role_key: str
    role_title: str
    tz: str


@dataclass(frozen=True)
class Team:
    workspace_name: str
    people: tuple[Person, ...]
    release_channel: str
    business_channel: str
    it_channel: str
    dms: Mapping[str, str]  # person id -> id of their DM with the app

    def person(self, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.release_channel, self.business_channel, self.it_channel)


# (id, handle, real name, role key, role title, zone)
PEOPLE: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("UPM", "pat", "Pat Morgan", "project-manager", "Project Manager", "Europe/London"),
    ("UWBO", "wanda", "Wanda Brooks", "workload-business-owner", "Workload Business Owner", "America/New_York"),
    ("UMA", "max", "Max Weber", "migration-architect", "Migration Architect", "Europe/Berlin"),
    ("UOCM", "ananya", "Ananya Rao", "org-change-manager", "Organizational Change Manager", "Asia/Kolkata"),
    ("UWA", "liam", "Liam O'Connor", "workload-architect", "Workload Architect", "Australia/Sydney"),
    ("UUAT", "uma", "Uma Patel", "uat-tester", "User Acceptance Tester", "America/Los_Angeles"),
    ("UME", "kenji", "Kenji Sato", "migration-engineer", "Migration Engineer", "Asia/Tokyo"),
    ("UCOM", "carla", "Carla Souza", "cloud-ops-manager", "Cloud Operations Manager", "America/Sao_Paulo"),
    ("USPON", "sam", "Sam Okafor", "project-sponsor", "Project Sponsor", "Africa/Lagos"),
    ("USEC", "wei", "Wei Lim", "security-officer", "Security Officer", "Asia/Singapore"),
    ("ULIC", "aroha", "Aroha Ngata", "licensing-specialist", "Licensing Specialist", "Pacific/Auckland"),
)

RELEASE_CHANNEL = ("CPAYROLL", "payroll-migration")
BUSINESS_CHANNEL = ("CBUSINESS", "business-users")
IT_CHANNEL = ("CITOPS", "it-ops")


def seed(standin: SlackStandIn) -> Team:
    """Adds the people and channels to a started stand-in and opens each person's DM with the app."""
    people = tuple(Person(*row) for row in PEOPLE)
    for p in people:
        standin.add_user(p.id, name=p.name, real_name=p.real_name, tz=p.tz)
    members = (*(p.id for p in people), standin.bot_user_id)
    for channel_id, name in (RELEASE_CHANNEL, BUSINESS_CHANNEL, IT_CHANNEL):
        standin.add_channel(channel_id, name=name, members=members)
    dms = {p.id: standin.dm_channel(p.id) for p in people}
    return Team(
        workspace_name=WORKSPACE_NAME,
        people=people,
        release_channel=RELEASE_CHANNEL[0],
        business_channel=BUSINESS_CHANNEL[0],
        it_channel=IT_CHANNEL[0],
        dms=MappingProxyType(dms),
    )
