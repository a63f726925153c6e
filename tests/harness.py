"""The end-to-end rig: the Slack stand-in, a real `cutover serve` process, a signed driver."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select, text

from sandbox.driver import SlackDriver, wait_until
from sandbox.launcher import Sandbox, free_port
from sandbox.webapi import SlackStandIn
from storage.db import make_sync_engine
from storage.models import ChecklistItem, Decision, Release, ReleaseMessage, RoleAssignment

BOT_TOKEN = "xoxb-test-token"
TEAM = "T0CUTOVER"

# One person per role, in different zones, plus outsiders and a group.
PEOPLE = {
    "UPM": ("pat", "America/New_York"),
    "UWBO": ("wanda", "Europe/Berlin"),
    "UMA": ("mario", "Asia/Tokyo"),
    "USPON": ("sam", "UTC"),
    "UOCM": ("olga", "Europe/London"),
    "UOUT": ("otto", "Australia/Sydney"),
    "UG1": ("gina", "Europe/Paris"),
    "UG2": ("gus", "America/Chicago"),
}
GROUP = "SWBOTEAM"


@dataclass
class Stack:
    api: SlackStandIn
    driver: SlackDriver
    database_url: str
    db: Engine
    app_url: str
    log_path: Path
    signing_secret: str
    _channels: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- workspace -------------------------------------------------------------------------------
    def channel(self, *, private: bool = False, bot_member: bool = True) -> str:
        cid = f"C{'P' if private else ''}{next(self._channels):06d}"
        members = tuple(PEOPLE) + (("UBOT",) if bot_member else ())
        self.api.add_channel(cid, name=f"rel-{cid.lower()}", is_private=private, members=members)
        return cid

    # --- database --------------------------------------------------------------------------------
    def count(self, model: Any, *where: Any) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

    def snapshot(self) -> dict[str, int]:
        return {
            m.__tablename__: self.count(m) for m in (Release, ChecklistItem, RoleAssignment, Decision, ReleaseMessage)
        }

    def count_rows(self, table: str, where: str = "1=1") -> int:
        with self.db.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one())

    def column(self, table: str, column: str) -> list[Any]:
        with self.db.connect() as conn:
            return list(conn.execute(text(f"SELECT {column} FROM {table}")).scalars())

    def dump(self, table: str) -> str:
        """Every row of a table as text, to look for what must not be there."""
        with self.db.connect() as conn:
            return json.dumps([list(r) for r in conn.execute(text(f"SELECT * FROM {table}")).all()], default=str)

    def release_in(self, channel: str) -> Release | None:
        with self.db.connect() as conn:
            row = conn.execute(select(Release).where(Release.channel_id == channel).order_by(Release.id.desc())).first()
        return Release(**row._asdict()) if row else None

    def item(self, release_id: int, key: str) -> ChecklistItem:
        with self.db.connect() as conn:
            row = conn.execute(
                select(ChecklistItem).where(ChecklistItem.release_id == release_id, ChecklistItem.key == key)
            ).one()
        return ChecklistItem(**row._asdict())

    def items(self, release_id: int) -> list[ChecklistItem]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(ChecklistItem).where(ChecklistItem.release_id == release_id).order_by(ChecklistItem.id)
            ).all()
        return [ChecklistItem(**r._asdict()) for r in rows]

    def decisions(self, item_id: int) -> list[Decision]:
        with self.db.connect() as conn:
            rows = conn.execute(select(Decision).where(Decision.item_id == item_id).order_by(Decision.id)).all()
        return [Decision(**r._asdict()) for r in rows]

    def messages_of(self, release_id: int) -> list[ReleaseMessage]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(ReleaseMessage).where(ReleaseMessage.release_id == release_id).order_by(ReleaseMessage.id)
            ).all()
        return [ReleaseMessage(**r._asdict()) for r in rows]

    # --- Slack-side views ------------------------------------------------------------------------
    def all_blocks(self, channel: str) -> list[dict[str, Any]]:
        return [b for m in self.api.messages(channel) for b in (m.get("blocks") or [])]

    def find_button(self, channel: str, item_id: int, action_id: str) -> tuple[str, dict[str, Any], str]:
        """(message_ts, button, block_id) of the item's button as the channel shows it now."""
        for m in self.api.messages(channel):
            for b in m.get("blocks") or []:
                elements = b.get("elements", []) if b.get("type") == "actions" else [b.get("accessory") or {}]
                for el in elements:
                    if el.get("action_id") == action_id and str(el.get("value", "")).split(":")[0] == str(item_id):
                        return m["ts"], el, b.get("block_id", "")
        raise AssertionError(f"no {action_id} button for item {item_id} in {channel}")

    def has_button(self, channel: str, item_id: int, action_id: str) -> bool:
        try:
            self.find_button(channel, item_id, action_id)
        except AssertionError:
            return False
        return True

    def click(self, channel: str, item_id: int, action_id: str, user: str) -> Any:
        ts, button, block_id = self.find_button(channel, item_id, action_id)
        return self.driver.click(
            user=user, channel=channel, message_ts=ts, action_id=action_id, value=button["value"], block_id=block_id
        )

    def item_text(self, channel: str, item_id: int) -> str:
        for b in self.all_blocks(channel):
            if b.get("block_id") == f"item-{item_id}":
                return str((b.get("text") or {}).get("text", ""))
        raise AssertionError(f"item {item_id} is not shown in {channel}")

    # --- flows -----------------------------------------------------------------------------------
    def new_release(
        self, channel: str, name: str = "Payroll to Azure", user: str = "UPM", start: datetime | None = None
    ) -> Release:
        start = start or datetime.now(UTC) + timedelta(days=30)
        text = f"new {name} --cutover {start.strftime('%Y-%m-%dT%H:%M:%S')}Z --duration 4h"
        r = self.driver.slash(text=text, user=user, channel=channel)
        assert r.status == 200, r.text
        # The creator is told once the whole checklist is posted.
        told = self.driver.wait_responses(r, count=1, timeout=15)
        assert "Created" in str(told), told
        release = self.release_in(channel)
        assert release is not None
        return release

    def answer(self, text: str, user: str = "UPM", channel: str = "") -> str:
        """The immediate (ephemeral) answer to a command, as readable text."""
        r = self.driver.slash(text=text, user=user, channel=channel)
        assert r.status == 200, r.text
        return json.dumps(r.json, ensure_ascii=False) if r.json is not None else r.text

    def posted(self, text: str, *, channel: str, expect: str, user: str = "UPM") -> dict[str, Any]:
        """Runs a command whose answer is one post in `channel` (e.g. `assign`, typed in the release
        channel: no private reply); returns the new top-level post that contains `expect`."""
        seen = {m["ts"] for m in self.api.messages(channel)}
        r = self.driver.slash(text=text, user=user, channel=channel)
        assert r.status == 200, r.text
        return self.posted_since(channel, seen, expect, after=text)

    def posted_since(self, channel: str, seen: set[str], expect: str, after: str = "") -> dict[str, Any]:
        """The first top-level post in `channel` not among `seen` that contains `expect`, once it is there."""

        def new_post() -> dict[str, Any] | None:
            fresh = [m for m in self.api.messages(channel) if m["ts"] not in seen and m["thread_ts"] in (None, m["ts"])]
            return next((m for m in fresh if expect in m["text"]), None)

        return wait_until(new_post, timeout=10, message=f"no post with {expect!r} after {after!r}")

    def ok(self, text: str, user: str = "UPM", channel: str = "", responses: int = 0) -> Any:
        r = self.driver.slash(text=text, user=user, channel=channel)
        assert r.status == 200, r.text
        if responses:
            return self.driver.wait_responses(r, count=responses, timeout=10)
        return r


