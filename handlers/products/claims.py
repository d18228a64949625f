"""Claiming imported certificates: by the phone number a producer shares, or a one-time code.

Privacy rules (tested in tests/products/test_claims.py):
- a phone number only claims unowned certificates registered with exactly that number;
- a code only claims what it was made for (a phone number or a list of certificate ids);
- a certificate that already has an owner is never transferred, by phone or by code;
- a code works once and until it expires; using it is an atomic UPDATE (two people racing for
  the same code: one wins).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from storage.models import Certificate, Code, utcnow

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"     # no 0/O, 1/I
CODE_LENGTH = 8
CODE_VALID_DAYS = 30


def normalise_phone(text: str | None) -> str | None:
    """'+84 912 345 678', '84912345678', '0912.345.678', '912345678' -> '0912345678'; else None."""
    digits = re.sub(r"[\s.\-()]", "", str(text or ""))
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("84"):
            return None
    if not digits.isdigit():
        return None
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) in (9, 10):   # a spreadsheet dropped the 0
        digits = "0" + digits
    if len(digits) not in (10, 11) or digits[1] == "0":
        return None
    return digits


def normalise_code(text: str) -> str:
    t = re.sub(r"[\s\-]", "", str(text or "")).upper()
    return t[len("CLAIM_"):] if t.startswith("CLAIM_") else t


def deep_link(code: str, bot_username: str = "") -> str:
    if bot_username:
        return f"https://t.me/{bot_username.lstrip('@')}?start=claim_{code}"
    return f"/start claim_{code}"


@dataclass
class ClaimResult:
    status: str                      # ok | nothing | unknown | used | expired
    certs: list[Certificate] = field(default_factory=list)


async def _claim_where(session, user_id: int, *conditions) -> list[Certificate]:
    """Atomically give unowned certificates matching `conditions` to the user."""
    res = await session.execute(update(Certificate)
                                .where(Certificate.owner_user_id.is_(None), *conditions)
                                .values(owner_user_id=user_id, updated_at=utcnow())
                                .returning(Certificate.id)
                                .execution_options(synchronize_session=False))
    ids = [r[0] for r in res]
    if not ids:
        return []
    rows = await session.scalars(select(Certificate).where(Certificate.id.in_(ids))
                                 .order_by(Certificate.expires_on)
                                 .execution_options(populate_existing=True))
    return list(rows)


async def claim_by_phone(session, user_id: int, phone: str) -> list[Certificate]:
    return await _claim_where(session, user_id, Certificate.phone == phone)


async def create_claim_code(session, *, phone: str | None = None, cert_ids: list[int] | None = None,
                            created_by: int | None = None, valid_days: int = CODE_VALID_DAYS,
                            now: datetime | None = None) -> Code:
    """A single-use code for the unowned certificates of a phone number or of given ids."""
    if not phone and not cert_ids:
        raise ValueError("phone or cert_ids required")
    now = now or utcnow()
    ref = {"phone": phone} if phone else {"cert_ids": sorted({int(i) for i in cert_ids})}
    if created_by is not None:
        ref["by"] = created_by
    code = Code(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)), purpose="claim",
                ref=ref, expires_at=now + timedelta(days=valid_days), created_at=now)
    session.add(code)
    await session.flush()
    return code


async def redeem_code(session, user_id: int, text: str, now: datetime | None = None) -> ClaimResult:
    """Use a claim code once; returns what became the user's."""
    now = now or utcnow()
    code = normalise_code(text)
    if not code or len(code) > 32:
        return ClaimResult("unknown")
    res = await session.execute(update(Code).where(
        Code.code == code, Code.purpose == "claim", Code.used_at.is_(None),
        (Code.expires_at.is_(None)) | (Code.expires_at > now))
        .values(used_at=now, user_id=user_id).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        row = await session.get(Code, code)
        if row is None or row.purpose != "claim":
            return ClaimResult("unknown")
        return ClaimResult("used" if row.used_at is not None else "expired")
    row = await session.get(Code, code, populate_existing=True)
    if row.ref.get("phone"):
        certs = await _claim_where(session, user_id, Certificate.phone == row.ref["phone"])
    else:
        certs = await _claim_where(session, user_id, Certificate.id.in_(row.ref.get("cert_ids") or [-1]))
    return ClaimResult("ok" if certs else "nothing", certs)
