"""The app's own secrets: made once, the same for every session and process, on every backend."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.app_secrets import get_or_create_secret
from storage.db import make_async_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import AppSecret
from tests.databases import backends, fresh_database

Db = tuple[AsyncEngine, async_sessionmaker[AsyncSession]]


async def secret_in_own_transaction(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    async with sessions() as s, s.begin():
        return await get_or_create_secret(s, name)


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, datetime]]:
    async with sessions() as s:
        result = await s.execute(select(AppSecret.name, AppSecret.value, AppSecret.created_at).order_by(AppSecret.name))
        return [(n, v, at) for n, v, at in result.all()]


async def test_made_once_then_read_back(db: Db) -> None:
    _engine, sessions = db
    first = await secret_in_own_transaction(sessions, "survey.respondent_key")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert await secret_in_own_transaction(sessions, "survey.respondent_key") == first
    other = await secret_in_own_transaction(sessions, "something.else")
    assert other != first
    stored = await rows(sessions)
    assert [(n, v) for n, v, _ in stored] == [("something.else", other), ("survey.respondent_key", first)]
    created = stored[1][2]
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


async def test_a_rolled_back_first_use_leaves_nothing(db: Db) -> None:
    _engine, sessions = db
    async with sessions() as s:
        await s.begin()
        lost = await get_or_create_secret(s, "k")
        await s.rollback()
    kept = await secret_in_own_transaction(sessions, "k")
    assert kept != lost
    assert await secret_in_own_transaction(sessions, "k") == kept


async def test_concurrent_first_uses_all_get_the_one_stored(db: Db) -> None:
    _engine, sessions = db
    got = await asyncio.gather(*(secret_in_own_transaction(sessions, "k") for _ in range(8)))
    assert len(set(got)) == 1
    assert [(n, v) for n, v, _ in await rows(sessions)] == [("k", got[0])]


async def _waiting_on_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        n = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(n)


async def test_a_second_maker_that_loses_the_race_reads_the_winners(db: Db) -> None:
    """Both miss the secret; the first inserts and commits later; the second's insert gives way to it."""
    engine, sessions = db
    async with sessions() as first:
        await first.begin()
        mine = await get_or_create_secret(first, "k", make=lambda: "a" * 64)
        second = asyncio.create_task(secret_in_own_transaction_made(sessions, "k", "b" * 64))
        if engine.dialect.name == "postgresql":
            # The second has read nothing and now waits on the first one's uncommitted row.
            for _ in range(200):
                if await _waiting_on_a_lock(engine):
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the second maker never waited for the first")
        else:
            await asyncio.sleep(0.3)  # SQLite: the second waits for the write lock the first holds
        assert not second.done()
        await first.commit()
    assert mine == "a" * 64
    assert await asyncio.wait_for(second, 20) == "a" * 64
    assert [(n, v) for n, v, _ in await rows(sessions)] == [("k", "a" * 64)]


async def secret_in_own_transaction_made(sessions: async_sessionmaker[AsyncSession], name: str, value: str) -> str:
    async with sessions() as s, s.begin():
        return await get_or_create_secret(s, name, make=lambda: value)


def _process_main(url: str, start: Any, out: Any) -> None:
    async def run() -> str:
        engine = make_async_engine(url)
        try:
            return await secret_in_own_transaction(make_sessionmaker(engine), "survey.respondent_key")
        finally:
            await engine.dispose()

    start.wait(30)
    out.put(asyncio.run(run()))


@pytest.mark.parametrize("backend", backends())
def test_processes_starting_at_once_end_with_one_secret(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        ctx = multiprocessing.get_context("spawn")
        n = 4
        start, out = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_process_main, args=(url, start, out)) for _ in range(n)]
        for p in procs:
            p.start()
        try:
            got = [out.get(timeout=60) for _ in range(n)]
        finally:
            for p in procs:
                p.join(30)
        assert all(p.exitcode == 0 for p in procs)
        assert len(set(got)) == 1

        async def count() -> int:
            engine = make_async_engine(url)
            try:
                async with engine.connect() as conn:
                    return int(await conn.scalar(select(func.count()).select_from(AppSecret)) or 0)
            finally:
                await engine.dispose()

        assert asyncio.run(count()) == 1
