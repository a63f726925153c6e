"""The release record and the audit trail, for the CLI and for `/release export`: verify chains, assemble a
record, ask Slack for its permalinks, render the files, purge finished releases."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from domain.audit import Verdict
from domain.model import ReleaseState
from domain.record import MessageRef, ReleaseRecord
from messages.export import Links, render_csv, render_json, render_markdown
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
