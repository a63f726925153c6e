"""Start-up skips Alembic when the database is already at the newest revision. Once per backend."""

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage.migrate import MIGRATIONS, alembic_config, at_head, heads_on_disk, upgrade, upgrade_if_needed
from tests.databases import backends, fresh_database


def test_heads_read_as_text_are_alembics_heads() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert heads_on_disk() == frozenset(script.get_heads())
    assert MIGRATIONS.is_dir()


@pytest.mark.parametrize("backend", backends())
def test_at_head_only_when_the_database_carries_the_newest_revision(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        assert not at_head(url)  # new: no version table
        (head,) = heads_on_disk()
        upgrade(url, f"{int(head) - 1:04d}")
        assert not at_head(url)  # one behind
        upgrade_if_needed(url)
        assert at_head(url)
        upgrade_if_needed(url)  # nothing to do, and nothing breaks
        assert at_head(url)
