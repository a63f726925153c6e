"""`cutover audit verify`, `cutover export` and `cutover purge`: the evidence a change board or an auditor asks for.

They need only DATABASE_URL; `export` asks Slack for permalinks when SLACK_BOT_TOKEN is set too.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import DatabaseSettings, Settings, SettingsError, exit_on_settings_error, load_settings

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from domain.record import ReleaseRecord

KEY = re.compile(r"^REL-([1-9][0-9]{0,8})$", re.IGNORECASE)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    a = sub.add_parser("audit", help="the audit trail: verify its hash chains")
    asub = a.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")
    v = asub.add_parser("verify", help="re-compute the hash chains; exit 1 naming the first row that does not match")
    v.add_argument("release", nargs="?", help="REL-n (numbers are per workspace: add --team when several have it)")
    v.add_argument("--all", action="store_true", help="every release's chain")
    v.add_argument("--team", help="the Slack team id (T…) the release belongs to")
    v.set_defaults(func=cmd_verify)
    e = sub.add_parser("export", help="a release's whole record: Markdown, JSON (docs/export.schema.json) or CSV")
    e.add_argument("release", help="REL-n")
    e.add_argument("--format", choices=("md", "json", "csv"), default="md", help="md (default), json or csv")
    e.add_argument("--output", help="write to this file instead of standard output")
    e.add_argument("--team", help="the Slack team id (T…) the release belongs to")
    e.set_defaults(func=cmd_export)
    p = sub.add_parser(
        "purge", help="remove finished releases (with their whole audit chains) last changed before a date"
    )
    p.add_argument("--before", required=True, help="a date (YYYY-MM-DD, UTC midnight) or an ISO 8601 instant")
    p.add_argument(
        "--survey-answers",
        action="store_true",
        help="remove only the answers of closed surveys (their tallies stay in the audit trail)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")
    p.set_defaults(func=cmd_purge)


def _fail(message: str, code: int = 2) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def _database_url() -> str:
    try:
        return load_settings(DatabaseSettings).database_url
    except SettingsError as e:
        exit_on_settings_error(e)
        raise


def _sessions(url: str) -> tuple[object, async_sessionmaker[AsyncSession]]:
    from storage.db import make_async_engine, make_sessionmaker

    engine = make_async_engine(url)
    return engine, make_sessionmaker(engine)


async def _resolve(sessions: async_sessionmaker[AsyncSession], key: str, team: str | None) -> int:
    from storage.record import releases_numbered

    m = KEY.match(key.strip())
    if not m:
        _fail(f"{key!r} is not a release key: give REL-n, e.g. REL-3")
    assert m is not None
    async with sessions() as s:
        found = await releases_numbered(s, int(m.group(1)), team)
    if not found:
        _fail(f"No release REL-{m.group(1)}{f' in team {team}' if team else ''}.", 1)
    if len(found) > 1:
        teams = ", ".join(t for _id, t in found)
        _fail(f"REL-{m.group(1)} exists in several teams ({teams}): add --team <team id>.")
    return found[0][0]


def cmd_verify(args: argparse.Namespace) -> None:
    if bool(args.all) == bool(args.release):
        _fail("Give one release (REL-n) or --all.")
    raise SystemExit(asyncio.run(_verify(_database_url(), args.release, args.team)))


async def _verify(url: str, key: str | None, team: str | None) -> int:
    from bot.evidence import verify
    from storage.record import release_label

    engine, sessions = _sessions(url)
    try:
        ids = None if key is None else [await _resolve(sessions, key, team)]
        verdicts = await verify(sessions, ids)
        rows = sum(v.checked for v in verdicts)
        for v in verdicts:
            if v.problem is not None:
                async with sessions() as s:
                    label = await release_label(s, v.release_id)
                print(f"{label}: audit row {v.problem.seq} does not verify: {v.problem.what}")
                print(f"Checked {rows} rows of {_releases(len(verdicts))}; the first bad row is named above.")
                return 1
        print(f"OK: verified {rows} audit rows of {_releases(len(verdicts))}.")
        return 0
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


def _releases(n: int) -> str:
    return f"{n} release" if n == 1 else f"{n} releases"


def cmd_export(args: argparse.Namespace) -> None:
    record, text = asyncio.run(_export(_database_url(), args.release, args.team, args.format))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {record.key}'s record ({args.format}) to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not record.verified:
        print(f"Warning: {record.key}'s audit trail does not verify: {record.verify_problem}", file=sys.stderr)


async def _export(url: str, key: str, team: str | None, fmt: str) -> tuple[ReleaseRecord, str]:
    from bot.evidence import load, permalinks, render

    engine, sessions = _sessions(url)
    try:
        record = await load(sessions, await _resolve(sessions, key, team))
        assert record is not None
        links = await permalinks(_client(), record.messages()) if fmt != "csv" else {}
    finally:
        await engine.dispose()  # type: ignore[attr-defined]
    return record, render(record, fmt, links)


def _client() -> AsyncWebClient | None:
    """A Web API client when Slack settings are there (for permalinks); the export works without one."""
    try:
        settings = load_settings(Settings)
    except SettingsError:
        return None
    from bot.slack.client import make_client

    return make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)


def parse_before(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--before {text!r} is not a date: give YYYY-MM-DD or an ISO 8601 instant, e.g. 2026-01-01")
        raise
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def cmd_purge(args: argparse.Namespace) -> None:
    before = parse_before(args.before)
    if before > datetime.now(UTC):
        _fail(f"--before {args.before} is in the future: only releases finished before a past date are purged.")
    asyncio.run(_purge(_database_url(), before, args.survey_answers, args.dry_run))


async def _purge(url: str, before: datetime, survey_answers: bool, dry_run: bool) -> None:
    from bot.evidence import PURGEABLE, purge

    engine, sessions = _sessions(url)
    try:
        report = await purge(sessions, before, survey_answers=survey_answers, dry_run=dry_run)
    finally:
        await engine.dispose()  # type: ignore[attr-defined]
    verb = "Would remove" if dry_run else "Removed"
    when = before.isoformat().replace("+00:00", "Z")
    if survey_answers:
        for label, n in report.answers:
            print(f"{verb} {n} survey answers of {label}.")
        total = sum(n for _label, n in report.answers)
        print(f"{verb} {total} answers of {len(report.answers)} closed surveys closed before {when}.")
        return
    for p in report.releases:
        print(f"{verb} {p.key} (team {p.team_id}, {p.state}) with its audit chain of {p.audit_rows} rows.")
    states = ", ".join(s.value for s in PURGEABLE)
    print(f"{verb} {len(report.releases)} releases ({states}) last changed before {when}.")
