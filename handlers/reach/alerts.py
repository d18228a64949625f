"""Alerts to administrators (ADMIN_IDS) through the delivery path, once per alert key."""
from __future__ import annotations

from sqlalchemy import select

from core.messages import Reply
from core.templates import render
from delivery.queue import enqueue_rows
from storage.models import Identity


async def admin_identities(session, settings) -> list[Identity]:
    out = []
    for ref in sorted(settings.admin_ids):
        channel, _, ext = ref.partition(":")
        ident = await session.scalar(select(Identity).where(Identity.channel == channel, Identity.external_id == ext,
                                                            Identity.active.is_(True)))
        if ident is not None:
            out.append(ident)
    return out


async def alert_admins(sessionmaker, settings, key: str, template: str, **kw) -> int:
    """Enqueue one notice per admin; the same `key` again creates nothing (alerted once)."""
    text = render(template, **kw)
    async with sessionmaker() as s, s.begin():
        rows = [dict(key=f"alert:{key}:{i.id}"[:160], kind="notice", identity_id=i.id, channel=i.channel,
                     chat_id=i.chat_id, payload=Reply(text).to_payload()) for i in await admin_identities(s, settings)]
        return await enqueue_rows(s, rows)
