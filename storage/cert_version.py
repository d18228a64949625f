"""A version of the certificate register kept in the database (kv `console:certs`), for caches.

Every transaction that writes certificates (ORM objects, or an ORM insert/update/delete statement on
Certificate) stores a new random version in the same transaction. Registered by storage.models, so
every process that writes certificates (bot, console, command line) keeps it current.
"""
from __future__ import annotations

import uuid

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Certificate, KeyValue

KEY = "console:certs"


def _bump(conn) -> None:
    token = uuid.uuid4().hex
    if conn.execute(update(KeyValue).where(KeyValue.key == KEY).values(value=token)).rowcount == 0:
        conn.execute(insert(KeyValue).values(key=KEY, value=token))


@event.listens_for(Session, "before_flush")
def _mark(session, _ctx, _instances) -> None:
    if any(isinstance(o, Certificate) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["certs_changed"] = True


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session, _ctx) -> None:
    if session.info.pop("certs_changed", False):
        _bump(session.connection())


@event.listens_for(Session, "do_orm_execute")
def _bump_on_statement(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is Certificate:
        _bump(state.session.connection())


async def cert_version(db) -> str:
    return await db.scalar(select(KeyValue.value).where(KeyValue.key == KEY)) or ""
