"""The stand-in's file upload flow (files.getUploadURLExternal → POST the bytes → files.completeUploadExternal), as
strict as Slack: driven by slack_sdk's own files_upload_v2 and by hand for every bad argument."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.webapi import SlackStandIn
from sandbox.workspace import DEFAULT_SCOPES

TOKEN = "xoxb-test-token"


@pytest.fixture
def api() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=TOKEN) as s:
        s.add_user("U1", name="ada")
        yield s


def client(api: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=api.base_url)


def error(call: object) -> str:
    with pytest.raises(SlackApiError) as e:
        call()  # type: ignore[operator]
    return str(e.value.response["error"])


def test_files_upload_v2_shares_two_files_in_a_dm(api: SlackStandIn) -> None:
    web = client(api)
    dm = web.conversations_open(users="U1")["channel"]["id"]
    resp = web.files_upload_v2(
        file_uploads=[
            {"content": "# REL-1\n", "filename": "REL-1-record.md", "title": "REL-1 (md)"},
            {"content": '{"a": 1}', "filename": "REL-1-record.json", "title": "REL-1 (json)"},
        ],
        channel=dm,
        initial_comment="the record",
    )
    assert [f["name"] for f in resp["files"]] == ["REL-1-record.md", "REL-1-record.json"]
    files = api.uploaded_files()
    assert [(f.filename, f.content, f.channel, f.title) for f in files] == [
        ("REL-1-record.md", b"# REL-1\n", dm, "REL-1 (md)"),
        ("REL-1-record.json", b'{"a": 1}', dm, "REL-1 (json)"),
    ]
    (message,) = api.messages(dm)
    assert message["text"] == "the record" and [f["name"] for f in message["files"]] == [
        "REL-1-record.md",
        "REL-1-record.json",
    ]
    upload_url = api.calls("files.getUploadURLExternal")[0].response["upload_url"]
    assert upload_url.startswith(api.url + "upload/v1/") and upload_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("args", "detail"),
    [
        ({"length": 3}, "missing required field: filename"),
        ({"filename": "a.md"}, "missing required field: length"),
        ({"filename": "a.md", "length": "three"}, "length must be an integer"),
        ({"filename": "a.md", "length": 0}, "length must be a positive number of bytes"),
        ({"filename": "x" * 256, "length": 3}, "filename must be at most 255 characters"),
    ],
)
def test_get_upload_url_checks_its_arguments(api: SlackStandIn, args: dict[str, object], detail: str) -> None:
    with pytest.raises(SlackApiError) as e:
        client(api).api_call("files.getUploadURLExternal", params=args)
    assert e.value.response["error"] == "invalid_arguments"
    assert e.value.response["response_metadata"]["messages"] == [f"[ERROR] {detail}"]


def test_upload_url_takes_exactly_the_declared_bytes_once(api: SlackStandIn) -> None:
    got = client(api).api_call("files.getUploadURLExternal", params={"filename": "a.md", "length": 3})
    url = got["upload_url"]
    assert httpx.post(url, content=b"toolong").status_code == 400
    assert httpx.post(url, content=b"abc").status_code == 200
    assert httpx.post(url, content=b"abc").status_code == 400  # once
    assert httpx.post(api.url + "upload/v1/F0NOPE", content=b"abc").status_code == 404


def test_complete_checks_files_and_channel(api: SlackStandIn) -> None:
    web = client(api)
    got = web.api_call("files.getUploadURLExternal", params={"filename": "a.md", "length": 3})
    fid = got["file_id"]

    def complete(**params: object) -> str:
        return error(lambda: web.api_call("files.completeUploadExternal", params=params))

    assert complete(files=json.dumps([{"id": fid}])) == "invalid_arguments"  # bytes not uploaded yet
    httpx.post(got["upload_url"], content=b"abc")
    assert complete(files="not json") == "invalid_arguments"
    assert complete(files="[]") == "invalid_arguments"
    assert complete(files=json.dumps([{"title": "no id"}])) == "invalid_arguments"
    assert complete(files=json.dumps([{"id": "F0NOPE"}])) == "file_not_found"
    assert complete(files=json.dumps([{"id": fid}]), channel_id="C0NOPE") == "channel_not_found"
    dm = web.conversations_open(users="U1")["channel"]["id"]
    assert web.api_call("files.completeUploadExternal", params={"files": json.dumps([{"id": fid}]), "channel_id": dm})[
        "ok"
    ]
    assert complete(files=json.dumps([{"id": fid}]), channel_id=dm) == "file_not_found"  # shared once


def test_files_need_the_files_write_scope() -> None:
    with SlackStandIn(bot_token=TOKEN, scopes=tuple(s for s in DEFAULT_SCOPES if s != "files:write")) as api:
        web = client(api)
        assert error(lambda: web.api_call("files.getUploadURLExternal", params={"filename": "a", "length": 1})) == (
            "missing_scope"
        )
        assert error(lambda: web.api_call("files.completeUploadExternal", params={"files": "[]"})) == "missing_scope"
