"""User / identity repository: creating the person behind a first message.

Loading and recording every later interaction is batched: see storage.group_commit.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, insert

from core.messages import Incoming
from storage.models import Identity, User

# users.last_seen_at is informative only: refreshed at most once a minute. The identity's own
# last_interaction_at is exact (Zalo's 7-day window; "the channel a person used last").
SEEN_EVERY = timedelta(seconds=60)

_U, _I = User.__table__, Identity.__table__


def aware(dt):
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def create(conn: Connection, msg: Incoming, now: datetime) -> tuple[dict, dict]:
    """A new user and their first channel identity; their column values (user, identity)."""
    user = conn.execute(insert(_U).values(display_name=(msg.display_name or "")[:200], created_at=now,
                                          last_seen_at=now).returning(*_U.c)).mappings().one()
    ident = conn.execute(insert(_I).values(
        user_id=user["id"], channel=msg.channel, external_id=msg.user_key, chat_id=msg.chat_id,
        active=True, last_interaction_at=now,
        last_message_id=(msg.message_id or None) and msg.message_id[:64]).returning(*_I.c)).mappings().one()
    return dict(user), dict(ident)
