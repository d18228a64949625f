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

from sqlalchemy import exists, select

from core.reference import group_by_id
from core.permissions import Scope, province_id_of, province_name, province_values
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


def _user_filters(segment: dict, scope: Scope | None) -> list:
    """The conditions on a person (User) of the segment, before the group/topic step."""
    where = [User.opted_out.is_(False)]
    provs = effective_provinces(segment, scope)
    if provs:
        values = [v for p in provs for v in province_values(p)]
        sub_in = exists().where(Subscription.user_id == User.id, Subscription.province.in_(values))
        where.append(User.province.in_(values) | sub_in)
    cert = Certificate.owner_user_id == User.id
    if segment.get("stars"):
        where.append(exists().where(cert, Certificate.stars.in_([int(s) for s in segment["stars"]])))
    if segment.get("expiring_before"):
        where.append(exists().where(cert, Certificate.expires_on < date.fromisoformat(segment["expiring_before"])))
    return where


async def _kept(session, segment: dict, users: list[User]) -> list[tuple[User, Subscription | None]]:
    """The group and topic step (subscriptions, certificate groups), in order, one entry per person."""
    ids = list(dict.fromkeys(u.id for u in users))
    subs: dict[int, Subscription] = {}
    if segment.get("groups") or segment.get("topic"):
        for i in range(0, len(ids), 5000):
            for s in await session.scalars(select(Subscription).where(Subscription.user_id.in_(ids[i:i + 5000]))):
                subs[s.user_id] = s
    cert_groups: dict[int, set[str]] = {}
    if segment.get("groups"):
        for uid, grp in await session.execute(select(Certificate.owner_user_id, Certificate.group)
                                              .where(Certificate.owner_user_id.is_not(None))):
            cert_groups.setdefault(uid, set()).add(grp)
    out, seen = [], set()
    for user in users:
        if user.id in seen:
            continue
        seen.add(user.id)
        sub = subs.get(user.id)
        if segment.get("topic") and not (sub and sub.active and segment["topic"] in (sub.topics or [])):
            continue
        if segment.get("groups"):
            wanted = set(segment["groups"])
            sub_groups = set(sub.groups or []) if sub and sub.active else set()
            if not (wanted & sub_groups or wanted & cert_groups.get(user.id, set())):
                continue
        out.append((user, sub))
    return out


async def recipients(session, segment: dict, scope: Scope | None = None) -> list[Recipient]:
    """Resolve a segment to one reachable identity per person (the most recently used one)."""
    q = (select(User, Identity).join(Identity, Identity.user_id == User.id)
         .where(Identity.active.is_(True), *_user_filters(segment, scope)))
    rows = (await session.execute(q.order_by(User.id, Identity.last_interaction_at.desc()))).all()
    first: dict[int, Identity] = {}
    for user, ident in rows:
        first.setdefault(user.id, ident)
    return [Recipient(user.id, first[user.id], user.display_name or "",
                      province_id_of(user.province or (sub.province if sub else None)))
            for user, sub in await _kept(session, segment, [u for u, _ in rows])]


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
    live = exists().where(Identity.user_id == User.id, Identity.active.is_(True))
    users = list(await session.scalars(select(User).where(~live, *_user_filters(segment, scope)).order_by(User.id)))
    out = [Unreached(f"u{u.id}", u.id, u.display_name or "", province_id_of(u.province), u.phone)
           for u, _ in await _kept(session, segment, users)]
    if segment.get("topic"):            # nobody subscribes to a topic without using the bot
        return out
    q = select(Certificate).where(Certificate.owner_user_id.is_(None), Certificate.revoked.is_(False))
    provs = effective_provinces(segment, scope)
    if provs:
        q = q.where(Certificate.province.in_([v for p in provs for v in province_values(p)]))
    if segment.get("stars"):
        q = q.where(Certificate.stars.in_([int(s) for s in segment["stars"]]))
    if segment.get("expiring_before"):
        q = q.where(Certificate.expires_on < date.fromisoformat(segment["expiring_before"]))
    if segment.get("groups"):
        q = q.where(Certificate.group.in_(segment["groups"]))
    seen = set()
    for c in await session.scalars(q.order_by(Certificate.id)):
        who = c.phone or f"{c.producer}|{c.province}"
        if who not in seen:
            seen.add(who)
            out.append(Unreached(f"c{c.id}", None, c.producer, province_id_of(c.province), c.phone))
    return out
