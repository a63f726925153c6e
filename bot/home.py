"""The App Home tab: built for one person from the database, published with views.publish, and
re-published for the people a change affects, coalesced and bounded (Slack limits views.publish)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from slack_sdk.errors import SlackApiError

from bot.access import people_holding, roles_for
from bot.components import Components
from bot.tasks import TaskTracker
from domain.home import involved_in, waiting_for
from domain.model import ReleaseView
from domain.time import utcnow
from messages.home import Decided, home_view
from storage.home import current_release_views, recent_decisions
from storage.queries import load_release_header

log = logging.getLogger(__name__)

# Whom one change may re-publish for, at most: a release's role holders, deputies and creator.
MAX_AFFECTED = 200
# Seconds between two publishes of one person's Home: the changes in between go out together.
PUBLISH_INTERVAL = 1.0


async def build_home(c: Components, team_id: str, user_id: str) -> dict[str, object]:
    now = utcnow()
    async with c.sessions() as session:
        releases = await current_release_views(session, team_id)
        recent = await recent_decisions(session, team_id, user_id)
    held = {}
    for release in releases:
        wanted = {r for i in release.items for r in i.approver_roles} | {a.role_key for a in release.assignments}
        held[release.id] = await roles_for(c.directory, release, user_id, wanted, every_group=True)
    decided = []
    for d in recent:
        link = None
        if d.channel_id and d.message_ts:
            try:
                link = str(
                    (await c.client.chat_getPermalink(channel=d.channel_id, message_ts=d.message_ts))["permalink"]
                )
            except SlackApiError as e:
                log.info("no permalink for %s %s: %s", d.channel_id, d.message_ts, e.response.get("error"))
        decided.append(Decided(d.kind, d.at, d.item_title, d.release_key, d.for_user, link))
    view = home_view(
        waiting_for(user_id, releases, held, now),
        involved_in(user_id, releases, held, now),
        decided,
        command=c.settings.slash_command,
    )
    return view.to_dict()


async def publish_home(c: Components, team_id: str, user_id: str) -> None:
    view = await build_home(c, team_id, user_id)
    try:
        await c.client.views_publish(user_id=user_id, view=view)
    except SlackApiError as e:
        log.warning("views.publish for %s failed: %s", user_id, e.response.get("error"))


class HomeKeeper:
    """Re-publishes Home tabs: at most one publish per person per `interval` (the changes in between
    are coalesced into the next one) and at most `concurrency` at once."""

    def __init__(
        self,
        publish: Callable[[str, str], Awaitable[None]],
        tasks: TaskTracker,
        *,
        interval: float = 1.0,
        concurrency: int = 4,
    ) -> None:
        self._publish = publish
        self._tasks = tasks
        self._interval = interval
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[str] = set()
        self._dirty: dict[str, str] = {}  # user → team: another publish is due after the running one

    def touch(self, team_id: str, user_ids: Iterable[str]) -> None:
        for user in user_ids:
            if user in self._running:
                self._dirty[user] = team_id
                continue
            self._running.add(user)
            self._tasks.spawn(self._run(team_id, user), context=f"home of {user}")

    async def _run(self, team_id: str, user: str) -> None:
        try:
            while True:
                async with self._slots:
                    await self._publish(team_id, user)
                await asyncio.sleep(self._interval)
                nxt = self._dirty.pop(user, None)
                if nxt is None:
                    return
                team_id = nxt
        finally:
            self._running.discard(user)


async def affected_people(c: Components, release: ReleaseView) -> set[str]:
    """Whose Home shows this release: its role holders (groups expanded), deputies and creator."""
    people, _unread = await people_holding(c.directory, release)
    people |= {d.user_id for d in release.deputies} | {release.created_by}
    people |= {i.decided_by for i in release.items if i.decided_by}
    return set(sorted(people)[:MAX_AFFECTED])


def wire_homes(c: Components) -> HomeKeeper:
    """Keep Home tabs current: every change the live messages show re-publishes its people's Homes."""

    async def publish(team_id: str, user_id: str) -> None:
        await publish_home(c, team_id, user_id)

    keeper = HomeKeeper(publish, c.tasks, interval=PUBLISH_INTERVAL)

    async def touch_people(release: ReleaseView) -> None:
        # The people of the release as it was and as it is now: an unassigned person's Home changes too.
        people = await affected_people(c, release)
        async with c.sessions() as session:
            fresh = await load_release_header(session, release.id)
        if fresh is not None:
            people |= await affected_people(c, fresh)
        keeper.touch(release.team_id, sorted(people)[:MAX_AFFECTED])

    def touch(release: ReleaseView) -> None:
        if release.team_id:
            c.tasks.spawn(touch_people(release), context=f"homes of {release.key}")

    c.touch_homes = touch
    c.live.on_change = touch
    return keeper
