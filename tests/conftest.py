import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_async_engine, make_sessionmaker
from storage.migrate import upgrade
from tests.databases import backends, fresh_database
from tests.harness import Stack, running_stack


@pytest.fixture(scope="module", params=backends())
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    with fresh_database(request.param, tmp) as url, running_stack(url, tmp) as s:
        yield s


Db = tuple[AsyncEngine, async_sessionmaker[AsyncSession]]


@pytest.fixture(params=backends())
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Db]:
    """A migrated, empty database of each backend, with an async engine."""
    with fresh_database(request.param, tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        engine = make_async_engine(url)
        try:
            yield engine, make_sessionmaker(engine)
        finally:
            await engine.dispose()
