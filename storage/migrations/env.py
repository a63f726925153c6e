"""Alembic environment: sync driver, batch mode on SQLite."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from storage.db import make_sync_engine
from storage.models import Base

config = context.config


def _pragma(connection: Connection, sql: str) -> list[Any]:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def run_migrations_online() -> None:
    url = config.attributes["database_url"]
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode rebuilds a table by dropping it; with foreign keys on, that drop would
                # cascade and delete the rows that point at it (every decision of a checklist item).
                # The pragma only takes effect outside a transaction, so it goes to the driver before
                # SQLAlchemy begins one (its "begin" hook opens BEGIN IMMEDIATE at the first statement).
                _pragma(connection, "PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = _pragma(connection, "PRAGMA foreign_key_check")
                _pragma(connection, "PRAGMA foreign_keys=ON")
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `cutover db upgrade`")
run_migrations_online()
