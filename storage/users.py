"""User / identity repository."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Incoming
from storage.models import Identity, User, utcnow


async def touch(session: AsyncSession, msg: Incoming) -> tuple[User, Identity]:
    """Find or create the user behind an incoming message and record the interaction."""
    ident = await session.scalar(select(Identity).where(Identity.channel == msg.channel,
                                                         Identity.external_id == msg.user_key))
    now = utcnow()
    if ident is None:
        user = User(display_name=(msg.display_name or "")[:200], created_at=now, last_seen_at=now)
        session.add(user)
        await session.flush()
        ident = Identity(user_id=user.id, channel=msg.channel, external_id=msg.user_key,
                         chat_id=msg.chat_id, active=True, last_interaction_at=now)
        session.add(ident)
        await session.flush()
        return user, ident
    user = await session.get(User, ident.user_id)
    ident.chat_id = msg.chat_id or ident.chat_id
    ident.last_interaction_at = now
    if msg.message_id:
        ident.last_message_id = msg.message_id[:64]
    if not ident.active:           # the person came back: they can be messaged again
        ident.active, ident.inactive_reason = True, None
    user.last_seen_at = now
    if msg.display_name and not user.display_name:
        user.display_name = msg.display_name[:200]
    return user, ident
