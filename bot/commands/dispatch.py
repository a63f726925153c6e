"""The slash command's dispatch table: one row per command type.

A row says which verb's usage to show, whether the command acts on a release (resolved here, once,
from `REL-n` or the channel), and what runs: `answer` for quick reads that travel in the ack, `run`
for everything else, after the ack, as a background task. Adding a verb means a type with its
grammar, one row here, one flow and one builder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import announcements, cutover, deputies, evidence, releases, retro, scope
from bot.commands import types as t
from bot.commands.parser import parse
from bot.commands.usage import help_overview, usage_for
from bot.components import Components
from bot.logs import bind
from bot.slack.payload import Actor, actor
from bot.slack.replies import apology, ephemeral, via_response_url
from domain.lifecycle import ACTION_VERBS
from domain.model import ReleaseView
from domain.states import Verb, refusal
from domain.template import available_templates, load_template
from domain.time import utcnow
from messages.common import Rendered
from messages.help import help_message, info_message, usage_error_message
from messages.status import Nudged, release_list_message, roles_message, status_message, templates_message
from storage.nudges import nudge_counts
from storage.queries import current_releases, load_release_view, release_view

Answer = Callable[[Components, Actor, Any, Any], Awaitable[Rendered]]
Run = Callable[..., Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Route:
    verb: str  # whose usage explains a refusal
    answer: Answer | None = None  # a quick read, answered in the ack
    run: Run | None = None  # (c, who, release, cmd, reply) after the ack
    on_release: bool = True  # resolve the release before answering or running
    acts: Callable[[Any], Verb] | None = None  # what the state machine is asked (None: a read)
    # Input checked against the release in the ack (its template's roles, phases): the problem, or None.
    check: Callable[[ReleaseView, Any], str | None] | None = None


async def _help(c: Components, _who: Actor, _release: None, cmd: t.Help) -> Rendered:
    command = c.settings.slash_command
    today = utcnow()
    shown = usage_for(cmd.topic, command, today=today) if cmd.topic else help_overview(command, today=today)
    return help_message(shown, command=command)


async def _list(c: Components, who: Actor, _release: None, _cmd: t.ListReleases) -> Rendered:
    async with c.sessions() as session:
        rows = await current_releases(session, who.team_id)
        views = [release_view(r) for r in rows]
    return release_list_message(views, utcnow(), command=c.settings.slash_command)


async def _templates(c: Components, _who: Actor, _release: None, _cmd: t.ListTemplates) -> Rendered:
    templates = [load_template(k) for k in available_templates()]
    return templates_message(templates, c.settings.default_template, command=c.settings.slash_command)


async def _status(c: Components, _who: Actor, release: ReleaseView, _cmd: t.Status) -> Rendered:
    async with c.sessions() as session:
        counts = await nudge_counts(session, release.id)
    nudged: dict[int, list[Nudged]] = {}
    for n in counts:
        nudged.setdefault(n.item_id, []).append(Nudged(n.user_id, n.count, n.since))
    current = load_template(release.template_key).version if release.template_key in available_templates() else None
    return status_message(
        release, utcnow(), command=c.settings.slash_command, nudged=nudged, current_template_version=current
    )


async def _roles(c: Components, _who: Actor, release: ReleaseView, _cmd: t.Roles) -> Rendered:
    return roles_message(release, command=c.settings.slash_command, now=utcnow())


RETRO_VERBS = {"open": Verb.RETRO_OPEN, "close": Verb.RETRO_CLOSE}

ROUTES: dict[type, Route] = {
    t.Help: Route("help", answer=_help, on_release=False),
    t.ListReleases: Route("list", answer=_list, on_release=False),
    t.ListTemplates: Route("templates", answer=_templates, on_release=False),
    t.NewModal: Route("new", run=releases.open_new_release_form, on_release=False),
    t.NewRelease: Route("new", run=releases.create_from_text, on_release=False),
    t.Status: Route("status", answer=_status),
    t.Roles: Route("roles", answer=_roles),
    t.Schedule: Route("schedule", answer=announcements.show_schedule),
    t.RetroStatus: Route("retro", answer=retro.show_status),
    t.Assign: Route("assign", run=releases.change_roles, acts=lambda _: Verb.ASSIGN, check=releases.role_problem),
    t.Unassign: Route("unassign", run=releases.change_roles, acts=lambda _: Verb.UNASSIGN, check=releases.role_problem),
    t.SetDeputy: Route("deputy", run=deputies.set_deputy, acts=lambda _: Verb.DEPUTY, check=releases.role_problem),
    t.Cancel: Route("cancel", run=releases.cancel_release, acts=lambda _: Verb.CANCEL),
    t.SetChannel: Route("channel", run=announcements.set_channel, acts=lambda _: Verb.CHANNEL),
    t.Move: Route("move", run=announcements.move, acts=lambda _: Verb.MOVE),
    t.Announce: Route("announce", run=announcements.announce, acts=lambda _: Verb.ANNOUNCE),
    t.CutoverCommand: Route("cutover", run=cutover.run_command, acts=lambda cmd: ACTION_VERBS[cmd.action]),
    t.Retro: Route("retro", run=retro.run_command, acts=lambda cmd: RETRO_VERBS[cmd.action]),
    t.ItemAdd: Route("item", run=scope.change_scope, acts=lambda _: Verb.ITEM_ADD, check=scope.input_problem),
    t.ItemEdit: Route("item", run=scope.change_scope, acts=lambda _: Verb.ITEM_EDIT, check=scope.input_problem),
    t.ItemRemove: Route("item", run=scope.change_scope, acts=lambda _: Verb.ITEM_REMOVE),
    t.Export: Route("export", run=evidence.export_to_requester, acts=lambda _: Verb.EXPORT),
}


def register(app: AsyncApp, c: Components) -> None:
    slash = c.settings.slash_command

    async def on_command(
        ack: AsyncAck, body: dict[str, Any], command: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        try:
            cmd = parse(str(command.get("text") or ""), slash, today=utcnow())
        except t.UsageError as e:
            await ack(**ephemeral(usage_error_message(e.message, e.usage)))
            return
        route = ROUTES[type(cmd)]
        who = actor(context, body)
        release: ReleaseView | None = None
        if route.on_release:
            try:
                async with c.sessions() as session:
                    release_id = await releases.resolve_release(session, who, getattr(cmd, "release", None), slash)
                    release = await load_release_view(session, release_id)
            except releases.ReleaseNotFound as e:
                await ack(**ephemeral(usage_error_message(str(e), usage_for(route.verb, slash, today=utcnow()))))
                return
            assert release is not None
            bind(release=release.key)
            # The state machine first: a verb the release's state does not allow changes nothing.
            if route.acts is not None and (why := refusal(route.acts(cmd), release.state, release.key, slash)):
                await ack(**ephemeral(info_message(f":no_entry: {why}")))
                return
            if route.check is not None and (problem := route.check(release, cmd)):
                await ack(**ephemeral(usage_error_message(problem, usage_for(route.verb, slash, today=utcnow()))))
                return
        if route.answer is not None:
            await ack(**ephemeral(await route.answer(c, who, release, cmd)))
            return
        assert route.run is not None
        await ack()
        reply = via_response_url(respond)
        c.tasks.spawn(
            route.run(c, who, release, cmd, reply),
            context=f"{route.verb} {release.key if release else ''} by {who.user_id}",
            on_error=apology(reply),
        )

    app.command(slash)(on_command)
