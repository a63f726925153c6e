"""End to end: `/release export` sends the record as two files in a DM to a member of the release channel, and
refuses anybody else with nothing uploaded. A real `cutover serve`, the stand-in, signed requests."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from sandbox.driver import wait_until
from tests.harness import Stack

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "export.schema.json").read_text())


def _release_with_a_decision(stack: Stack, members: tuple[str, ...]) -> tuple[str, str]:
    ch = stack.channel()
    stack.api.add_channel(ch, name=f"rel-{ch.lower()}", members=members)
    rel = stack.new_release(ch, name="Ledger to Azure")
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> {key}", channel=ch, expect="Workload Business Owner")
    gate = stack.item(rel.id, "cc.window_appr")
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: stack.decisions(gate.id), timeout=10, message="the approval is recorded")
    return ch, key


def test_a_member_gets_the_markdown_and_json_in_a_dm(stack: Stack) -> None:
    ch, key = _release_with_a_decision(stack, ("UPM", "UWBO", "UBOT"))
    before = len(stack.api.uploaded_files())
    told = stack.ok(f"export {key}", user="UWBO", channel=ch, responses=1)
    assert "Sent" in json.dumps(told) and "direct message" in json.dumps(told), told
    files = stack.api.uploaded_files()[before:]
    dm = stack.api.dm_channel("UWBO")
    assert [f.filename for f in files] == [f"{key}-record.md", f"{key}-record.json"]
    assert all(f.channel == dm and f.content is not None for f in files)
    shared = [m for m in stack.api.messages(dm) if m.get("files")]
    assert len(shared) == 1 and [f["name"] for f in shared[0]["files"]] == [f.filename for f in files]
    assert key in shared[0]["text"] and "audit trail verified" in shared[0]["text"]
    assert files[0].content is not None and files[1].content is not None
    md = files[0].content.decode()
    doc = json.loads(files[1].content)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    gate = next(i for i in doc["items"] if i["key"] == "cc.window_appr")
    assert gate["decisions"][0]["by"] == "UWBO" and gate["decisions"][0]["role"] == "workload-business-owner"
    # The permalink came from chat.getPermalink, to the checklist message on this stand-in.
    assert gate["permalink"] and gate["permalink"].startswith(stack.api.url) and gate["permalink"] in md
    assert doc["audit"]["verified"] is True and doc["audit"]["head_hash"] in md
    assert stack.api.calls("chat.getPermalink")


def test_a_non_member_of_the_release_channel_is_refused_and_nothing_is_uploaded(stack: Stack) -> None:
    ch, key = _release_with_a_decision(stack, ("UPM", "UWBO", "UBOT"))
    elsewhere = stack.channel()
    before = len(stack.api.calls("files.getUploadURLExternal"))
    told = json.dumps(stack.ok(f"export {key}", user="UOUT", channel=elsewhere, responses=1))
    assert f"{key}'s record goes only to members of its release channel" in told and "nothing was sent" in told
    assert f"<#{ch}>" in told
    assert len(stack.api.calls("files.getUploadURLExternal")) == before
    assert not any(m.get("files") for m in stack.api.messages(stack.api.dm_channel("UOUT")))


def test_export_with_a_bad_argument_is_named(stack: Stack) -> None:
    said = stack.answer("export now", user="UPM", channel=stack.channel())
    assert "Unexpected `now`: `export` takes only a release key like `REL-12`." in said
    assert "export [REL-n]" in said
