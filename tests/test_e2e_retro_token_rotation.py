"""Rotating the bot token keeps survey respondents known: their key is the app's own secret, not the token."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.driver import SlackDriver, wait_until
from sandbox.webapi import SlackStandIn
from storage.db import make_sync_engine
from tests.databases import backends, fresh_database
from tests.harness import TEAM, AppProcess, Stack, standin
from tests.test_e2e_lifecycle import answer_survey, complete_quickly, staffed_release, survey_values

ROTATED = "xoxb-rotated-token"


@pytest.fixture(params=backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@contextlib.contextmanager
def serving(api: SlackStandIn, database: str, tmp: Path, secret: str, **env: str) -> Iterator[Stack]:
    """One `cutover serve` run on the shared stand-in and database, as a Stack."""
    app = AppProcess("serve", database_url=database, api=api, secret=secret, tmp=tmp, **env)
    engine = make_sync_engine(database)
    try:
        app.wait_healthy()
        driver = SlackDriver(app_url=app.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
        yield Stack(
            api=api,
            driver=driver,
            database_url=database,
            db=engine,
            app_url=app.url,
            log_path=app.log_path,
            signing_secret=secret,
        )
    finally:
        engine.dispose()
        app.stop()


def test_an_answer_stays_editable_after_the_bot_token_is_rotated(database: str, tmp_path: Path) -> None:
    secret = secrets.token_hex(8)
    with standin() as api:
        with serving(api, database, tmp_path, secret) as stack:
            ch, rel = staffed_release(stack)
            complete_quickly(stack, ch, rel)
            stack.ok("retro open", channel=ch, responses=1)
            wait_until(lambda: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
            r, _ = answer_survey(stack, ch, "UWBO", survey_values("Before the rotation", "3"))
            assert r.status == 200 and not r.text, r.text
            wait_until(lambda: stack.count_rows("survey_responses") == 1)
            (key_before,) = stack.column("survey_responses", "respondent")
            assert re.fullmatch(r"[0-9a-f]{64}", key_before)

        # The admin regenerates the bot token; the app restarts with the new one (the old one is revoked).
        api.rotate_bot_token(ROTATED)
        with serving(api, database, tmp_path, secret, SLACK_BOT_TOKEN=ROTATED) as stack:
            # The form is filled in with the earlier answer: the same person, recognised.
            r, _view = answer_survey(
                stack, ch, "UWBO", survey_values("After the rotation", "5"), filled_in="Before the rotation"
            )
            assert r.status == 200 and not r.text, r.text
            wait_until(lambda: "After the rotation" in stack.dump("survey_responses"), timeout=10)
            assert stack.count_rows("survey_responses") == 1
            assert stack.column("survey_responses", "respondent") == [key_before]
            assert "Before the rotation" not in stack.dump("survey_responses")
            # Someone new is still counted as new.
            answer_survey(stack, ch, "UMA", survey_values("Calm cutover", "4"))
            wait_until(lambda: stack.count_rows("survey_responses") == 2, timeout=10)
            assert "2" in stack.answer("retro status", channel=ch)
            assert stack.count_rows("app_secrets") == 1  # made once, by the first run
            # Closing an anonymous survey forgets whose answers they were: the keys no longer derive from anyone.
            keys_open = set(stack.column("survey_responses", "respondent"))
            stack.ok("retro close", channel=ch, responses=1)
            wait_until(lambda: set(stack.column("survey_responses", "respondent")).isdisjoint(keys_open), timeout=10)
            assert stack.count_rows("survey_responses") == 2
            assert "After the rotation" in stack.dump("survey_responses")
