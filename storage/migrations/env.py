"""Alembic environment: sync driver, batch mode on SQLite."""

from __future__ import annotations

from alembic import context

from storage.db import make_sync_engine
from storage.models import Base

config = context.config


def run_migrations_online() -> None:
    url = config.attributes["database_url"]
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `cutover db upgrade`")
run_migrations_online()
