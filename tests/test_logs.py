import json
import logging

import pytest

from bot.logs import bind, configure


def test_json_lines_carry_the_request_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "json")
    bind(request_id="13345.98.abc", user="U123", release="REL-7")
    logging.getLogger("bot.test").info("recorded %s", "approve")
    bind(request_id=None, user=None, release=None)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["msg"] == "recorded approve" and lines[0]["level"] == "INFO"
    assert (lines[0]["request_id"], lines[0]["user"], lines[0]["release"]) == ("13345.98.abc", "U123", "REL-7")
    assert "release" not in lines[1] and "ValueError: boom" in lines[1]["exc"]


def test_text_lines_append_the_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "text")
    bind(request_id=None, user="U9", release="REL-2")
    logging.getLogger("bot.test").warning("careful")
    bind(user=None, release=None)
    err = capsys.readouterr().err
    assert "WARNING bot.test: careful [user=U9 release=REL-2]" in err