class AppProcess:
    """One `cutover serve` or `cutover worker` process on a free port, its log in a file."""

    def __init__(
        self, command: str, *, database_url: str, api: SlackStandIn, secret: str, tmp: Path, **env_extra: str
    ) -> None:
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=secret,
            SLACK_API_URL=api.base_url,
            DATABASE_URL=database_url,
            HOST="127.0.0.1",
            PORT=str(self.port),
            LOG_LEVEL="INFO",
            SCHEDULER_TICK="0.2",
            SLACK_TIMEOUT="2",
        )
        env.update(env_extra)
        self.log_path = tmp / f"{command}-{self.port}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", command], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cutover {self.command} exited early:\n{self.log_path.read_text()}")
            if self.command != "serve":
                if "sending announcements" in self.log_path.read_text():
                    return
            else:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cutover {self.command} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup."""
        self.proc.kill()
        self.proc.wait()


@contextlib.contextmanager
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM, bot_user_id="UBOT") as api:
        for uid, (name, tz) in PEOPLE.items():
            api.add_user(uid, name=name, real_name=name.title(), tz=tz)
        api.add_usergroup(GROUP, handle="wbo-team", users=("UG1", "UG2"))
        yield api


@contextlib.contextmanager
def running_stack(database_url: str, tmp: Path, **env_extra: str) -> Iterator[Stack]:
    secret = secrets.token_hex(16)
    with standin() as api:
        app = AppProcess("serve", database_url=database_url, api=api, secret=secret, tmp=tmp, **env_extra)
        try:
            app.wait_healthy()
            driver = SlackDriver(app_url=app.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
            engine = make_sync_engine(database_url)
            try:
                yield Stack(
                    api=api,
                    driver=driver,
                    database_url=database_url,
                    db=engine,
                    app_url=app.url,
                    log_path=app.log_path,
                    signing_secret=secret,
                )
            finally:
                engine.dispose()
        finally:
            app.stop()


@contextlib.contextmanager
def sandbox_in(tmp: Path) -> Iterator[Sandbox]:
    """The `cutover sandbox` parts on a free page port, the app's database and log in ``tmp``."""
    with Sandbox(
        database_url=f"sqlite:///{tmp / 'cutover.db'}",
        log_path=tmp / "app.log",
        port=0,
        cwd=tmp,
        env={"SCHEDULER_TICK": "0.2", "SLACK_TIMEOUT": "2"},
    ) as sb:
        yield sb
