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
        assert {"releases", "checklist_items", "role_assignments", "decisions", "release_messages",
                "alembic_version"} <= names
        upgrade(url)  # idempotent at head
