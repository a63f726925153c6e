"""The /release command: parse, answer what can be answered at once, hand the rest to flows."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import announce_flows, flows
from bot.components import Components
from bot.grammar import (
    Announce,
    Assign,
    Cancel,
    CutoverCommand,
    Help,
    ListReleases,
    Move,
    NewModal,
    NewRelease,
    NotYetAvailable,
    Retro,
    Roles,
    Schedule,
    SetChannel,
    Status,
    Unassign,
    UsageError,
    help_overview,
    parse,
    usage_for,
)
from bot.lifecycle_commands import lifecycle_command
from bot.logs import bind
from bot.releases import ReleaseNotFound, resolve_release
from bot.replies import ephemeral
from domain.time import utcnow
from messages.announcements import schedule_message
from messages.common import Rendered
from messages.help import help_message, info_message, usage_error_message
from messages.retro import retro_status_message
from messages.status import release_list_message, roles_message, status_message
from storage.announcements import schedule, stakeholder_channels
from storage.queries import current_releases, load_release_view, release_view
from storage.retro import survey_for, survey_view

log = logging.getLogger(__name__)


def register(app: AsyncApp, c: Components) -> None:
    command_name = c.settings.slash_command

    async def on_release(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        async def apologise(_exc: BaseException) -> None:
            await respond(
                **ephemeral(
                    info_message(
                        ":warning: Something went wrong on our side while doing that; it may not have taken effect. "
                        f"Check with `{command_name} status` and try again."
                    )
                )
            )

        team_id = str(command.get("team_id") or "")
        channel_id = str(command.get("channel_id") or "")
        user_id = str(command.get("user_id") or "")
        text = str(command.get("text") or "")
        try:
            cmd = parse(text, command_name)
        except UsageError as e:
            await ack(**ephemeral(usage_error_message(e.message, e.usage)))
            return

        if isinstance(cmd, Help):
            overview = usage_for(cmd.topic, command_name) if cmd.topic else help_overview(command_name)
            await ack(**ephemeral(help_message(overview)))
        elif isinstance(cmd, NotYetAvailable):
            await ack(
                **ephemeral(
                    info_message(
                        f"`{command_name} {cmd.verb}` is not available in this version yet. "
                        f"`{command_name} help` lists what is."
                    )
                )
            )
        elif isinstance(cmd, NewModal):
            await ack()
            c.tasks.spawn(
                flows.open_new_release_modal(c, str(command.get("trigger_id") or ""), channel_id, respond),
                context=f"new-release modal for {user_id}",
                on_error=apologise,
            )
        elif isinstance(cmd, NewRelease):
            if not channel_id.startswith(("C", "G")):
                await ack(
                    **ephemeral(
                        usage_error_message(
                            "Run this in the channel where the release will be coordinated, not in a direct message.",
                            usage_for("new", command_name),
                        )
                    )
                )
                return
            await ack()
            c.tasks.spawn(
                flows.create_from_text(
                    c, cmd, team_id=team_id, channel_id=channel_id, user_id=user_id, respond=respond
                ),
                on_error=apologise,
                context=f"new release by {user_id} in {channel_id}",
            )
        elif isinstance(cmd, ListReleases):
            async with c.sessions() as session:
                rows = await current_releases(session, team_id)
                views = [release_view(r) for r in rows]
            await ack(**ephemeral(release_list_message(views, utcnow())))
        elif isinstance(
            cmd,
            Status
            | Roles
            | Assign
            | Unassign
            | Cancel
            | SetChannel
            | Schedule
            | Move
            | Announce
            | CutoverCommand
            | Retro,
        ):
            try:
                async with c.sessions() as session:
                    release_id = await resolve_release(session, team_id, channel_id, cmd.release)
                    view = await load_release_view(session, release_id)
            except ReleaseNotFound as e:
                verb = type(cmd).__name__.lower()
                await ack(**ephemeral(usage_error_message(str(e), usage_for(verb, command_name))))
                return
            assert view is not None
            bind(release=view.key)
            if isinstance(cmd, Status):
                await ack(**ephemeral(status_message(view, utcnow())))
            elif isinstance(cmd, Retro) and cmd.action == "status":
                async with c.sessions() as session:
                    survey = await survey_for(session, view.id)
                    survey_info = await survey_view(session, survey) if survey else None
                await ack(**ephemeral(retro_status_message(view, survey_info, command_name)))
            elif isinstance(cmd, CutoverCommand | Retro):
                await ack()

                async def tell(r: Rendered) -> None:
                    await respond(**ephemeral(r))

                c.tasks.spawn(
                    lifecycle_command(c, view, cmd, user_id, tell),
                    context=f"{type(cmd).__name__.lower()} {cmd.action} on {view.key} by {user_id}",
                    on_error=apologise,
                )
            elif isinstance(cmd, Schedule):
                async with c.sessions() as session:
                    anns = await schedule(session, view.id)
                    channels = await stakeholder_channels(session, view.id)
                await ack(**ephemeral(schedule_message(view, anns, channels, utcnow())))
            elif isinstance(cmd, SetChannel | Move | Announce):
                await ack()
                work = {
                    SetChannel: announce_flows.set_channel,
                    Move: announce_flows.move,
                    Announce: announce_flows.announce,
                }[type(cmd)]
                c.tasks.spawn(
                    work(c, view, cmd, user_id=user_id, respond=respond),  # type: ignore[operator]
                    context=f"{type(cmd).__name__.lower()} on {view.key} by {user_id}",
                    on_error=apologise,
                )
            elif isinstance(cmd, Roles):
                await ack(**ephemeral(roles_message(view)))
            elif isinstance(cmd, Assign | Unassign):
                await ack()
                c.tasks.spawn(
                    flows.change_roles(c, view, cmd, user_id=user_id, respond=respond),
                    context=f"{'assign' if isinstance(cmd, Assign) else 'unassign'} on {view.key} by {user_id}",
                    on_error=apologise,
                )
            else:
                await ack()
                c.tasks.spawn(
                    flows.cancel_release(c, view, user_id=user_id, respond=respond),
                    context=f"cancel {view.key} by {user_id}",
                    on_error=apologise,
                )
        else:  # pragma: no cover - the parser returns only the types above
            await ack(**ephemeral(info_message(f"`{command_name} help` lists what I understand.")))

    app.command(command_name)(on_release)
