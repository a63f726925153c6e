"""PostgreSQL connections idle past PING_IDLE_AFTER are checked before use: a connection the server
dropped meanwhile is replaced, and the caller never sees it. Without the check the caller would."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from storage import db
from tests.databases import backends, fresh_database


async def _drop_pooled_connection_then_query(url: str) -> int:
    engine = db.make_async_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        other = db.make_async_engine(url)
        async with other.connect() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await other.dispose()
        await asyncio.sleep(0.5)
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 2 + 2")) == 4
            return int(await conn.scalar(text("SELECT pg_backend_pid()")) != pid)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", backends())
async def test_a_connection_dropped_while_idle_is_replaced(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(backend, tmp_path) as url:
        engine = db.make_async_engine(url)
        # The check is a pool checkout hook on PostgreSQL; a SQLite file has no connection to lose.
        assert len(engine.sync_engine.pool.dispatch.checkout) == (0 if backend == "sqlite" else 1)
        await engine.dispose()
        if backend == "sqlite":
            return
        monkeypatch.setattr(db, "PING_IDLE_AFTER", 0.3)
        assert await _drop_pooled_connection_then_query(url) == 1
        # Not idle long enough to be checked: the dead connection reaches the caller once.
        monkeypatch.setattr(db, "PING_IDLE_AFTER", 60.0)
        with pytest.raises(exc.DBAPIError):
            await _drop_pooled_connection_then_query(url)
