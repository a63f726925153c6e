"""A release record as files: Markdown for people, JSON for tools (docs/export.schema.json), CSV of the audit rows.

Pure: the record and the permalinks (asked of Slack by the caller) in, text out. Files are read outside
Slack, so times are ISO 8601 in UTC and people are their Slack user ids.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from domain.record import (
    SCHEMA_VERSION,
    AnnouncementEntry,
    DecisionEntry,
    ItemEntry,
    MessageRef,
    ReleaseRecord,
    StateChange,
)

Links = Mapping[MessageRef, str]
CSV_COLUMNS = ("release", "seq", "at", "kind", "actor", "data", "hash")


def _t(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _link(ref: MessageRef | None, links: Links) -> str | None:
    return None if ref is None else links.get(ref)


def _change(c: StateChange) -> dict[str, Any]:
    return {"at": _t(c.at), "kind": c.kind, "by": c.actor, "reason": c.reason}


def _decision(d: DecisionEntry) -> dict[str, Any]:
    window = None if d.window_start is None else {"start": _t(d.window_start), "end": _t(d.window_end)}
    return {
        "kind": d.kind,
        "by": d.user,
        "for": d.for_user,
        "role": d.role,
        "at": _t(d.at),
        "window": window,
        "reason": d.reason,
    }


def _item(i: ItemEntry, links: Links) -> dict[str, Any]:
    return {
        "key": i.key,
        "number": i.number,
        "title": i.title,
        "phase": i.phase,
        "gate": i.gate,
        "state": i.state,
        "approver_roles": list(i.approver_roles),
        "responsible_roles": list(i.responsible_roles),
        "decisions": [_decision(d) for d in i.decisions],
        "permalink": _link(i.message, links),
        "removed_at": _t(i.removed_at),
    }


def _announcement(a: AnnouncementEntry, links: Links) -> dict[str, Any]:
    return {
        "key": a.key,
        "kind": a.kind,
        "attempt": a.attempt,
        "purpose": a.purpose,
        "audiences": list(a.audiences),
        "due_at": _t(a.send_at),
        "cancelled": a.cancelled,
        "deliveries": [
            {
                "channel": d.channel,
                "state": d.state,
                "due_at": _t(d.due_at),
                "sent_at": _t(d.sent_at),
                "permalink": _link(d.message, links),
                "failure": d.error if d.state in ("failed", "missed") else None,
            }
            for d in a.deliveries
        ],
    }


def to_json(record: ReleaseRecord, links: Links) -> dict[str, Any]:
    retro = record.retro
    return {
        "schema_version": SCHEMA_VERSION,
        "exported_at": _t(datetime.now(UTC)),
        "release": {
            "key": record.key,
            "team": record.team_id,
            "name": record.name,
            "workload": record.workload,
            "state": record.state,
            "channel": record.channel,
            "timezone": record.timezone,
            "template": {"key": record.template, "version": record.template_version},
            "attempt": record.attempt,
            "rehearsal_factor": record.rehearsal_factor,
            "created_by": record.created_by,
            "created_at": _t(record.created_at),
            "window": {
                "planned": {"start": _t(record.planned_start), "end": _t(record.planned_end)},
                "actual": {"start": _t(record.actual_start), "end": _t(record.actual_end)},
            },
            "state_history": [_change(c) for c in record.state_history],
            "overrides": [_change(c) for c in record.overrides],
        },
        "items": [_item(i, links) for i in record.items],
        "announcements": [_announcement(a, links) for a in record.announcements],
        "retrospective": None
        if retro is None
        else {
            "state": retro.state,
            "opened_at": _t(retro.opened_at),
            "closed_at": _t(retro.closed_at),
            "invited": retro.invited,
            "responses": retro.responses,
            "summary_withheld": not retro.questions,
            "questions": [
                {
                    "key": q.key,
                    "text": q.text,
                    "kind": q.kind,
                    "answered": q.answered,
                    "average": q.average,
                    "distribution": [{"option": o, "count": n} for o, n in q.distribution],
                }
                for q in retro.questions
            ],
        },
        "audit": {
            "rows": len(record.audit),
            "head_hash": record.head_hash,
            "verified": record.verified,
            "problem": record.verify_problem,
        },
    }


def render_json(record: ReleaseRecord, links: Links) -> str:
    return json.dumps(to_json(record, links), indent=2, ensure_ascii=False) + "\n"


def render_csv(record: ReleaseRecord) -> str:
    """One row per audit event, in chain order; `data` is the row's JSON as it was hashed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in record.audit:
        data = json.dumps(r.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        writer.writerow((record.key, r.seq, _t(r.at), r.kind, r.actor or "", data, r.hash))
    return out.getvalue()


def _cell(text: object) -> str:
    return "—" if text in (None, "") else str(text).replace("|", "\\|").replace("\n", " ")


def _md_link(url: str | None, label: str = "message") -> str:
    return f"[{label}]({url})" if url else "—"


def _window(start: datetime | None, end: datetime | None) -> str:
    return "—" if start is None else f"{_t(start)} → {_t(end) or 'not ended'}"


def render_markdown(record: ReleaseRecord, links: Links) -> str:
    lines = [
        f"# {record.key} — {record.name}",
        "",
        f"- Workload: {_cell(record.workload)}",
        f"- State: {record.state.replace('_', ' ')} (attempt {record.attempt})",
        f"- Template: {record.template} version {record.template_version or 'not recorded'}",
        f"- Release channel: {record.channel}; time zone {record.timezone}",
        f"- Created by {record.created_by} at {_t(record.created_at)}",
        f"- Window planned: {_window(record.planned_start, record.planned_end)}",
        f"- Window actual: {_window(record.actual_start, record.actual_end)}",
        "",
        "## State history",
        "",
        "| when (UTC) | what | by | reason |",
        "| --- | --- | --- | --- |",
        *(f"| {_t(c.at)} | {c.kind} | {_cell(c.actor)} | {_cell(c.reason)} |" for c in record.state_history),
        "",
        "## Go/no-go overrides",
        "",
    ]
    if record.overrides:
        lines += [f"- {_t(c.at)}: {c.actor} overrode the go/no-go: {_cell(c.reason)}" for c in record.overrides]
    else:
        lines.append("None.")
    lines += [
        "",
        "## Checklist",
        "",
        "| item | gate | state | decided by | role | when (UTC) | window in force | reason | message |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i in record.items:
        link = _md_link(_link(i.message, links))
        label = f"{_cell(i.title)} (`#{i.number}` `{i.key}`)" if i.number else f"{_cell(i.title)} (`{i.key}`)"
        if i.removed_at:
            label += f", removed from the scope {_t(i.removed_at)}"
        if not i.decisions:
            lines.append(f"| {label} | {'yes' if i.gate else 'no'} | {i.state} | — | — | — | — | — | {link} |")
        for d in i.decisions:
            by = f"{d.user} for {d.for_user} (deputy)" if d.for_user else d.user
            lines.append(
                f"| {label} | {'yes' if i.gate else 'no'} | {d.kind} | {by} | {_cell(d.role)} | {_t(d.at)} | "
                f"{_window(d.window_start, d.window_end)} | {_cell(d.reason)} | {link} |"
            )
    lines += [
        "",
        "## Announcements",
        "",
        "| announcement | audience | channel | due (UTC) | sent (UTC) | state | message or failure |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for a in record.announcements:
        name = f"{_cell(a.purpose or a.key)} (`{a.key}`, attempt {a.attempt})"
        audiences = ", ".join(a.audiences) or "one channel"
        if not a.deliveries:
            state = "cancelled" if a.cancelled else "no channel"
            lines.append(f"| {name} | {audiences} | — | {_t(a.send_at)} | — | {state} | — |")
        for dl in a.deliveries:
            outcome = _md_link(_link(dl.message, links)) if dl.state == "sent" else _cell(dl.error)
            lines.append(
                f"| {name} | {audiences} | {dl.channel} | {_t(dl.due_at)} | {_cell(_t(dl.sent_at))} | {dl.state} | "
                f"{outcome} |"
            )
    lines += ["", "## Retrospective", ""]
    retro = record.retro
    if retro is None:
        lines.append("No survey.")
    else:
        lines.append(
            f"Survey {retro.state}: {retro.responses} responses of {retro.invited} invited "
            f"(opened {_cell(_t(retro.opened_at))}, closed {_cell(_t(retro.closed_at))}). "
            "Tallies only: no answer's text and no respondent is ever exported."
        )
        lines.append("")
        if not retro.questions:
            lines.append("Tallies withheld: too few responses to summarise without showing a person's answers.")
        for q in retro.questions:
            tally = ", ".join(f"{o}: {n}" for o, n in q.distribution)
            average = f", average {q.average}" if q.average is not None else ""
            lines.append(f"- {_cell(q.text)}: {q.answered} answered{average}{f' ({tally})' if tally else ''}")
    lines += [
        "",
        "## Audit trail",
        "",
        f"- Rows: {len(record.audit)}",
        f"- Head hash: `{record.head_hash}`",
        f"- Verified: {'yes' if record.verified else 'NO — ' + (record.verify_problem or '')}",
        "",
        "| seq | when (UTC) | what | by |",
        "| --- | --- | --- | --- |",
        *(f"| {r.seq} | {_t(r.at)} | {r.kind} | {_cell(r.actor)} |" for r in record.audit),
        "",
    ]
    return "\n".join(lines)
