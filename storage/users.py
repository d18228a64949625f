"""User / identity repository."""
from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Incoming
from storage.models import Conversation, Identity, User, utcnow

# users.last_seen_at is informative only: refreshed at most once a minute. The identity's own
# last_interaction_at is exact (Zalo's 7-day window; "the channel a person used last").
SEEN_EVERY = timedelta(seconds=60)


def _aware(dt):
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


async def touch(session: AsyncSession, msg: Incoming) -> tuple[User, Identity, Conversation | None]:
    """Find or create the user behind an incoming message and record the interaction.

    One SELECT loads the identity, the user and the user's active conversation (if any), so a
    handler that only asks "which flow is this person in?" needs no further query.
    """
    row = (await session.execute(
        select(Identity, User, Conversation)
        .join(User, User.id == Identity.user_id)
        .outerjoin(Conversation, Conversation.user_id == User.id)
        .where(Identity.channel == msg.channel, Identity.external_id == msg.user_key))).first()
    now = utcnow()
    if row is None:
        user = User(display_name=(msg.display_name or "")[:200], created_at=now, last_seen_at=now)
        session.add(user)
        await session.flush()
        ident = Identity(user_id=user.id, channel=msg.channel, external_id=msg.user_key,
                         chat_id=msg.chat_id, active=True, last_interaction_at=now,
                         last_message_id=(msg.message_id or None) and msg.message_id[:64])
        session.add(ident)
        await session.flush()
        return user, ident, None
    ident, user, conv = row
    ident.last_interaction_at = now
    ident.chat_id = msg.chat_id or ident.chat_id
    if msg.message_id:
        ident.last_message_id = msg.message_id[:64]
    if not ident.active:           # the person came back: they can be messaged again
        ident.active, ident.inactive_reason = True, None
    seen = _aware(user.last_seen_at)
    if seen is None or now - seen >= SEEN_EVERY:
        user.last_seen_at = now
    if msg.display_name and not user.display_name:
        user.display_name = msg.display_name[:200]
    return user, ident, conv
