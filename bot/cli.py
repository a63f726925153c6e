"""`cutover`: serve, socket, worker, db upgrade, manifest, sandbox, template, audit verify, export, purge."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.evidence_cmd import add_parser as add_evidence_parsers
from bot.sandbox_cmd import add_parser as add_sandbox_parser
from bot.settings import DatabaseSettings, Settings, SettingsError, exit_on_settings_error, load_settings
from bot.template_cmd import add_parser as add_template_parser
from bot.templates import exit_on_template_problems


def _settings(command: str = "serve") -> Settings:
    try:
        settings = load_settings(Settings)
    except SettingsError as e:
        exit_on_settings_error(e)
        raise  # unreachable: exit_on_settings_error exits
    exit_on_template_problems(settings, command)
    return settings


def _logging(settings: Settings) -> None:
    from bot.logs import configure

    configure(settings.log_level, settings.log_format)


def _migrate(settings: Settings) -> None:
    from storage.migrate import upgrade_if_needed

    upgrade_if_needed(settings.database_url)


def cmd_serve(_args: argparse.Namespace) -> None:
    settings = _settings()
    if settings.slack_signing_secret is None or not settings.slack_signing_secret.get_secret_value():
        exit_on_settings_error(
            SettingsError(
                "Configuration error: SLACK_SIGNING_SECRET is required for `cutover serve` "
                "(Basic Information → App Credentials → Signing Secret)"
            )
        )
    _logging(settings)
    if settings.auto_migrate:
        _migrate(settings)
    import uvicorn

    from bot.app import create_app
    from bot.web import create_web_app

    app, components = create_app(settings)
    web = create_web_app(app, components)
    uvicorn.run(
        web,
        log_config=None,
        # One process: several workers would each run a sender and hold their own state. PaaS hosts
        # set WEB_CONCURRENCY, which uvicorn would otherwise read; scale with more processes instead.
        workers=1,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def cmd_socket(_args: argparse.Namespace) -> None:
    settings = _settings("socket")
    if settings.slack_app_token is None:
        exit_on_settings_error(
            SettingsError("Configuration error: SLACK_APP_TOKEN (xapp-…) is required for `cutover socket`")
        )
    _logging(settings)
    if settings.auto_migrate:
        _migrate(settings)
    asyncio.run(_run_socket(settings))


async def _run_socket(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app

    assert settings.slack_app_token is not None
    from bot.scheduler import start_scheduler

    app, components = create_app(settings, socket_mode=True)
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    scheduler = start_scheduler(components) if settings.run_scheduler else None
    await handler.connect_async()
    try:
        await _wait_for_signal()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await handler.close_async()
        await components.sender.drain(grace=10.0)
        await components.tasks.drain(grace=10.0)
        await components.close()


def cmd_worker(_args: argparse.Namespace) -> None:
    settings = _settings("worker")
    _logging(settings)
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    from bot.app import build_components
    from bot.health import serve_ops
    from bot.scheduler import start_scheduler

    components = build_components(settings)
    ops = None
    if settings.metrics_port is not None:
        # Before any work starts: a port already taken stops the worker with one line.
        try:
            ops = await serve_ops(components, settings.host, settings.metrics_port)
        except OSError as e:
            await components.engine.dispose()
            where = f"{settings.host}:{settings.metrics_port}"
            print(f"cutover worker: cannot listen on {where} (METRICS_PORT): {e.strerror or e}", file=sys.stderr)
            raise SystemExit(1) from None
    scheduler = start_scheduler(components)
    logging.getLogger("cutover.worker").info("worker %s sending announcements", components.sender.worker_id)
    try:
        await _wait_for_signal()
    finally:
        scheduler.shutdown(wait=False)
        # /healthz keeps answering (503 once the scheduler is silent) while the sends in flight finish.
        await components.sender.drain(grace=10.0)
        await components.tasks.drain(grace=10.0)
        if ops is not None:
            await ops.cleanup()
        await components.close()


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def cmd_db_upgrade(_args: argparse.Namespace) -> None:
    try:
        settings = load_settings(DatabaseSettings)
    except SettingsError as e:
        exit_on_settings_error(e)
        raise
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from storage.migrate import upgrade_if_needed

    upgrade_if_needed(settings.database_url)
    print("The database is at the latest revision.")


def cmd_manifest(args: argparse.Namespace) -> None:
    from bot.manifest import render

    url: str = args.url
    if not url.startswith("https://"):
        print("--url must be the app's public https:// base URL, e.g. https://cutover.example.com", file=sys.stderr)
        raise SystemExit(2)
    sys.stdout.write(render(url, args.command))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cutover", description="Run cloud-migration releases from Slack.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="HTTP mode: Slack events on POST /slack/events, health on GET /healthz").set_defaults(
        func=cmd_serve
    )
    sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN)").set_defaults(func=cmd_socket)
    sub.add_parser(
        "worker",
        help="background scheduler only (for deployments with several web replicas); "
        "/healthz and /metrics on METRICS_PORT when set",
    ).set_defaults(func=cmd_worker)
    db = sub.add_parser("db", help="database maintenance")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    dbsub.add_parser("upgrade", help="apply pending migrations (alembic upgrade head)").set_defaults(
        func=cmd_db_upgrade
    )
    m = sub.add_parser("manifest", help="print the Slack app manifest with your URL filled in")
    m.add_argument("--url", required=True, help="public base URL, e.g. https://cutover.example.com")
    m.add_argument("--command", default="/release", help="slash command name (default /release)")
    m.set_defaults(func=cmd_manifest)
    add_sandbox_parser(sub)
    add_template_parser(sub)
    add_evidence_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
