"""Time zones on a machine without a system zone database (a slim container, Windows).

`PYTHONTZPATH` pointed at an empty folder hides the system database from `zoneinfo`, as on such a
machine: the zones must then come from the `tzdata` package the project depends on, and a zone that
still cannot be read must be refused, never read as UTC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

# Run in a child process: zoneinfo reads PYTHONTZPATH once, when it is first imported.
PROBE = """
import json, zoneinfo
from domain.timeparse import TimeParseError, parse_datetime, to_utc

typed = parse_datetime("2026-12-18 22:00")
out = {"tzpath": list(zoneinfo.TZPATH), "new_york": to_utc(typed, "America/New_York").isoformat()}
for zone in ("Mars/Olympus", None):
    try:
        out[str(zone)] = to_utc(typed, zone).isoformat()
    except TimeParseError as e:
        out[str(zone)] = "refused: " + e.message
print(json.dumps(out))
"""


def probe_without_system_zones(python: str, empty_dir: Path, cwd: Path | None = None) -> dict[str, Any]:
    """What `PROBE` prints when run by ``python`` with the system zone database hidden."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TZ")}
    env["PYTHONTZPATH"] = str(empty_dir)
    proc = subprocess.run(
        [python, "-c", PROBE],
        env=env,
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def check_probe(result: dict[str, Any], empty_dir: Path) -> None:
    assert result["tzpath"] == [str(empty_dir)]  # the system database really was out of reach
    assert result["new_york"] == "2026-12-19T03:00:00+00:00"  # not 22:00 UTC
    assert result["Mars/Olympus"] == (
        "refused: Your Slack time zone `Mars/Olympus` is not one I know, so I can't tell when 2026-12-18 22:00 is. "
        "Type the time with its offset, e.g. `2026-12-18 22:00-05:00` or `2026-12-18T22:00Z`."
    )
    assert result["None"].startswith("refused: I could not read your Slack time zone")


def test_zones_come_from_tzdata_when_the_system_has_none(tmp_path: Path) -> None:
    empty = tmp_path / "no-zoneinfo"
    empty.mkdir()
    check_probe(probe_without_system_zones(sys.executable, empty), empty)
