"""The release record and the audit trail, for the CLI and for `/release export`: verify chains, assemble a
record, ask Slack for its permalinks, render the files, purge finished releases."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.commands.types import Export
from bot.components import Components
from bot.slack.payload import Actor
from bot.slack.replies import Reply
from domain.audit import Verdict
from domain.model import ReleaseState, ReleaseView
from domain.record import MessageRef, ReleaseRecord
from messages.export import Links, render_csv, render_json, render_markdown
from messages.help import info_message
from storage import audit
from storage import record as records

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

FORMATS = ("md", "json", "csv")
# Finished: the migration happened or was abandoned. A purge takes only these (see docs/EXPORT.md).
PURGEABLE = (ReleaseState.CLOSED, ReleaseState.CANCELLED, ReleaseState.COMPLETED)


async def verify(sessions: async_sessionmaker[AsyncSession], release_ids: Iterable[int] | None) -> list[Verdict]:
    async with sessions() as s:
        ids = list(release_ids) if release_ids is not None else await audit.release_ids(s)
        return [await audit.verify_release(s, rid) for rid in ids]


async def load(sessions: async_sessionmaker[AsyncSession], release_id: int) -> ReleaseRecord | None:
    async with sessions() as s:
        return await records.release_record(s, release_id)


async def permalinks(client: AsyncWebClient | None, refs: Iterable[MessageRef]) -> dict[MessageRef, str]:
    """Each message's permalink from Slack (chat.getPermalink); a message Slack no longer has is left out."""
    links: dict[MessageRef, str] = {}
    if client is None:
        return links
    for ref in sorted(refs, key=lambda r: (r.channel, r.ts)):
        try:
            resp = await client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
        except SlackApiError as e:
            log.info("no permalink for %s %s: %s", ref.channel, ref.ts, e.response.get("error"))
            continue
        links[ref] = str(resp["permalink"])
    return links


def render(record: ReleaseRecord, fmt: str, links: Links) -> str:
    if fmt == "md":
        return render_markdown(record, links)
    if fmt == "json":
        return render_json(record, links)
    if fmt == "csv":
        return render_csv(record)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def filename(record: ReleaseRecord, fmt: str) -> str:
    return f"{record.key}-record.{fmt}"


@dataclass(frozen=True)
class PurgeReport:
    releases: list[audit.Purged]
    answers: list[tuple[str, int]]  # (release label, answers removed)


async def purge(
    sessions: async_sessionmaker[AsyncSession], before: datetime, *, survey_answers: bool, dry_run: bool
) -> PurgeReport:
    states = [s.value for s in PURGEABLE]
    async with sessions() as s, s.begin():
        if survey_answers:
            found = await records.purgeable_answers(s, before)
            if not dry_run:
                await records.purge_answers(s, [sid for sid, _label, _n in found], before, datetime.now(UTC))
            return PurgeReport([], [(label, n) for _sid, label, n in found])
        doomed = await audit.purgeable(s, states, before)
        if not dry_run:
            await audit.purge_releases(s, [p.release_id for p in doomed], states, before)
        return PurgeReport(doomed, [])


# --- /release export ------------------------------------------------------------------------------


async def channel_members(client: AsyncWebClient, channel_id: str) -> set[str]:
    members: set[str] = set()
    cursor = ""
    while True:
        resp = await client.conversations_members(channel=channel_id, limit=1000, cursor=cursor or None)
        members.update(str(m) for m in resp.get("members") or [])
        cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return members


async def export_to_requester(c: Components, who: Actor, release: ReleaseView, _cmd: Export, reply: Reply) -> None:
    """The record as Markdown and JSON files, in a DM to the person who asked: members of the release channel only."""
    try:
        members = await channel_members(c.client, release.channel_id)
    except SlackApiError as e:
        log.warning("members of %s unknown: %s", release.channel_id, e.response.get("error"))
        await reply(info_message(f"I could not check who is in <#{release.channel_id}>, so nothing was sent."))
        return
    if who.user_id not in members:
        await reply(
            info_message(
                f":no_entry: {release.key}'s record goes only to members of its release channel "
                f"<#{release.channel_id}>. Join it and ask again; nothing was sent."
            )
        )
        return
    record = await load(c.sessions, release.id)
    if record is None:
        await reply(info_message(f"{release.key} no longer exists."))
        return
    links = await permalinks(c.client, record.messages())
    uploads = [
        {
            "content": render(record, fmt, links),
            "filename": filename(record, fmt),
            "title": f"{record.key} record ({fmt})",
        }
        for fmt in ("md", "json")
    ]
    verdict = (
        "its audit trail verified" if record.verified else f"its audit trail does NOT verify: {record.verify_problem}"
    )
    try:
        opened = await c.client.conversations_open(users=who.user_id)
        await c.client.files_upload_v2(
            file_uploads=uploads,
            channel=opened["channel"]["id"],
            initial_comment=f"{record.key} “{record.name}”: the release record ({len(record.audit)} audit rows; "
            f"{verdict}; head `{record.head_hash[:16]}…`).",
        )
    except SlackApiError as e:
        log.warning("export of %s to %s failed: %s", release.key, who.user_id, e.response.get("error"))
        await reply(info_message(f"Slack did not take the files ({e.response.get('error')}); nothing was sent."))
        return
    await reply(info_message(f"Sent {release.key}'s record (Markdown and JSON) to you in a direct message."))
