"""The audit chain on every backend: automatic appends, tampering named by verify, concurrent appends, purge."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update

from domain.audit import GENESIS, chain_hash, verify_chain
from domain.model import DecisionKind, ItemState, ReleaseState, Subject, SubjectKind
from domain.roles import resolve_role
from storage import audit, releases
from storage import checklist as decisions
from storage.models import AuditEvent, ChecklistItem, Decision, Release
from tests.databases import backends, fresh_database
from tests.factories import spec


async def _decide(sessions, release_id: int, key: str = "cc.window_appr", user: str = "UWBO") -> None:
    async with sessions() as s:
        item = (
            await s.execute(
                select(ChecklistItem).where(ChecklistItem.release_id == release_id, ChecklistItem.key == key)
            )
        ).scalar_one()
    result = await decisions.record(
        sessions,
        release_id=release_id,
        item_id=item.id,
        version=item.version,
        kind=DecisionKind.APPROVE,
        new_state=ItemState.APPROVED,
        user_id=user,
        role_key="workload-business-owner",
        reason=None,
    )
    assert isinstance(result, decisions.Recorded)


async def _lifecycle(sessions) -> Release:
    rel = await releases.create_release(sessions, spec())
    async with sessions() as s, s.begin():
        await releases.assign(
            s, rel.id, resolve_role("wbo"), [Subject(SubjectKind.USER, "UWBO"), Subject(SubjectKind.USER, "U2")], "UPM"
        )
        await releases.unassign(s, rel.id, resolve_role("wbo"), [Subject(SubjectKind.USER, "U2")], "UPM")
    await _decide(sessions, rel.id)
    await _decide(sessions, rel.id, "cc.change_appr", "UEX")
    async with sessions() as s, s.begin():
        assert await releases.cancel(s, rel.id, "UPM")
    return rel


async def _verify(sessions, release_id: int):
    async with sessions() as s:
        return await audit.verify_release(s, release_id)


async def _kinds(sessions, release_id: int) -> list[str]:
    async with sessions() as s:
        return [r.kind for r in await audit.chain(s, release_id)]


async def test_every_change_is_appended_in_order_and_verifies(db) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    assert await _kinds(sessions, rel.id) == [
        "release_created",
        "role_assigned",
        "role_assigned",
        "role_unassigned",
        "decision_approve",
        "decision_approve",
        "cancelled",
    ]
    verdict = await _verify(sessions, rel.id)
    assert verdict.ok and verdict.checked == 7
    async with sessions() as s:
        rows = await audit.chain(s, rel.id)
        head = await audit.head(s, rel.id)
    assert rows[0].prev_hash == GENESIS and head is not None and head.hash == rows[-1].hash
    assert rows[4].data["item_key"] == "cc.window_appr" and rows[4].actor == "UWBO"


async def test_changed_decision_user_is_named(db) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    async with sessions() as s, s.begin():
        first = (
            await s.execute(select(Decision.id).where(Decision.release_id == rel.id).order_by(Decision.id))
        ).first()
        assert first is not None
        await s.execute(text("UPDATE decisions SET user_id = 'UMALLORY' WHERE id = :id"), {"id": first[0]})
    verdict = await _verify(sessions, rel.id)
    assert verdict.problem is not None and verdict.problem.seq == 5
    assert "actor is 'UMALLORY' in the source row but 'UWBO' in the audit row" in verdict.problem.what


async def test_changed_audit_row_is_named(db) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    async with sessions() as s, s.begin():
        await s.execute(
            text("UPDATE audit_events SET actor = 'UMALLORY' WHERE release_id = :r AND seq = 6"), {"r": rel.id}
        )
    verdict = await _verify(sessions, rel.id)
    assert verdict.problem is not None and verdict.problem.seq == 6
    assert "content does not match its hash" in verdict.problem.what


@pytest.mark.parametrize("seq", [3, 7])
async def test_deleted_row_is_named(db, seq: int) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    async with sessions() as s, s.begin():
        await s.execute(text("DELETE FROM audit_events WHERE release_id = :r AND seq = :s"), {"r": rel.id, "s": seq})
    verdict = await _verify(sessions, rel.id)
    assert verdict.problem is not None and verdict.problem.seq == seq
    assert f"row {seq} is missing" in verdict.problem.what


async def test_reordered_rows_are_named(db) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    async with sessions() as s, s.begin():
        # Swap rows 2 and 4 by their seq (through a free number: seq is unique per release).
        for old, new in ((2, 1000), (4, 2), (1000, 4)):
            await s.execute(
                text("UPDATE audit_events SET seq = :new WHERE release_id = :r AND seq = :old"),
                {"r": rel.id, "old": old, "new": new},
            )
    verdict = await _verify(sessions, rel.id)
    assert verdict.problem is not None and verdict.problem.seq == 2
    assert "previous hash" in verdict.problem.what


async def test_untouched_chains_pass_and_a_missing_chain_does_not(db) -> None:
    _engine, sessions = db
    rel = await _lifecycle(sessions)
    other = await releases.create_release(sessions, spec(team="T2"))
    assert (await _verify(sessions, rel.id)).ok and (await _verify(sessions, other.id)).ok
    async with sessions() as s, s.begin():
        await s.execute(text("DELETE FROM audit_heads WHERE release_id = :r"), {"r": other.id})
        await s.execute(text("DELETE FROM audit_events WHERE release_id = :r"), {"r": other.id})
    verdict = await _verify(sessions, other.id)
    assert verdict.problem is not None and "no audit chain" in verdict.problem.what


async def test_concurrent_appends_never_fork_a_chain(db) -> None:
    _engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    now = datetime.now(UTC)

    async def one(i: int) -> None:
        async with sessions() as s, s.begin():
            await audit.append(s, rel.id, "test_note", f"U{i}", {"i": i}, now + timedelta(microseconds=i))
            await asyncio.sleep(0)  # hold the transaction open across an await, as a real writer would

    await asyncio.gather(*(one(i) for i in range(24)))
    async with sessions() as s:
        rows = await audit.chain(s, rel.id)
    assert [r.seq for r in rows] == list(range(1, 26))
    assert len({r.prev_hash for r in rows}) == 25  # no two rows share a parent: no fork
    assert (await _verify(sessions, rel.id)).ok


def test_verify_chain_is_pure_and_names_the_first_bad_row() -> None:
    from domain.audit import AuditRow, Head, StoredRow

    at = datetime(2027, 1, 1, tzinfo=UTC)
    rows, prev = [], GENESIS
    for seq in (1, 2, 3):
        r = AuditRow(release_id=9, seq=seq, kind="k", actor="U", at=at, data={"n": seq})
        h = chain_hash(prev, r)
        rows.append(StoredRow(r, prev, h))
        prev = h
    assert verify_chain(9, rows, Head(3, prev)).ok
    assert verify_chain(9, rows[:2], Head(3, prev)).problem.seq == 3  # type: ignore[union-attr]
    forged = StoredRow(AuditRow(9, 2, "k", "EVE", at, {"n": 2}), rows[1].prev_hash, rows[1].hash)
    assert verify_chain(9, [rows[0], forged, rows[2]], Head(3, prev)).problem.seq == 2  # type: ignore[union-attr]


async def test_purge_removes_whole_chains_only(db) -> None:
    _engine, sessions = db
    gone = await _lifecycle(sessions)  # cancelled
    kept = await releases.create_release(sessions, spec())
    await _decide(sessions, kept.id)
    later = datetime.now(UTC) + timedelta(days=1)
    states = [ReleaseState.CANCELLED.value]
    async with sessions() as s, s.begin():
        found = await audit.purgeable(s, states, later)
        assert [(p.key, p.audit_rows) for p in found] == [(gone.key, 7)]
        assert await audit.purge_releases(s, [p.release_id for p in found] + [kept.id], states, later) == 1
    async with sessions() as s:
        assert (await s.execute(select(AuditEvent).where(AuditEvent.release_id == gone.id))).first() is None
        assert (await s.get(Release, gone.id)) is None
    assert (await _verify(sessions, kept.id)).ok
    async with sessions() as s, s.begin():
        await s.execute(update(Release).where(Release.id == kept.id).values(state="cancelled"))
        # Too recent: nothing goes.
        assert await audit.purgeable(s, states, datetime.now(UTC) - timedelta(days=1)) == []
    async with sessions() as s, s.begin():
        await s.execute(delete(Release).where(Release.id == -1))


@pytest.mark.parametrize("backend", backends())
async def test_migration_backfills_a_verifiable_chain(backend: str, tmp_path) -> None:
    from storage.db import make_async_engine, make_sessionmaker, make_sync_engine
    from storage.migrate import upgrade

    with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0006")
        engine = make_sync_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO releases (id, team_id, number, name, workload, channel_id, cutover_start, "
                        "cutover_end, timezone, template_key, state, created_by, created_at, updated_at, version) "
                        "VALUES (1, 'T1', 1, 'Old', '', 'C1', '2027-01-01 10:00:00+00:00', "
                        "'2027-01-01 14:00:00+00:00', 'UTC', 'caf-migration-release', 'completed', 'U1', "
                        "'2026-11-01 10:00:00+00:00', '2026-11-01 10:00:00+00:00', 3)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO checklist_items (id, release_id, phase_key, phase_title, phase_position, position,"
                        " key, title, responsible_roles, approver_roles, due_at, window_bound, blocks_cutover, state,"
                        " version) VALUES (1, 1, 'p', 'P', 0, 0, 'cc.window_appr', 'Window', '[]', '[]',"
                        " '2026-12-01 10:00:00+00:00', false, false, 'approved', 1)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO decisions (id, release_id, item_id, item_version, kind, user_id, role_key, at) "
                        "VALUES (1, 1, 1, 0, 'approve', 'UWBO', 'workload-business-owner', "
                        "'2026-12-01 09:00:00.123456+00:00')"
                    )
                )
                for i, (kind, at) in enumerate(
                    [("cutover_complete", "2027-01-01 13:00:00+00:00"), ("cutover_start", "2027-01-01 10:00:00+00:00")],
                    start=1,
                ):
                    conn.execute(
                        text(
                            "INSERT INTO release_events (id, release_id, kind, user_id, at) "
                            "VALUES (:i, 1, :k, 'U1', :at)"
                        ),
                        {"i": i, "k": kind, "at": at},
                    )
        finally:
            engine.dispose()
        await asyncio.to_thread(upgrade, url)
        aengine = make_async_engine(url)
        try:
            sessions = make_sessionmaker(aengine)
            assert await _kinds(sessions, 1) == [
                "release_created",
                "decision_approve",
                "cutover_start",
                "cutover_complete",
            ]
            verdict = await _verify(sessions, 1)
            assert verdict.ok and verdict.checked == 4
            # New appends continue the backfilled chain.
            async with sessions() as s, s.begin():
                await audit.append(s, 1, "test_note", None, {}, datetime.now(UTC))
            assert (await _verify(sessions, 1)).checked == 5
        finally:
            await aengine.dispose()
