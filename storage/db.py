"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Registers the hook that appends every new decision and release event to the audit chain.
import storage.audit  # noqa: F401

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled PostgreSQL connection is checked with a round trip only after sitting idle this long.
# SQLAlchemy's pool_pre_ping checks at every checkout: on a busy server that was one extra round
# trip per session, run on the event loop, a sixth of its busy time under a click burst.
PING_IDLE_AFTER = 10.0


def normalize_url(url: str, *, async_driver: bool) -> URL:
    """Map what people and PaaS hosts hand out to the drivers we ship.

    SQLAlchemy 2.1 rejects `postgres://`; bare `postgresql://` is psycopg 3, which serves
    sync (Alembic) and async code alike.
    """
    u = make_url(url)
    backend = u.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return u.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return u.set(drivername="sqlite+aiosqlite" if async_driver else "sqlite")
    raise ValueError(f"unsupported database URL scheme: {u.drivername}")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL keeps the file consistent and skips an fsync per commit.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two deferred transactions that both read
        # and then write would otherwise fail with SQLITE_BUSY instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_async_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    u = normalize_url(url, async_driver=True)
    if u.get_backend_name() == "sqlite":
        engine = create_async_engine(u)
        _sqlite_setup(engine.sync_engine)
    else:
        engine = create_async_engine(u, pool_size=pool_size, max_overflow=pool_size)
        _ping_when_idle(engine.sync_engine, PING_IDLE_AFTER)
    return engine


def _ping_when_idle(engine: Engine, idle_after: float) -> None:
    """Pessimistic disconnect handling for connections that were idle (a database restart, a
    firewall dropping quiet connections); a connection in steady use proves itself by being used."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_after:
            return
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1")
        except Exception as e:
            # The pool throws this connection away and checks out a fresh one.
            raise exc.DisconnectionError(str(e)) from e
        finally:
            cur.close()


def make_sync_engine(url: str) -> Engine:
    u = normalize_url(url, async_driver=False)
    engine = create_engine(u)
    if u.get_backend_name() == "sqlite":
        _sqlite_setup(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
