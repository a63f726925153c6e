"""The one read a click starts with (storage.checklist.clicked_item), on every backend: a table of
clicks, each with what the read must tell."""

from sqlalchemy import event, select

from domain.model import DecisionKind, ItemState
from storage import checklist as decisions
from storage import releases
from storage.models import ChecklistItem
from tests.factories import spec


async def test_clicked_item_tells_a_repeat_from_a_first_click_and_a_race_in_one_statement(db) -> None:
    engine, sessions = db
    rel = await releases.create_release(sessions, spec())
    other_team = await releases.create_release(sessions, spec(team="T2"))
    async with sessions() as s:
        item = (await s.execute(select(ChecklistItem).where(ChecklistItem.release_id == rel.id))).scalars().first()
        foreign = (
            (await s.execute(select(ChecklistItem).where(ChecklistItem.release_id == other_team.id))).scalars().first()
        )
    assert item is not None and foreign is not None
    await decisions.record(
        sessions,
        release_id=rel.id,
        item_id=item.id,
        version=0,
        kind=DecisionKind.DONE,
        new_state=ItemState.DONE,
        user_id="UPM",
        role_key=None,
    )
    cases = [
        # (item, team, clicked version, kind, user) -> (version now, repeat) or None (not found here)
        ((item.id, "T1", 0, DecisionKind.DONE, "UPM"), (1, True)),  # double click, Slack retry
        ((item.id, "T1", 0, DecisionKind.DONE, "UOTHER"), (1, False)),  # someone else was first
        ((item.id, "T1", 0, DecisionKind.UNDO, "UPM"), (1, False)),  # another decision on an old button
        ((item.id, "T1", 1, DecisionKind.UNDO, "UPM"), (1, False)),  # a current button: a first click
        ((item.id, "", 1, DecisionKind.UNDO, "UPM"), (1, False)),  # a trusted caller, any workspace
        ((foreign.id, "T1", 0, DecisionKind.DONE, "UPM"), None),  # another workspace's item
        ((10**9, "T1", 0, DecisionKind.DONE, "UPM"), None),  # gone
    ]
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for args, expected in cases:
        statements.clear()
        async with sessions() as s:
            got = await decisions.clicked_item(s, *args)
        assert [st for st in statements if not st.startswith("BEGIN")] and len(
            [st for st in statements if st.lstrip().upper().startswith("SELECT")]
        ) == 1, statements
        if expected is None:
            assert got is None, args
        else:
            assert got is not None and (got.release_id, got.version, got.repeat) == (rel.id, *expected), (args, got)
