"""Dialect-aware SQL helpers shared by every feature (PostgreSQL and SQLite)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out on both databases (SQLite hands back naive values)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(timezone.utc) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def upsert(session, model, values: dict | None = None, *, key: list[str], update=None):
    """INSERT … ON CONFLICT (key) DO NOTHING, or DO UPDATE when `update` is given: a dict of
    column -> value, or a list of columns taking the inserted row's values. Returns the statement.
    `session`: a session, or a connection."""
    table = getattr(model, "__table__", model)
    dialect = getattr(session, "bind", session).dialect
    insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    if values is not None:
        stmt = stmt.values(values)
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=key)
    set_ = update if isinstance(update, dict) else {c: stmt.excluded[c] for c in update}
    return stmt.on_conflict_do_update(index_elements=key, set_=set_)


async def put_value(session, key: str, value: str) -> None:
    """Set one row of the small key/value table."""
    from storage.models import KeyValue
    await session.execute(upsert(session, KeyValue, {"key": key, "value": value}, key=["key"], update=["value"]))
