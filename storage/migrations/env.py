"""Alembic environment (async engine, batch mode on SQLite)."""
import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from storage.db import is_sqlite, make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 5_120_026      # pg_advisory_xact_lock key: one upgrade at a time per database


def _run(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=is_sqlite(config.get_main_option("sqlalchemy.url")),
                      compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # two instances starting at once on a new database: the second waits here, then finds
            # the schema current (PostgreSQL is the database for more than one instance)
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


async def _online():
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
