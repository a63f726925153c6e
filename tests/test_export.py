"""A full lifecycle exported by `cutover export` in all three formats, `cutover audit verify`, and `cutover purge`,
on every backend (the CLI runs as a real process against the database)."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select, text

from domain.model import DecisionKind, ItemState, Subject, SubjectKind
from domain.roles import resolve_role
from storage import announcements as announcing
from storage import checklist as decisions
from storage import releases, retro
from storage.cutover import take_step
from storage.db import make_async_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import ChecklistItem
from storage.queries import load_release_view
from tests.databases import backends, fresh_database
from tests.factories import spec

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "export.schema.json").read_text())
SECRET_ANSWER = "the-secret-answer-text-7781"
RESPONDENT = "URESPONDENT99"


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )


async def _decide(sessions, release_id: int, key: str, user: str, role: str, kind=DecisionKind.APPROVE, reason=None):
    async with sessions() as s:
        item = (
            await s.execute(
                select(ChecklistItem).where(ChecklistItem.release_id == release_id, ChecklistItem.key == key)
            )
        ).scalar_one()
    state = {DecisionKind.APPROVE: ItemState.APPROVED, DecisionKind.REJECT: ItemState.REJECTED}[kind]
    got = await decisions.record(
        sessions,
        release_id=release_id,
        item_id=item.id,
        version=item.version,
        kind=kind,
        new_state=state,
        user_id=user,
        role_key=role,
        reason=reason,
    )
    assert isinstance(got, decisions.Recorded)


async def lifecycle(url: str) -> None:
    """REL-1 in T1: roles, a rejection then approvals, a window move, an override start, complete, one announcement
    sent and one failed, a survey with an answer, closed. REL-2: cancelled (purgeable)."""
    engine = make_async_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        rel = await releases.create_release(sessions, spec())
        now = datetime.now(UTC)
        async with sessions() as s, s.begin():
            await releases.assign(s, rel.id, resolve_role("wbo"), [Subject(SubjectKind.USER, "UWBO")], "UPM")
            await announcing.add_channel(s, rel.id, "business", "CBIZ", "UPM", now, None)
        await _decide(
            sessions, rel.id, "cc.window_appr", "UWBO", "workload-business-owner", DecisionKind.REJECT, "clashes"
        )
        async with sessions() as s, s.begin():
            start = rel.cutover_start + timedelta(days=1)
            await announcing.move_window(s, rel.id, start, start + timedelta(hours=4), "UPM", datetime.now(UTC))
        async with sessions() as s:
            item = (
                await s.execute(
                    select(ChecklistItem).where(
                        ChecklistItem.release_id == rel.id, ChecklistItem.key == "cc.window_appr"
                    )
                )
            ).scalar_one()
        got = await decisions.record(
            sessions,
            release_id=rel.id,
            item_id=item.id,
            version=item.version,
            kind=DecisionKind.UNDO,
            new_state=ItemState.PENDING,
            user_id="UWBO",
            role_key="workload-business-owner",
        )
        assert isinstance(got, decisions.Recorded)
        await _decide(sessions, rel.id, "cc.window_appr", "UWBO", "workload-business-owner")
        await _decide(sessions, rel.id, "cc.change_appr", "UPM", "project-manager")
        async with sessions() as s, s.begin():
            view = await load_release_view(s, rel.id)
            assert view is not None
            assert await take_step(
                s, view, "start", user_id="UPM", reason=None, override="sponsor accepted the open items", now=now
            )
        async with sessions() as s, s.begin():
            view = await load_release_view(s, rel.id)
            assert view is not None
            assert await take_step(s, view, "complete", user_id="UPM", reason=None, override=None, now=now)
        async with sessions() as s, s.begin():
            claimed = await announcing.claim_due(s, now=datetime.now(UTC) + timedelta(seconds=1), worker="w", limit=10)
        assert len(claimed) >= 2
        async with sessions() as s, s.begin():
            assert await announcing.mark_sent(s, claimed[0], "w", ts="1700000000.000100", now=datetime.now(UTC))
            assert await announcing.mark_failed(s, claimed[1], "w", error="not_in_channel")
            for c in claimed[2:]:
                await announcing.give_back(s, c, "w", not_before=None, error=None)
        async with sessions() as s, s.begin():
            assert await retro.open_survey(s, rel.id, datetime.now(UTC))
            survey = await retro.survey_for(s, rel.id)
            assert survey is not None
            for n, who in enumerate((RESPONDENT, "URESP2", "URESP3")):
                answers = {"went_well": f"{SECRET_ANSWER}{n}", "smoothness": 3 + n % 2, "enough_notice": "yes"}
                await retro.save_response(s, survey.id, who, answers, datetime.now(UTC))
        async with sessions() as s, s.begin():
            assert await retro.close_survey(s, rel.id, datetime.now(UTC)) is not None
        other = await releases.create_release(sessions, spec())
        async with sessions() as s, s.begin():
            assert await releases.cancel(s, other.id, "UPM")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=backends())
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with fresh_database(request.param, tmp_path_factory.mktemp(f"export-{request.param}")) as url:
        upgrade(url)
        asyncio.run(lifecycle(url))
        yield url


def test_json_export_validates_and_holds_the_record(database: str) -> None:
    proc = cli(database, "export", "REL-1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    release = doc["release"]
    assert release["template"]["key"] == "caf-migration-release" and release["template"]["version"]
    assert [c["kind"] for c in release["state_history"]] == ["release_created", "cutover_start", "cutover_complete"]
    assert release["overrides"] == [
        {
            "at": release["overrides"][0]["at"],
            "kind": "gonogo_override",
            "by": "UPM",
            "reason": "sponsor accepted the open items",
        }
    ]
    assert release["window"]["actual"]["start"] and release["window"]["actual"]["end"]
    gate = next(i for i in doc["items"] if i["key"] == "cc.window_appr")
    assert [d["kind"] for d in gate["decisions"]] == ["reject", "undo", "approve"]
    assert gate["decisions"][0]["reason"] == "clashes"
    approval = gate["decisions"][-1]
    assert approval["by"] == "UWBO" and approval["role"] == "workload-business-owner"
    assert approval["window"]["start"] == release["window"]["planned"]["start"]  # the moved window was in force
    states = {d["state"] for a in doc["announcements"] for d in a["deliveries"]}
    assert {"sent", "failed"} <= states
    failed = next(d for a in doc["announcements"] for d in a["deliveries"] if d["state"] == "failed")
    assert failed["failure"] == "not_in_channel"
    retro_doc = doc["retrospective"]
    assert retro_doc["responses"] == 3 and retro_doc["state"] == "closed" and not retro_doc["summary_withheld"]
    smooth = next(q for q in retro_doc["questions"] if q["key"] == "smoothness")
    assert smooth["average"] == 3.3 and {"option": "4", "count": 1} in smooth["distribution"]
    went_well = next(q for q in retro_doc["questions"] if q["key"] == "went_well")
    assert went_well["answered"] == 3 and went_well["distribution"] == []  # texts are answers: never exported
    assert doc["audit"]["verified"] is True and doc["audit"]["rows"] > 10
    assert SECRET_ANSWER not in proc.stdout and "URESP" not in proc.stdout


def test_schema_rejects_a_record_with_an_answer_smuggled_in(database: str) -> None:
    doc = json.loads(cli(database, "export", "REL-1", "--format", "json").stdout)
    doc["retrospective"]["questions"][0]["answers"] = [SECRET_ANSWER]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_markdown_names_every_gate_approver_and_every_announcement(database: str, tmp_path: Path) -> None:
    out = tmp_path / "rel1.md"
    proc = cli(database, "export", "rel-1", "--format", "md", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    md = out.read_text()
    doc = json.loads(cli(database, "export", "REL-1", "--format", "json").stdout)
    for item in doc["items"]:
        for d in item["decisions"]:
            assert f"| {d['by']} | {d['role']} |" in md
    for a in doc["announcements"]:
        assert f"(`{a['key']}`, attempt {a['attempt']})" in md
    assert "clashes" in md and "sponsor accepted the open items" in md and "not_in_channel" in md
    assert f"Head hash: `{doc['audit']['head_hash']}`" in md and "Verified: yes" in md
    assert SECRET_ANSWER not in md and "URESP" not in md


def test_csv_has_one_row_per_audit_event(database: str) -> None:
    proc = cli(database, "export", "REL-1", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    doc = json.loads(cli(database, "export", "REL-1", "--format", "json").stdout)
    assert len(rows) == doc["audit"]["rows"]
    assert [int(r["seq"]) for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["hash"] == doc["audit"]["head_hash"]
    kinds = {r["kind"] for r in rows}
    assert {
        "release_created",
        "role_assigned",
        "stakeholder_channel_added",
        "decision_reject",
        "decision_undo",
        "decision_approve",
        "window_moved",
        "cutover_start",
        "gonogo_override",
        "cutover_complete",
        "announcement_sent",
        "announcement_failed",
        "survey_opened",
        "survey_closed",
    } <= kinds
    assert SECRET_ANSWER not in proc.stdout and "URESP" not in proc.stdout


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("export", "REL-9"), 1, "No release REL-9."),
        (("export", "release-1"), 2, "'release-1' is not a release key: give REL-n, e.g. REL-3"),
        (("export", "REL-1", "--team", "T9"), 1, "No release REL-1 in team T9."),
        (("audit", "verify"), 2, "Give one release (REL-n) or --all."),
        (("audit", "verify", "REL-1", "--all"), 2, "Give one release (REL-n) or --all."),
        (("purge", "--before", "soon"), 2, "--before 'soon' is not a date: give YYYY-MM-DD"),
        (("purge", "--before", "2999-01-01"), 2, "is in the future"),
    ],
)
def test_bad_input_is_named(database: str, args: tuple[str, ...], code: int, said: str) -> None:
    proc = cli(database, *args)
    assert proc.returncode == code and said in proc.stderr, (proc.returncode, proc.stderr)


def test_ambiguous_key_across_teams_asks_for_the_team(tmp_path: Path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        upgrade(url)

        async def two() -> None:
            engine = make_async_engine(url)
            try:
                sessions = make_sessionmaker(engine)
                await releases.create_release(sessions, spec(team="TA"))
                await releases.create_release(sessions, spec(team="TB"))
            finally:
                await engine.dispose()

        asyncio.run(two())
        proc = cli(url, "audit", "verify", "REL-1")
        assert proc.returncode == 2 and "REL-1 exists in several teams (TA, TB): add --team" in proc.stderr
        proc = cli(url, "audit", "verify", "REL-1", "--team", "TB")
        assert proc.returncode == 0 and "OK: verified 1 audit rows of 1 release." in proc.stdout


def test_verify_then_tamper_then_purge(database: str) -> None:
    ok = cli(database, "audit", "verify", "--all")
    assert ok.returncode == 0 and "of 2 releases." in ok.stdout and "OK: verified" in ok.stdout, ok.stdout
    dry = cli(database, "purge", "--before", datetime.now(UTC).date().isoformat())
    assert dry.returncode == 0 and "Removed 0 releases" in dry.stdout, dry.stdout
    # Tamper with REL-2 (to be purged) and see verify name it.
    from storage.db import make_sync_engine

    engine = make_sync_engine(database)
    try:
        with engine.begin() as conn:
            rid = conn.execute(text("SELECT id FROM releases WHERE number = 2")).scalar_one()
            conn.execute(text("UPDATE audit_events SET actor = 'UEVE' WHERE release_id = :r AND seq = 1"), {"r": rid})
            conn.execute(text("UPDATE releases SET updated_at = '2020-01-01 00:00:00+00:00' WHERE id = :r"), {"r": rid})
    finally:
        engine.dispose()
    bad = cli(database, "audit", "verify", "--all")
    assert bad.returncode == 1, bad.stdout
    assert "REL-2 (team T1): audit row 1 does not verify: content does not match its hash" in bad.stdout
    assert cli(database, "audit", "verify", "REL-1").returncode == 0
    would = cli(database, "purge", "--before", "2021-01-01", "--dry-run")
    assert "Would remove REL-2 (team T1, cancelled) with its audit chain of 2 rows." in would.stdout
    assert cli(database, "audit", "verify", "REL-2").returncode == 1  # the dry run removed nothing
    gone = cli(database, "purge", "--before", "2021-01-01")
    assert gone.returncode == 0 and "Removed REL-2 (team T1, cancelled)" in gone.stdout, gone.stdout
    assert "Removed 1 releases" in gone.stdout
    after = cli(database, "audit", "verify", "--all")
    assert after.returncode == 0 and "of 1 release." in after.stdout, after.stdout
    assert cli(database, "export", "REL-2").returncode == 1


def test_purging_survey_answers_keeps_the_tallies(database: str) -> None:
    before = json.loads(cli(database, "export", "REL-1", "--format", "json").stdout)["retrospective"]
    # --before may not be in the future: answers of surveys closed before today are taken.
    proc = cli(database, "purge", "--before", datetime.now(UTC).isoformat(), "--survey-answers")
    assert proc.returncode == 0 and "Removed 3 survey answers of REL-1 (team T1)." in proc.stdout, proc.stdout
    again = cli(database, "purge", "--before", datetime.now(UTC).isoformat(), "--survey-answers")
    assert "Removed 0 answers of 0 closed surveys" in again.stdout
    after = json.loads(cli(database, "export", "REL-1", "--format", "json").stdout)["retrospective"]
    assert after["responses"] == before["responses"] == 3 and after["questions"] == before["questions"]
    assert cli(database, "audit", "verify", "REL-1").returncode == 0


def test_schema_is_valid_and_the_documented_record_is_a_real_verified_export() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    doc = (ROOT / "docs" / "EXPORT.md").read_text()
    assert "### Audit trail" in doc and "- Verified: yes" in doc and "`cutover audit verify" in doc
    assert "Tallies withheld" in doc  # the demo's survey closed with no answers
