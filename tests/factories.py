"""Shared test data."""

from datetime import UTC, datetime, timedelta

from domain.template import load_template
from storage import releases

T0 = datetime(2027, 1, 15, 22, 0, tzinfo=UTC)


def spec(team: str = "T1", channel: str = "C1") -> releases.NewReleaseSpec:
    return releases.NewReleaseSpec(
        team,
        channel,
        "UPM",
        "Payroll to Azure",
        "payroll",
        T0,
        T0 + timedelta(hours=8),
        "Europe/Berlin",
        load_template("caf-migration-release"),
    )
