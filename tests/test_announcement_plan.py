"""The announcement plan with a controlled clock: offsets, skipped past items, re-timing, audiences."""

from datetime import UTC, datetime, timedelta

from domain.announcements import (
    AnnouncementKind,
    AnnouncementView,
    DeliveryState,
    DeliveryView,
    StakeholderChannel,
    channels_for,
    plan,
    retime,
)
from domain.template import load_template

T = load_template("caf-migration-release")
START = datetime(2027, 3, 1, 22, 0, tzinfo=UTC)
END = START + timedelta(hours=4)


def by_key(items):
    return {p.key: p for p in items}


def test_offsets_follow_the_template() -> None:
    p = by_key(plan(T, START, END, now=START - timedelta(days=30)))
    assert p["ann.initial"].send_at == START - timedelta(days=14)
    assert p["ann.it_ops"].send_at == START - timedelta(days=7)
    assert p["ann.reminder"].send_at == START - timedelta(days=1)
    assert p["ann.started"].send_at == START
    assert p["ann.outcome"].send_at == END
    assert p["ann.post_check"].send_at == START + timedelta(days=1)
    assert not any(x.skipped for x in p.values())
    assert p["ann.it_ops"].audiences == ("it", "support")


def test_in_window_offsets_scale_to_the_real_window() -> None:
    long_end = START + timedelta(hours=10)
    p = by_key(plan(T, START, long_end, now=START - timedelta(days=30)))
    assert p["ann.outcome"].send_at == long_end
    assert p["ann.initial"].send_at == START - timedelta(days=14)


def test_past_announcements_are_skipped_not_sent() -> None:
    now = START - timedelta(days=5)
    p = by_key(plan(T, START, END, now=now))
    assert p["ann.initial"].skipped and p["ann.it_ops"].skipped
    assert not p["ann.freeze"].skipped and not p["ann.started"].skipped


def test_retime_moves_with_the_window() -> None:
    later = START + timedelta(days=7)
    assert retime(T, "ann.initial", later, later + timedelta(hours=4)) == later - timedelta(days=14)
    assert retime(T, "ann.outcome", later, later + timedelta(hours=2)) == later + timedelta(hours=2)
    assert retime(T, "ann.unknown", later, later + timedelta(hours=2)) is None


def test_audience_channels() -> None:
    chans = [
        StakeholderChannel("business", "C1"),
        StakeholderChannel("it", "C2"),
        StakeholderChannel("support", "C2"),
        StakeholderChannel("it", "C3"),
    ]
    assert channels_for(("business",), chans) == ("C1",)
    assert channels_for(("it", "support"), chans) == ("C2", "C3")
    assert channels_for(("all",), chans) == ("C1", "C2", "C3")
    assert channels_for(("business",), []) == ()
    everyone = [*chans, StakeholderChannel("all", "C9")]
    assert channels_for(("business",), everyone) == ("C1", "C9")


def test_announcement_state_summarises_deliveries() -> None:
    def ann(*states: DeliveryState, cancelled: bool = False) -> AnnouncementView:
        ds = tuple(DeliveryView(i, f"C{i}", s, START) for i, s in enumerate(states))
        return AnnouncementView(1, "k", AnnouncementKind.TEMPLATE, ("all",), "", START, None, None, ds, cancelled)

    assert ann().state == "no channel"
    assert ann(DeliveryState.SENT, DeliveryState.SENT).state == "sent"
    assert ann(DeliveryState.SENT, DeliveryState.PENDING).state == "scheduled"
    assert ann(DeliveryState.SENT, DeliveryState.FAILED).state == "partly sent"
    assert ann(DeliveryState.FAILED).state == "failed"
    assert ann(DeliveryState.SKIPPED).state == "skipped"
    assert ann(DeliveryState.PENDING, cancelled=True).state == "cancelled"
