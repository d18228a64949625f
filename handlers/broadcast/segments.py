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


async def recipients(session, segment: dict, scope: Scope | None = None) -> list[Recipient]:
    """Resolve a segment to one reachable identity per person (the most recently used one)."""
    q = (select(User, Identity).join(Identity, Identity.user_id == User.id)
         .where(User.opted_out.is_(False), Identity.active.is_(True)))
    provs = effective_provinces(segment, scope)
    if provs:
        values = [v for p in provs for v in province_values(p)]
        sub_in = exists().where(Subscription.user_id == User.id, Subscription.province.in_(values))
        q = q.where(User.province.in_(values) | sub_in)
    cert = Certificate.owner_user_id == User.id
    if segment.get("stars"):
        q = q.where(exists().where(cert, Certificate.stars.in_([int(s) for s in segment["stars"]])))
    if segment.get("expiring_before"):
        q = q.where(exists().where(cert, Certificate.expires_on < date.fromisoformat(segment["expiring_before"])))
    rows = (await session.execute(q.order_by(User.id, Identity.last_interaction_at.desc()))).all()
    subs = {}
    if segment.get("groups") or segment.get("topic"):
        ids = list({u.id for u, _ in rows})
        for i in range(0, len(ids), 5000):
            for s in await session.scalars(select(Subscription).where(Subscription.user_id.in_(ids[i:i + 5000]))):
                subs[s.user_id] = s
    cert_groups: dict[int, set[str]] = {}
    if segment.get("groups"):
        for uid, grp in await session.execute(select(Certificate.owner_user_id, Certificate.group)
                                              .where(Certificate.owner_user_id.is_not(None))):
            cert_groups.setdefault(uid, set()).add(grp)
    out: dict[int, Recipient] = {}
    for user, ident in rows:
        if user.id in out:
            continue
        sub = subs.get(user.id)
        if segment.get("topic") and not (sub and sub.active and segment["topic"] in (sub.topics or [])):
            continue
        if segment.get("groups"):
            wanted = set(segment["groups"])
            sub_groups = set(sub.groups or []) if sub and sub.active else set()
            if not (wanted & sub_groups or wanted & cert_groups.get(user.id, set())):
                continue
        prov = province_id_of(user.province or (sub.province if sub else None))
        out[user.id] = Recipient(user.id, ident, user.display_name or "", prov)
    return list(out.values())
