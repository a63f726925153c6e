"""bot.live.RenderCache: a message whose inputs did not change costs no render; a change re-renders
only the messages that show it, with the same result as rendering from scratch."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.live import Part, RenderCache, render_all
from domain.model import ItemState, ReleaseState, ReleaseView
from tests.test_messages import CUTOVER, make_release

NOW = CUTOVER - timedelta(days=2)


def _everything(cache: RenderCache, release: ReleaseView, now: datetime) -> list[Part]:
    parts = [cache.summary(release, now)]
    for phase in release.phases:
        parts.extend(cache.phase(release, phase, now))
    return parts


def test_unchanged_messages_are_not_rendered_again_and_match_a_fresh_render() -> None:
    release = make_release()
    cache = RenderCache()
    first = _everything(cache, release, NOW)
    assert cache.renders == len(first) == len(render_all(release, NOW))
    # A new version with nothing shown changed, in the same second: no render at all.
    again = _everything(cache, replace(release, version=release.version + 1), NOW + timedelta(milliseconds=300))
    assert cache.renders == len(first) and again == first

    # One item decided: its phase (every part of it) and the summary, nothing else.
    phase = release.phases[1]
    item = next(i for i in phase.items if i.state is ItemState.PENDING and not i.is_gate)
    done = replace(item, state=ItemState.DONE, version=item.version + 1, decided_by="UPM", decided_at=NOW)
    items = tuple(done if i.id == item.id else i for i in phase.items)
    changed = replace(
        release,
        version=release.version + 1,
        phases=tuple(replace(p, items=items) if p.key == phase.key else p for p in release.phases),
    )
    before = cache.renders
    parts = _everything(cache, changed, NOW + timedelta(seconds=1))
    phase_parts = len(cache.phase(changed, changed.phases[1], NOW))
    assert cache.renders - before == 1 + phase_parts
    fresh = _everything(RenderCache(), changed, NOW + timedelta(seconds=1))
    assert [p.content_hash for p in parts] == [p.content_hash for p in fresh]
    assert parts != first

    # A state the phases show (buttons go when the release closes): every message again.
    before = cache.renders
    closed = replace(changed, state=ReleaseState.CLOSED)
    _everything(cache, closed, NOW + timedelta(seconds=1))
    assert cache.renders - before == len(parts)


def test_lateness_reaches_the_cache_key() -> None:
    release = make_release()
    cache = RenderCache()
    early = _everything(cache, release, CUTOVER - timedelta(days=400))
    late = _everything(cache, release, CUTOVER + timedelta(days=400))
    assert [p.content_hash for p in early[1:]] != [p.content_hash for p in late[1:]]
