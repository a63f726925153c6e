"""Secrets the app makes for itself and keeps in its database, so every process and restart shares them.

They are the app's own (e.g. the key of anonymous survey respondents), never Slack's tokens: a token
is rotated now and then, and anything keyed by it would change with it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.time import utcnow
from storage.models import AppSecret


def new_secret() -> str:
    return secrets.token_hex(32)


async def get_or_create_secret(session: AsyncSession, name: str, *, make: Callable[[], str] = new_secret) -> str:
    """The secret called `name`, made and stored on first use.

    Race-safe on both backends: processes asking at once for a secret nobody made yet each try
    to insert their own, the database keeps the first, and all of them read that one back.
    Call it inside a transaction and commit it (READ COMMITTED, PostgreSQL's default: the read
    after a conflicting insert sees the row the other transaction committed).
    """
    stmt = select(AppSecret.value).where(AppSecret.name == name)
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is not None:
        return value
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(AppSecret)
        .values(name=name, value=make(), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[AppSecret.name])
    )
    return (await session.execute(stmt)).scalar_one()
