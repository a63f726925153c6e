"""Migrations from empty to head on every backend; models and migrations agree."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from storage.db import make_sync_engine
from storage.migrate import check, upgrade
from tests.databases import backends, fresh_database


@pytest.mark.parametrize("backend", backends())
def test_upgrade_from_empty_and_autogenerate_finds_nothing(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        check(url)  # raises if autogenerate would emit anything
        engine = make_sync_engine(url)
        try:
            names = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert {
            "releases",
            "checklist_items",
            "role_assignments",
            "decisions",
            "release_messages",
            "app_secrets",
            "alembic_version",
        } <= names
        upgrade(url)  # idempotent at head


@pytest.mark.parametrize("backend", backends())
def test_upgrading_keeps_data(backend: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0001")
        engine = make_sync_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO releases (team_id, number, name, workload, channel_id, cutover_start, "
                        "cutover_end, "
                        "timezone, template_key, state, created_by, created_at, updated_at, version) VALUES "
                        "('T1', 7, 'Kept', '', 'C1', '2027-01-01 10:00:00+00:00', '2027-01-01 14:00:00+00:00', 'UTC', "
                        "'caf-migration-release', 'planning', 'U1', '2026-11-01 10:00:00+00:00', "
                        "'2026-11-01 10:00:00+00:00', 3)"
                    )
                )
            upgrade(url)
            with engine.connect() as conn:
                row = conn.execute(text("SELECT name, number, version, actual_start FROM releases")).one()
        finally:
            engine.dispose()
        assert tuple(row) == ("Kept", 7, 3, None)


@pytest.mark.parametrize("backend", backends())
def test_upgrading_to_app_secrets_keeps_surveys_and_makes_no_secret(backend: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    with fresh_database(backend, tmp_path) as url:
        upgrade(url, "0004")
        engine = make_sync_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO releases (id, team_id, number, name, workload, channel_id, cutover_start, "
                        "cutover_end, timezone, template_key, state, created_by, created_at, updated_at, version) "
                        "VALUES (1, 'T1', 1, 'Kept', '', 'C1', '2027-01-01 10:00:00+00:00', "
                        "'2027-01-01 14:00:00+00:00', 'UTC', 'caf-migration-release', 'completed', 'U1', "
                        "'2026-11-01 10:00:00+00:00', '2026-11-01 10:00:00+00:00', 3)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO surveys (id, release_id, state, anonymous, salt, opens_at, closes_at, invited) "
                        "VALUES (1, 1, 'open', true, 'salt', '2027-01-02 10:00:00+00:00', "
                        "'2027-01-09 10:00:00+00:00', 4)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO survey_responses (survey_id, respondent, answers, created_at, updated_at) "
                        "VALUES (1, :key, '{\"went_well\": \"Calm\"}', '2027-01-02 00:00:00+00:00', "
                        "'2027-01-02 00:00:00+00:00')"
                    ),
                    {"key": "ab" * 32},
                )
            upgrade(url)
            with engine.connect() as conn:
                response = conn.execute(text("SELECT respondent, answers FROM survey_responses")).one()
                survey = conn.execute(text("SELECT state, salt, invited FROM surveys")).one()
                secrets = conn.execute(text("SELECT count(*) FROM app_secrets")).scalar_one()
        finally:
            engine.dispose()
        assert response[0] == "ab" * 32 and "Calm" in str(response[1])
        assert tuple(survey) == ("open", "salt", 4)
        assert secrets == 0  # the app makes it on first use
