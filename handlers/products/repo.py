"""Certificate queries that always scope by owner, and officer scope checks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.dates import STATUS_LABEL, days_left, expiry_date, status_of
from core.reference import group_by_id, province_name
from core.text import parse_id
from storage.models import Certificate

AUTHORITY_LABEL = {"province": "UBND tỉnh/thành phố", "ministry": "Bộ Nông nghiệp và Môi trường",
                   "district": "UBND huyện (3 sao, cấp trước 6/7/2025)"}


@dataclass
class CertView:
    """What the templates show for one certificate."""
    id: int
    product: str
    stars: int
    group: str
    province: str         # the official name
    decision_no: str
    authority: str
    recognized_on: date
    expires_on: date
    days_left: int
    status: str           # valid | soon | expired
    status_label: str
    muted: bool


def view(cert: Certificate, today: date) -> CertView:
    g = group_by_id(cert.group)
    st = status_of(cert.expires_on, today)
    return CertView(cert.id, cert.product, cert.stars, g.name if g else cert.group, province_name(cert.province),
                    cert.decision_no, AUTHORITY_LABEL.get(cert.authority, cert.authority),
                    cert.recognized_on, cert.expires_on, days_left(cert.expires_on, today), st,
                    STATUS_LABEL[st], cert.muted)


async def list_owned(session, user_id: int) -> list[Certificate]:
    rows = await session.scalars(select(Certificate).where(Certificate.owner_user_id == user_id)
                                 .order_by(Certificate.expires_on, Certificate.id))
    return list(rows)


async def get_owned(session, user_id: int, cert_id) -> Certificate | None:
    """The certificate only if this user owns it (every callback goes through here)."""
    cid = parse_id(cert_id)
    if cid is None:
        return None
    cert = await session.get(Certificate, cid)
    return cert if cert is not None and cert.owner_user_id == user_id else None


async def find_by_register_key(session, province: str, decision_no: str, product: str) -> Certificate | None:
    return await session.scalar(select(Certificate).where(
        Certificate.province == province, Certificate.decision_no == decision_no,
        Certificate.product == product))


def set_recognized(cert: Certificate, recognized_on: date) -> None:
    cert.recognized_on = recognized_on
    cert.expires_on = expiry_date(recognized_on)
