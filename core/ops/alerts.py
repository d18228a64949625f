"""Admin alerts: one message to the administrators per incident, not one per occurrence.

    await alert(sessionmaker, settings, "zns", "-131:tpl42", "Mẫu ZNS tpl42 chưa được duyệt")
    await resolve(sessionmaker, "zns", "-131:tpl42")        # when it works again
    await core.services["alerts"].alert("zns", "-115", "…")  # the same, bound (set by core.runtime)

`text` is plain text (escaped here) or a Markup (e.g. Markup(render("my/template", …))).

An incident is a row of `incidents` keyed by kind + key. alert() opens it (or re-opens a resolved
one as a new episode) and then enqueues one notice per admin (ADMIN_IDS) through the delivery path,
with the idempotency key incident:<id>:<episode>:<identity>; while it is open further occurrences
only count. Both steps are one transaction, so two processes alerting at once notify once.
Admins who never wrote to the bot have no identity to send to: the incident is still recorded and
listed (open_incidents, `bot.py doctor`, the console's overview).
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from core.messages import Reply
from core.templates import Markup, escape, render
from delivery.queue import enqueue_rows
from storage.models import Identity, Incident, utcnow
from storage.sql import upsert

log = logging.getLogger("ocop.ops.alerts")
KINDS = ("zalo_token", "zns", "queue_stale", "job_failed", "webhook_error")


async def admin_identities(session, settings) -> list[Identity]:
    out = []
    for ref in sorted(settings.admin_ids):
        channel, _, ext = ref.partition(":")
        ident = await session.scalar(select(Identity).where(
            Identity.channel == channel, Identity.external_id == ext, Identity.active.is_(True)))
        if ident is not None:
            out.append(ident)
    return out


async def alert(sessionmaker, settings, kind: str, key: str, text: str) -> bool:
    """Record an occurrence; True when it opened an incident (and the admins were notified)."""
    # stored and sent as HTML of the small Telegram subset: plain text is escaped here, a Markup
    # (e.g. a rendered template) is kept as it is
    key, now = str(key)[:128], utcnow()
    text = str(escape(text))[:2000]
    async with sessionmaker() as s, s.begin():
        ins = upsert(s, Incident, dict(kind=kind, key=key, status="open", text=text, episode=1, occurrences=1,
                                       opened_at=now, last_seen_at=now), key=["kind", "key"])
        opened = (await s.execute(ins)).rowcount == 1
        if not opened:
            opened = (await s.execute(
                update(Incident).where(Incident.kind == kind, Incident.key == key, Incident.status == "resolved")
                .values(status="open", text=text, episode=Incident.episode + 1, occurrences=1, opened_at=now,
                        last_seen_at=now, resolved_at=None))).rowcount == 1
        if not opened:
            await s.execute(update(Incident).where(Incident.kind == kind, Incident.key == key)
                            .values(occurrences=Incident.occurrences + 1, last_seen_at=now))
            return False
        inc = await s.scalar(select(Incident).where(Incident.kind == kind, Incident.key == key)
                             .execution_options(populate_existing=True))
        message = Reply(render("ops/alert", kind=kind, text=Markup(text))).to_payload()
        admins = await admin_identities(s, settings)
        await enqueue_rows(s, [dict(key=f"incident:{inc.id}:{inc.episode}:{i.id}", kind="notice", identity_id=i.id,
                                    channel=i.channel, chat_id=i.chat_id, payload=dict(message)) for i in admins])
    log.warning("incident opened kind=%s key=%s admins=%d: %s", kind, key, len(admins), text)
    return True


async def resolve(sessionmaker, kind: str, key: str) -> bool:
    """Close an open incident (no message). Cheap when there is none: a read only."""
    key = str(key)[:128]
    async with sessionmaker() as s:
        found = await s.scalar(select(Incident.id).where(Incident.kind == kind, Incident.key == key,
                                                          Incident.status == "open"))
    if found is None:
        return False
    async with sessionmaker() as s, s.begin():
        res = await s.execute(update(Incident).where(Incident.id == found, Incident.status == "open")
                              .values(status="resolved", resolved_at=utcnow()))
    if res.rowcount:
        log.info("incident resolved kind=%s key=%s", kind, key)
    return bool(res.rowcount)


async def open_incidents(session, limit: int = 50) -> list[Incident]:
    """Open incidents, newest first (for the console's overview and `bot.py doctor`)."""
    return list(await session.scalars(select(Incident).where(Incident.status == "open")
                                      .order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)))


class Alerts:
    """The same API bound to one database and settings: `await core.services["alerts"].alert(kind, key, text)`."""

    def __init__(self, sessionmaker, settings):
        self.sessionmaker, self.settings = sessionmaker, settings

    async def alert(self, kind: str, key: str, text: str) -> bool:
        return await alert(self.sessionmaker, self.settings, kind, key, text)

    async def resolve(self, kind: str, key: str) -> bool:
        return await resolve(self.sessionmaker, kind, key)
