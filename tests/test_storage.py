"""Storage behaviour on every backend: release creation, idempotent decisions, audit trail."""

import asyncio
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.model import DecisionKind, ItemState, ReleaseState, Subject, SubjectKind
from domain.roles import resolve_role
from domain.template import load_template
from storage import checklist as decisions
from storage import releases
from storage.models import ChecklistItem, Decision, Release
from storage.queries import load_release_view
from tests.factories import T0, spec


async def test_create_release_with_checklist(db) -> None:
    _engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    rel2 = await releases.create_release(sessions, spec())
    assert (rel.key, rel2.key) == ("REL-1", "REL-2")
    async with sessions() as s:
        view = await load_release_view(s, rel.id)
    assert view is not None
    template = load_template("caf-migration-release")
    assert len(view.items) == len(template.items)
    assert [p.key for p in view.phases] == [p.key for p in template.phases]
    assert view.cutover_start == T0 and view.cutover_start.tzinfo is not None
    assert all(i.due_at.tzinfo is not None for i in view.items)
    assert view.holders("project-manager") == (Subject(SubjectKind.USER, "UPM"),)
    assert view.state is ReleaseState.PLANNING


async def test_numbers_stay_unique_under_concurrent_creation(db) -> None:
    _engine, sessions = db
    made = await asyncio.gather(*(releases.create_release(sessions, spec()) for _ in range(6)))
    assert sorted(r.number for r in made) == [1, 2, 3, 4, 5, 6]
    other = await releases.create_release(sessions, spec(team="T2"))
    assert other.number == 1


async def _gate(sessions: async_sessionmaker[AsyncSession], release_id: int) -> ChecklistItem:
    async with sessions() as s:
        return (
            await s.execute(
                select(ChecklistItem).where(
                    ChecklistItem.release_id == release_id, ChecklistItem.key == "cc.window_appr"
                )
            )
        ).scalar_one()


async def test_same_decision_twice_and_concurrently_records_one(db) -> None:
    _engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    gate = await _gate(sessions, rel.id)

    async def approve(user: str = "UWBO") -> object:
        return await decisions.record(
            sessions,
            release_id=rel.id,
            item_id=gate.id,
            version=0,
            kind=DecisionKind.APPROVE,
            new_state=ItemState.APPROVED,
            user_id=user,
            role_key="workload-business-owner",
        )

    outcomes = await asyncio.gather(*(approve() for _ in range(8)))
    assert sum(isinstance(o, decisions.Recorded) for o in outcomes) == 1
    assert all(o == decisions.Stale(same=True) for o in outcomes if isinstance(o, decisions.Stale))
    assert isinstance(await approve(), decisions.Stale)  # a later retry too
    assert await approve("UOTHER") == decisions.Stale(same=False)
    async with sessions() as s:
        count = (await s.execute(select(func.count()).select_from(Decision))).scalar_one()
        row = (await s.execute(select(Decision))).scalar_one()
        item = await s.get(ChecklistItem, gate.id)
        release = await s.get(Release, rel.id)
    assert count == 1
    assert (row.kind, row.user_id, row.role_key, row.window_start) == ("approve", "UWBO", "workload-business-owner", T0)
    assert item is not None and (item.state, item.version, item.decided_by) == ("approved", 1, "UWBO")
    assert release is not None and release.version == 1


async def test_undo_appends_and_resets(db) -> None:
    _engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    gate = await _gate(sessions, rel.id)
    await decisions.record(
        sessions,
        release_id=rel.id,
        item_id=gate.id,
        version=0,
        kind=DecisionKind.REJECT,
        new_state=ItemState.REJECTED,
        user_id="UWBO",
        role_key="workload-business-owner",
        reason="window clashes with payroll run",
    )
    await decisions.record(
        sessions,
        release_id=rel.id,
        item_id=gate.id,
        version=1,
        kind=DecisionKind.UNDO,
        new_state=ItemState.PENDING,
        user_id="UWBO",
        role_key=None,
    )
    async with sessions() as s:
        kinds = (await s.execute(select(Decision.kind).order_by(Decision.id))).scalars().all()
        item = await s.get(ChecklistItem, gate.id)
    assert kinds == ["reject", "undo"]
    assert item is not None and (item.state, item.reason, item.decided_by) == ("pending", None, None)


async def test_assign_unassign_cancel(db) -> None:
    _engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    wbo = resolve_role("wbo")
    subjects = [Subject(SubjectKind.USER, "U1"), Subject(SubjectKind.GROUP, "S1")]
    async with sessions() as s, s.begin():
        assert await releases.assign(s, rel.id, wbo, subjects, "UPM") == subjects
    async with sessions() as s, s.begin():
        assert await releases.assign(s, rel.id, wbo, subjects[:1], "UPM") == []
    async with sessions() as s, s.begin():
        assert await releases.unassign(s, rel.id, wbo, [Subject(SubjectKind.USER, "U9")]) == []
        assert await releases.unassign(s, rel.id, wbo, subjects[:1]) == subjects[:1]
    async with sessions() as s, s.begin():
        assert await releases.cancel(s, rel.id)
    async with sessions() as s, s.begin():
        assert not await releases.cancel(s, rel.id)
    async with sessions() as s:
        view = await load_release_view(s, rel.id)
    assert view is not None
    assert view.holders("workload-business-owner") == (subjects[1],)
    assert view.state is ReleaseState.CANCELLED


@contextmanager
def counting(engine: AsyncEngine):
    stmts: list[str] = []

    def cb(conn, cursor, statement, params, context, executemany) -> None:
        stmts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", cb)
    try:
        yield stmts
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", cb)


async def test_statements_per_decision_do_not_grow_with_checklist_size(db) -> None:
    engine, sessions = db
    counts = []
    for n in (1, 3):
        rel = await releases.create_release(sessions, spec(channel=f"C{n}"))
        gate = await _gate(sessions, rel.id)
        if n == 3:
            async with sessions() as s, s.begin():  # a bigger checklist: duplicate the items
                rows = (await s.execute(select(ChecklistItem).where(ChecklistItem.release_id == rel.id))).scalars()
                for r in list(rows):
                    for k in range(2):
                        s.add(
                            ChecklistItem(
                                **{
                                    c: getattr(r, c)
                                    for c in (
                                        "release_id",
                                        "phase_key",
                                        "phase_title",
                                        "phase_position",
                                        "position",
                                        "title",
                                        "responsible_roles",
                                        "approver_roles",
                                        "due_at",
                                    )
                                },
                                key=f"{r.key}.{k}",
                                number=1000 + 2 * r.number + k,
                            )
                        )
        with counting(engine) as stmts:
            await decisions.record(
                sessions,
                release_id=rel.id,
                item_id=gate.id,
                version=0,
                kind=DecisionKind.APPROVE,
                new_state=ItemState.APPROVED,
                user_id="U",
                role_key="workload-business-owner",
            )
        counts.append(len([s for s in stmts if not s.upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]))
    # The decision's audit row adds a fixed five: the item's key, the lock, the head, the row, the head moved.
    assert counts[0] == counts[1] and counts[0] <= 10
