"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@contextlib.contextmanager
def fresh_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / f'cutover-{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_postgres(os.environ["TEST_DATABASE_URL"], "cutover_test") as url:
        yield url


@contextlib.contextmanager
def scratch_postgres(server_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database on ``server_url``'s server, dropped afterwards (the benchmarks use it too)."""
    admin = make_url(server_url).set(drivername="postgresql")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
