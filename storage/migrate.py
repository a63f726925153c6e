"""Alembic, driven from code so the CLI and the tests need no alembic.ini.

Alembic is imported only when there is something to migrate: a start against a database already
at the newest revision reads one row and goes on (importing Alembic costs about 0.25 s).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import make_sync_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"', re.M)
_DOWN = re.compile(r'^down_revision(?:: [^=]+)? = (?:"([^"]+)"|None)', re.M)


def heads_on_disk() -> frozenset[str]:
    """The newest revisions of the migration scripts, read as text: no revision is anyone's parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(source), _DOWN.search(source)
        if rev is None or down is None:
            return frozenset()  # a layout this reader does not know: let Alembic decide
        revisions.add(rev.group(1))
        if down.group(1):
            parents.add(down.group(1))
    return frozenset(revisions - parents)


def at_head(database_url: str) -> bool:
    heads = heads_on_disk()
    if not heads:
        return False
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            stamped = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:
        return False  # a new database: no version table yet
    finally:
        engine.dispose()
    return stamped == heads


def upgrade_if_needed(database_url: str) -> None:
    if not at_head(database_url):
        upgrade(database_url)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # The raw URL; env.py normalises it for the sync driver.
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config(database_url))
