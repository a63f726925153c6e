"""`cutover sandbox`: the real app against the local Slack stand-in, with a Slack-like page to click.

Nothing here needs Slack settings: the stand-in, the secrets and a throw-away SQLite database are made
for the run, so a newcomer can try every role of a release on their own machine.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from domain.rehearsal import describe, factor_problem

if TYPE_CHECKING:  # imported lazily below: the other commands should not load the stand-in
    from sandbox.launcher import Sandbox

DEMO_FACTOR = 7200  # a day of plan in 12 s: the plan's first due date to the cutover in ~4 minutes
DEMO_NAME = "Payroll to Azure"
# Stakeholder channels of the demo (a rehearsal posts only to its own channel, but names these).
DEMO_CHANNELS = (("business", "business_channel"), ("it", "it_channel"), ("support", "it_channel"))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sandbox",
        help="try Cutover without a Slack workspace: the app, a local Slack stand-in and a page in your browser",
    )
    p.add_argument("--port", type=int, default=8080, help="port of the page on 127.0.0.1 (default 8080)")
    p.add_argument("--demo", action="store_true", help="seed a staffed rehearsal release to click through")
    p.add_argument(
        "--demo-factor",
        type=int,
        default=DEMO_FACTOR,
        metavar="N",
        help=f"clock factor of the demo rehearsal (default {DEMO_FACTOR}: {describe(DEMO_FACTOR)})",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="keep the sandbox's data here (default: a temporary SQLite file, removed on exit; the stand-in "
        "forgets its messages on exit, so a kept database only makes sense for inspection)",
    )
    p.set_defaults(func=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace) -> None:
    from bot.settings import TemplateSettings
    from bot.templates import exit_on_template_problems
    from sandbox.launcher import Sandbox

    # The app it starts reads the same TEMPLATES_DIR: refuse here, with every problem, before anything runs.
    exit_on_template_problems(TemplateSettings(), "sandbox")
    if args.demo and (problem := factor_problem(args.demo_factor)):
        print(f"--demo-factor: {problem.replace('`', '')}", file=sys.stderr)
        raise SystemExit(2)
    workdir = Path(tempfile.mkdtemp(prefix="cutover-sandbox-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'sandbox.db'}"
    log_path = workdir / "app.log"
    box = Sandbox(port=args.port, database_url=database_url, log_path=log_path, cwd=workdir)
    try:
        _run(box, args, log_path)
    finally:
        box.stop()
        if args.database_url is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(box: Sandbox, args: argparse.Namespace, log_path: Path) -> None:
    import httpx

    from sandbox.launcher import SandboxError

    print("Starting the Slack stand-in and the app…", flush=True)
    try:
        # Ctrl-C here is Python's KeyboardInterrupt: it cuts the health wait short and stop() tidies up.
        box.start()
        if args.demo:
            seed_demo(box, args.demo_factor)
    except KeyboardInterrupt:
        print("Stopped before the sandbox was ready.", file=sys.stderr)
        raise SystemExit(130) from None
    except (SandboxError, httpx.HTTPError, TimeoutError) as e:
        print(f"cutover sandbox: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C while the app drains: don't make the person wait
            box.kill()
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"Cutover sandbox: {box.url}", flush=True)
    hint = (
        "A rehearsal release is running in #payroll-migration; switch people top left and click along."
        if args.demo
        else "Open it, pick who you are top left, and type /release help."
    )
    print(f"{hint} The app's log: {log_path}. Ctrl-C stops everything.", flush=True)
    stop.wait()
    print("Stopping…", flush=True)


def seed_demo(box: Sandbox, factor: int) -> None:
    """A staffed rehearsal in the release channel, created and set up through slash commands as Slack
    would send them, so the demo shows only what a real user could have done."""
    from sandbox.driver import wait_until
    from sandbox.launcher import SandboxError

    team, driver = box.team, box.driver
    pm = next(p for p in team.people if p.role_key == "project-manager")

    def run(text: str, posts: str | None = None) -> None:
        """Runs a command and waits for its answer: private, or one post in the channel with `posts`."""
        channel = team.release_channel
        seen = {m["ts"] for m in driver.standin.messages(channel)}
        r = driver.slash(text=text, user=pm.id, channel=channel)
        if r.status != 200:
            raise SandboxError(f"the demo's `/release {text}` was answered with HTTP {r.status}")
        if posts is None:
            driver.wait_responses(r, count=1, timeout=20)
            return
        wanted = posts

        def answered() -> list[dict[str, Any]]:
            fresh = [m for m in driver.standin.messages(channel) if m["ts"] not in seen and wanted in m["text"]]
            return fresh or driver.responses(r)

        wait_until(answered, timeout=20, message=f"the demo's `/release {text}` was not answered")

    run(f"new {DEMO_NAME} --duration 4h --rehearsal {factor}")
    for person in team.people:
        if person.id != pm.id:
            # Typed in the release channel, an assignment is answered by one post there, nothing private.
            run(f"assign {person.role_key} <@{person.id}>", posts="now holds")
    for audience, attr in DEMO_CHANNELS:
        run(f"channel {audience} <#{getattr(team, attr)}>")
