"""Certificate-expiry reminders (a core.reminders Source): 90/60/30/7/0 days before expiry."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.messages import Button, Reply
from core.reminders import CHUNK, Due, Source, due_before, has_active_identity
from core.templates import render
from storage.models import Certificate

LOOKBACK_DAYS = 30           # certificates that expired longer ago get no (first) reminder


def cert_key(cert_id: int, expires_on: date, offset: int) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:{offset}"


async def due_certificates(session, settings, today: date) -> list[Due]:
    """Certificates of owners with an active identity, not muted, expiring between
    today - LOOKBACK_DAYS and today + the largest offset."""
    offsets = settings.expiry_offsets
    if not offsets:
        return []
    q = (select(Certificate.id, Certificate.owner_user_id, Certificate.expires_on)
         .where(Certificate.expires_on >= today - timedelta(days=LOOKBACK_DAYS),
                Certificate.expires_on <= today + timedelta(days=max(offsets)),
                Certificate.owner_user_id.is_not(None), Certificate.muted.is_(False),
                has_active_identity(Certificate.owner_user_id)))
    out = []
    for cid, owner, expires in (await session.execute(q)).all():
        d = due_before("cert", cid, owner, expires, offsets, today, lambda o, c=cid, e=expires: cert_key(c, e, o))
        if d is not None:
            out.append(d)
    return out


def cert_reply(cert: Certificate, today: date) -> Reply:
    left = (cert.expires_on - today).days
    text = render("reminders/certificate", product=cert.product, stars=cert.stars,
                  decision_no=cert.decision_no, expires_on=cert.expires_on, days_left=left)
    return Reply(text, [[Button("📋 Chuẩn bị hồ sơ đánh giá lại", "d:start:reeval")],
                        [Button("🔕 Tắt nhắc", f"p:mute:{cert.id}"), Button("⭐ Sản phẩm của tôi", "p:list")]])


async def attach(session, due: list[Due], today: date) -> None:
    ids = [d.ref_id for d in due]
    certs = {}
    for i in range(0, len(ids), CHUNK):
        certs.update({c.id: c for c in await session.scalars(select(Certificate).where(
            Certificate.id.in_(ids[i:i + CHUNK])))})
    for d in due:
        d.reply = cert_reply(certs[d.ref_id], today)


SOURCE = Source("cert", due_certificates, attach)
