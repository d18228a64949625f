"""Consent per phone for ZNS: its basis (register import, shared contact) and how it ended.

A refusal from Zalo (-134/-139/-141) is final: the phone is never asked again. A producer's /stop
or /huydangky of reminders ends ZNS to their phone(s) as well. A refusal also corrects the phone's
call-list rows decided while the refused attempt was waiting (calllist.refused_since).

A route decision (chain.plan / chain.advance) first writes the phone's row (`record_basis`), then
reads its state: on PostgreSQL the row stays locked until the decision commits, so a refusal or /stop
recorded meanwhile waits for it (and a refusal then sees the call-list rows it added); SQLite
writes one transaction at a time anyway.
"""
from __future__ import annotations

from sqlalchemy import select, update

from storage.models import Certificate, PhoneConsent, User, utcnow


def _insert(session):
    from storage.sql import pg_insert, sqlite_insert
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def record_basis(session, phones: dict[str, str]) -> None:
    """phone (0…) -> basis; an existing row keeps its first basis (and any refusal). Every row is written
    (a no-op update when it exists), so it is locked until the transaction ends (see above)."""
    if not phones:
        return
    now = utcnow()
    rows = [dict(phone=p, basis=phones[p], created_at=now, updated_at=now) for p in sorted(phones) if p]
    for i in range(0, len(rows), 500):
        ins = _insert(session)(PhoneConsent).values(rows[i:i + 500])
        await session.execute(ins.on_conflict_do_update(index_elements=["phone"],
                                                        set_={"updated_at": PhoneConsent.__table__.c.updated_at}))


async def states(session, phones) -> dict[str, str]:
    """phone -> 'refused' | 'opted_out' for phones whose ZNS ended (others are absent)."""
    phones = sorted(set(p for p in phones if p))
    out: dict[str, str] = {}
    for i in range(0, len(phones), 900):
        rows = await session.execute(select(PhoneConsent.phone, PhoneConsent.refused_at, PhoneConsent.opted_out_at)
                                     .where(PhoneConsent.phone.in_(phones[i:i + 900])))
        for phone, refused, opted in rows:
            if refused is not None:
                out[phone] = "refused"
            elif opted is not None:
                out[phone] = "opted_out"
    return out


async def state(sessionmaker, phone: str) -> str:
    async with sessionmaker() as s:
        return (await states(s, [phone])).get(phone, "ok")


async def record_refusal(sessionmaker, phone: str, code: int, attempt_key: str | None = None, detail: str = "") -> None:
    """Zalo answered `code` (-134/-139/-141) to the ZNS delivery `attempt_key`."""
    from handlers.reach.calllist import refused_since
    now = utcnow()
    async with sessionmaker() as s, s.begin():
        await s.execute(_insert(s)(PhoneConsent).values(phone=phone, basis="register", refused_at=now,
                                                         refused_code=code, created_at=now, updated_at=now)
                        .on_conflict_do_update(index_elements=["phone"],
                                               set_={"refused_at": now, "refused_code": code, "updated_at": now}))
        if attempt_key:
            await refused_since(s, phone, attempt_key, detail or f"zns {code}")


async def user_phones(session, user: User) -> set[str]:
    phones = {user.phone} if user.phone else set()
    phones.update(p for p in await session.scalars(select(Certificate.phone).where(
        Certificate.owner_user_id == user.id, Certificate.phone.is_not(None))) if p)
    return phones


async def opt_out_user(session, user: User) -> int:
    """/stop, /huydangky: no more ZNS to this person's phone(s). Returns phones affected."""
    from handlers.products.claims import normalise_phone
    phones = {normalise_phone(p) for p in await user_phones(session, user)} - {None}
    now = utcnow()
    for p in sorted(phones):                     # the order record_basis locks in
        await session.execute(_insert(session)(PhoneConsent).values(
            phone=p, basis="contact", opted_out_at=now, created_at=now, updated_at=now)
            .on_conflict_do_update(index_elements=["phone"], set_={"opted_out_at": now, "updated_at": now}))
    return len(phones)


async def opt_in_user(session, user: User) -> None:
    """/dangky again: the person's own choice lifts their /stop (never a refusal from Zalo)."""
    phones = await user_phones(session, user)
    if phones:
        await session.execute(update(PhoneConsent).where(PhoneConsent.phone.in_(phones))
                              .values(opted_out_at=None, updated_at=utcnow()))
