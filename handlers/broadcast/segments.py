"""Who receives a broadcast.

A segment is a small JSON dict stored on the broadcast:
    provinces: [province ids]     (within the officer's scope; empty = the whole scope)
    groups:    [group ids]        subscribers of these groups or owners of certificates in them
    stars:     [3, 4, 5]          owners of certificates with these star levels
    topic:     "hoi_cho" | …      subscribers of this topic
    expiring_before: "YYYY-MM-DD" owners of certificates expiring before that date
With no filter: every producer who started the bot and has not opted out.
Opted-out people and people without a reachable identity are never recipients.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, case, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import aliased

from core.reference import group_by_id
from core.permissions import Scope, province_name
from storage.models import Certificate, Identity, Subscription, User

TOPICS = [
    ("hoi_cho", "Hội chợ"),
    ("dot_danh_gia", "Đợt đánh giá"),
    ("tap_huan", "Tập huấn"),
    ("chinh_sach", "Chính sách"),
]
TOPIC_NAMES = dict(TOPICS)


@dataclass
class Recipient:
    user_id: int
    identity: Identity
    name: str
    province: str | None      # province id


def effective_provinces(segment: dict, scope: Scope | None) -> list[str]:
    """The provinces a segment targets after applying the scope ([] = no province filter)."""
    chosen = [p for p in segment.get("provinces") or [] if p]
    if scope is None or scope.national:
        return chosen
    return chosen or sorted(scope.provinces)


def describe(segment: dict) -> str:
    """A short Vietnamese description of the segment, for previews and reports."""
    parts = []
    if segment.get("provinces"):
        parts.append("tỉnh: " + ", ".join(province_name(p) for p in segment["provinces"]))
    if segment.get("groups"):
        parts.append("nhóm: " + ", ".join(g.name for g in map(group_by_id, segment["groups"]) if g))
    if segment.get("stars"):
        parts.append("hạng: " + ", ".join(f"{s} sao" for s in segment["stars"]))
    if segment.get("topic"):
        parts.append("đăng ký chủ đề: " + TOPIC_NAMES.get(segment["topic"], segment["topic"]))
    if segment.get("expiring_before"):
        d = date.fromisoformat(segment["expiring_before"])
        parts.append(f"GCN hết hạn trước {d:%d/%m/%Y}")
    return "; ".join(parts) or "tất cả người dùng đã bấm Bắt đầu"


def _listed(column, value: str):
    """A JSON list column (stored as text '["a", "b"]') holds `value` (ids are plain words)."""
    return cast(column, String).contains(f'"{value}"', autoescape=True)


def _user_filters(segment: dict, scope: Scope | None) -> list:
    """The conditions on a person (User) of the segment, all in SQL."""
    where = [User.opted_out.is_(False)]
    provs = effective_provinces(segment, scope)
    if provs:
        sub_in = User.id.in_(select(Subscription.user_id).where(Subscription.province.in_(provs)))  # computed once
        where.append(User.province.in_(provs) | sub_in)
    cert = Certificate.owner_user_id == User.id
    if segment.get("stars"):
        where.append(exists().where(cert, Certificate.stars.in_([int(s) for s in segment["stars"]])))
    if segment.get("expiring_before"):
        where.append(exists().where(cert, Certificate.expires_on < date.fromisoformat(segment["expiring_before"])))
    subscribed = (Subscription.user_id == User.id, Subscription.active.is_(True))
    if segment.get("topic"):
        where.append(exists().where(*subscribed, _listed(Subscription.topics, segment["topic"])))
    if segment.get("groups"):
        where.append(exists().where(*subscribed, or_(*(_listed(Subscription.groups, g) for g in segment["groups"])))
                     | exists().where(cert, Certificate.group.in_(segment["groups"])))
    return where


def _live():
    return exists().where(Identity.user_id == User.id, Identity.active.is_(True))


async def recipients(session, segment: dict, scope: Scope | None = None) -> list[Recipient]:
    """Resolve a segment to one reachable identity per person (the most recently used one)."""
    sub = aliased(Subscription)             # the filters' EXISTS on subscriptions stay correlated to User
    q = (select(User.id, User.display_name, func.coalesce(User.province, sub.province), Identity)
         .join(Identity, Identity.user_id == User.id).outerjoin(sub, sub.user_id == User.id)
         .where(Identity.active.is_(True), *_user_filters(segment, scope)))
    out: dict[int, Recipient] = {}
    for uid, name, prov, ident in await session.execute(q.order_by(User.id, Identity.last_interaction_at.desc())):
        if uid not in out:
            out[uid] = Recipient(uid, ident, name or "", prov)
    return list(out.values())


async def count(session, segment: dict, scope: Scope | None = None) -> tuple[int, int]:
    """(recipients, people with no route) of a segment, counted in SQL (the composer's live count)."""
    everyone, reach = (await session.execute(select(func.count(), func.coalesce(func.sum(case((_live(), 1), else_=0)), 0))
                                             .select_from(User).where(*_user_filters(segment, scope)))).one()
    lost = everyone - reach
    register = 0
    if not segment.get("topic"):
        who = func.coalesce(func.nullif(Certificate.phone, ""), Certificate.producer.concat("|").concat(Certificate.province))
        register = await session.scalar(select(func.count(distinct(who))).where(*_register_filters(segment, scope)))
    return reach, lost + register


def _register_filters(segment: dict, scope: Scope | None) -> list:
    """Unclaimed register entries (certificates no bot user owns) of the segment."""
    where = [Certificate.owner_user_id.is_(None), Certificate.revoked.is_(False)]
    provs = effective_provinces(segment, scope)
    if provs:
        where.append(Certificate.province.in_(provs))
    if segment.get("stars"):
        where.append(Certificate.stars.in_([int(s) for s in segment["stars"]]))
    if segment.get("expiring_before"):
        where.append(Certificate.expires_on < date.fromisoformat(segment["expiring_before"]))
    if segment.get("groups"):
        where.append(Certificate.group.in_(segment["groups"]))
    return where


@dataclass
class Unreached:
    """Someone of the segment the bot has no route to (counted as no_route, listed in the CSV)."""
    key: str                  # "u<user id>" or "c<certificate id>"
    user_id: int | None
    name: str
    province: str | None      # province id
    phone: str | None


async def unreached(session, segment: dict, scope: Scope | None = None) -> list[Unreached]:
    """People of the segment with no route: every identity inactive (blocked the bot, account gone), or a
    register entry (certificate) no bot user has claimed. Broadcasts never use paid ZNS, so they are told
    by other means from the unreached CSV (phones from the register where known)."""
    out = [Unreached(f"u{uid}", uid, name or "", prov, phone)
           for uid, name, prov, phone in await session.execute(
               select(User.id, User.display_name, User.province, User.phone)
               .where(~_live(), *_user_filters(segment, scope)).order_by(User.id))]
    if segment.get("topic"):            # nobody subscribes to a topic without using the bot
        return out
    q = select(Certificate.id, Certificate.producer, Certificate.province, Certificate.phone).where(
        *_register_filters(segment, scope))
    seen = set()
    for cid, producer, prov, phone in await session.execute(q.order_by(Certificate.id)):
        who = phone or f"{producer}|{prov}"
        if who not in seen:
            seen.add(who)
            out.append(Unreached(f"c{cid}", None, producer, prov, phone))
    return out
