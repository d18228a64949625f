"""Certificate-expiry reminders (a core.reminders Source), around the re-evaluation filing window.

QĐ 26/2026/QĐ-TTg Điều 7.6a: the re-evaluation dossier is filed no earlier than 180 and no later
than 120 days before expiry. Default offsets 210 (prepare), 180 (the window opens), 150, 125 (the
window closes in 5 days), 0 (expiry day); every message states that window's dates and the Điều
12.3 extension (kept until the decision, at most 180 days after expiry). A certificate first seen
when its window has already closed gets ONE honest message (key `cert:<id>:<expiry>:late`), not the
old sequence. Every certificate that is not muted is swept — claimed or not: the route chain
(handlers/reach/chain.py) finds a route, or the officers' call list.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.messages import Button, Reply
from core.reminders import CHUNK, Due, Source, _existing_keys, due_before
from core.templates import label, reply
from storage.models import Certificate

LOOKBACK_DAYS = 30           # certificates that expired longer ago get no (first) reminder
WINDOW_OPENS = 180           # Điều 7.6a: file no earlier than 180 days before expiry …
WINDOW_CLOSES = 120          # … and no later than 120 days before
EXTENSION_DAYS = 180         # Điều 12.3: kept until the decision, at most 180 days after expiry


def cert_key(cert_id: int, expires_on: date, offset: int) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:{offset}"


def late_key(cert_id: int, expires_on: date) -> str:
    return f"cert:{cert_id}:{expires_on.isoformat()}:late"


def window(expires_on: date) -> tuple[date, date, date]:
    """(window opens, window closes, extension until) for a certificate expiring on `expires_on`."""
    return (expires_on - timedelta(days=WINDOW_OPENS), expires_on - timedelta(days=WINDOW_CLOSES),
            expires_on + timedelta(days=EXTENSION_DAYS))


async def due_certificates(session, settings, today: date) -> list[Due]:
    """Certificates not muted, expiring between today - LOOKBACK_DAYS and today + the largest offset."""
    offsets = settings.expiry_offsets
    if not offsets:
        return []
    q = (select(Certificate.id, Certificate.owner_user_id, Certificate.expires_on)
         .where(Certificate.expires_on >= today - timedelta(days=LOOKBACK_DAYS),
                Certificate.expires_on <= today + timedelta(days=max(max(offsets), WINDOW_CLOSES)),
                Certificate.muted.is_(False)))
    found = list((await session.execute(q)).all())
    # a certificate whose window closed: has it had any reminder for this expiry? (indexed key lookups)
    closed = [(cid, exp) for cid, _o, exp in found if today > window(exp)[1]]
    history = await _existing_keys(session, [k for cid, exp in closed
                                             for k in [late_key(cid, exp)] + [cert_key(cid, exp, o) for o in offsets]])
    out = []
    for cid, owner, expires in found:
        key = lambda o, c=cid, e=expires: cert_key(c, e, o)  # noqa: E731
        if today > window(expires)[1]:
            if late_key(cid, expires) in history:
                continue                     # the honest message was sent: nothing more
            if not any(cert_key(cid, expires, o) in history for o in offsets):
                passed = sorted(o for o in offsets if expires - timedelta(days=o) <= today)
                out.append(Due(late_key(cid, expires), "cert", cid, owner, (expires - today).days, today,
                               skipped=[(key(o), o, expires - timedelta(days=o)) for o in passed], context="late"))
                continue
        d = due_before("cert", cid, owner, expires, offsets, today, key)
        if d is not None:
            out.append(d)
    return out


def cert_reply(cert: Certificate, today: date, late: bool = False) -> Reply:
    left = (cert.expires_on - today).days
    opens, closes, extension = window(cert.expires_on)
    return reply("reminders/window_closed" if late else "reminders/certificate",
                 [[Button(label("common.prepare_reeval"), "d:start:reeval")],
                  [Button(label("common.mute"), f"p:mute:{cert.id}"), Button(label("common.my_products"), "p:list")]],
                 product=cert.product, stars=cert.stars, decision_no=cert.decision_no, expires_on=cert.expires_on,
                 days_left=left, window_opens=opens, window_closes=closes, extension_until=extension,
                 window_state="before" if today < opens else ("open" if today <= closes else "closed"))


async def attach(session, due: list[Due], today: date) -> None:
    ids = [d.ref_id for d in due]
    certs = {}
    for i in range(0, len(ids), CHUNK):
        certs.update({c.id: c for c in await session.scalars(select(Certificate).where(
            Certificate.id.in_(ids[i:i + CHUNK])))})
    for d in due:
        cert = certs[d.ref_id]
        d.reply = cert_reply(cert, today, d.context == "late")
        d.context = ("late" if d.context == "late" else "", cert)    # the route chain needs the register row


SOURCE = Source("cert", due_certificates, attach)
