"""Due reminders (core.reminders.Due) -> route-chain targets: who, which phone, ZNS parameters,
call-list fields."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import yaml

from handlers.products.claims import normalise_phone
from core.config import ROOT
from core.reference import province_name
from handlers.reach.chain import Target
from storage.models import User


@lru_cache(maxsize=1)
def zns_fields() -> dict:
    with open(ROOT / "content" / "data" / "zns.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _fmt(v) -> str:
    return v.strftime("%d/%m/%Y") if isinstance(v, date) else str(v if v is not None else "")


def bot_guide(settings) -> str:
    """How to open the bot, short enough for a template parameter."""
    if settings.bot_username:
        return f"t.me/{settings.bot_username} (gõ /sanpham)"
    return "Nhắn 'OCOP' tới Zalo OA của Sở"


def zns_params(kind: str, values: dict) -> dict:
    out = {}
    for name, spec in (zns_fields().get(kind) or {}).items():
        out[name] = _fmt(values.get(spec["from"]))[: int(spec.get("max") or 30)]
    return out


CHAINED = ("cert", "round")      # reminder kinds that go through the route chain


async def targets_for(session, settings, due: list) -> list[Target]:
    """d.context: ('late' | '', Certificate) for certificates, (round, owns) for rounds."""
    from handlers.products.reminders import window
    users = {}
    from sqlalchemy import select
    ids = sorted({d.user_id for d in due if d.user_id})
    for i in range(0, len(ids), 900):
        users.update({u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids[i:i + 900])))})
    guide = bot_guide(settings)
    round_first = max(settings.round_offsets) if settings.round_offsets else None
    out = []
    for d in due:
        user = users.get(d.user_id)
        own = normalise_phone(user.phone) if user is not None and user.phone else None
        if d.kind == "cert":
            late, cert = d.context
            reg = normalise_phone(cert.phone)
            phone, basis = (own, "contact") if own else (reg, "register")
            opens, closes, _ext = window(cert.expires_on)
            params = None
            if late != "late" and d.offset in settings.zns_offsets:
                params = zns_params("cert", dict(product=cert.product, stars=f"{cert.stars} sao",
                                                 decision_no=cert.decision_no, expires_on=cert.expires_on,
                                                 window_opens=opens, window_closes=closes, bot_guide=guide))
            call = dict(cert_id=cert.id, province=cert.province, product=cert.product,
                        producer=cert.producer or (user.display_name if user else ""), commune=cert.commune,
                        expires_on=cert.expires_on.isoformat())
        else:
            rnd, _owns = d.context
            phone, basis = own, "contact"
            params = None
            if d.offset == round_first:
                params = zns_params("round", dict(name=rnd.name, province=province_name(rnd.province),
                                                  deadline=rnd.registration_deadline, bot_guide=guide))
            call = dict(cert_id=None, province=rnd.province, product=f"Đợt đánh giá: {rnd.name}",
                        producer=user.display_name if user else "", commune=None,
                        expires_on=rnd.registration_deadline.isoformat())
        out.append(Target(d.key, d.kind, d.offset, d.due_on, d.user_id, phone, basis, d.reply.to_payload(),
                          params, call))
    return out
