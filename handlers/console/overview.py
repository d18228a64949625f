"""Tổng quan /quantri/: big numbers for the officer's scope, and bar charts drawn on the server."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, case, distinct, func, select

from core.dates import add_months
from core.web.keys import CORE, DB, VIEWER
from core.web.render import page
from handlers.console.queries import group_name, group_options, scoped, unindexed
from handlers.console.snapshot import cached, scope_key
from storage.models import Broadcast, Certificate, Delivery, Identity, OfficerQuestion

MONTHS_AHEAD = 24


async def numbers(db, viewer, today) -> dict:
    counts = await cached(db, ("overview-numbers", scope_key(viewer), today), lambda: cert_numbers(db, viewer, today))
    live = Certificate.revoked.is_(False)
    reach_q = scoped(select(Identity.channel, func.count(distinct(Identity.user_id)))
                     .join(Certificate, Certificate.owner_user_id == Identity.user_id)
                     .where(Identity.active.is_(True), live).group_by(Identity.channel), viewer)
    reach = {c: n for c, n in (await db.execute(reach_q)).all()}
    qq = select(func.count()).select_from(OfficerQuestion).where(OfficerQuestion.status == "open")
    if not viewer.national:
        qq = qq.where(OfficerQuestion.province.in_(sorted(viewer.provinces)))
    return dict(counts, reach=reach, open_questions=await db.scalar(qq), broadcast=await last_broadcast(db, viewer))


async def cert_numbers(db, viewer, today) -> dict:
    """The figures that depend only on the register and the day (cached per register version)."""
    live = Certificate.revoked.is_(False)
    exp = Certificate.expires_on

    def within(days):
        return func.sum(case((and_(exp >= today, exp <= today + timedelta(days=days)), 1), else_=0))
    # one pass over the scope's certificates for the star and expiry numbers
    row = (await db.execute(scoped(select(
        *(func.sum(case((and_(exp >= today, Certificate.stars == s), 1), else_=0)) for s in (3, 4, 5)),
        within(30), within(90), within(180), func.sum(case((exp < today, 1), else_=0))).where(live), viewer))).one()
    by_star = {s: int(row[i] or 0) for i, s in enumerate((3, 4, 5))}
    expiring = {30: int(row[3] or 0), 90: int(row[4] or 0), 180: int(row[5] or 0)}
    expired = int(row[6] or 0)
    sub = scoped(select(unindexed(Certificate.province), Certificate.producer).where(live).distinct(),
                 viewer).subquery()
    producers = await db.scalar(select(func.count()).select_from(sub))
    return dict(by_star=by_star, total=sum(by_star.values()), producers=producers, expiring=expiring,
                expired=expired)


async def last_broadcast(db, viewer) -> dict | None:
    """The most recent finished or running broadcast within the scope, with its delivery rate."""
    rows = await db.scalars(select(Broadcast).where(Broadcast.status.in_(("running", "done")))
                            .order_by(Broadcast.id.desc()).limit(50))
    for b in rows:
        provs = set((b.segment or {}).get("provinces") or [])
        if viewer.national or (provs and provs <= viewer.provinces):
            counts = {s: n for s, n in (await db.execute(
                select(Delivery.status, func.count()).where(Delivery.broadcast_id == b.id)
                .group_by(Delivery.status))).all()}
            total = sum(counts.values())
            sent = counts.get("sent", 0)
            return dict(id=b.id, text=b.text[:80], total=total, sent=sent,
                        failed=total - sent - counts.get("queued", 0) - counts.get("claimed", 0)
                        - counts.get("sending", 0),
                        rate=round(100 * sent / total, 1) if total else 0.0, status=b.status)
    return None


async def charts(db, viewer, today) -> dict:
    live = (Certificate.revoked.is_(False), unindexed(Certificate.expires_on) >= today)   # most of the register
    grid = {}
    for g, s, n in (await db.execute(scoped(select(Certificate.group, Certificate.stars, func.count())
                                             .where(*live).group_by(Certificate.group, Certificate.stars),
                                             viewer))).all():
        grid.setdefault(g, {})[s] = n
    groups = [dict(id=gid, name=name, stars={s: grid.get(gid, {}).get(s, 0) for s in (3, 4, 5)})
              for gid, name in group_options()]
    for gid in grid:
        if gid not in {g["id"] for g in groups}:
            groups.append(dict(id=gid, name=group_name(gid), stars={s: grid[gid].get(s, 0) for s in (3, 4, 5)}))
    for g in groups:
        g["total"] = sum(g["stars"].values())
    end = add_months(today.replace(day=1), MONTHS_AHEAD)
    months = {}
    for d, n in (await db.execute(scoped(select(Certificate.expires_on, func.count()).where(
            Certificate.revoked.is_(False), Certificate.expires_on >= today.replace(day=1),
            Certificate.expires_on < end).group_by(Certificate.expires_on), viewer))).all():
        key = f"{d.year}-{d.month:02d}"
        months[key] = months.get(key, 0) + n
    month_list = []
    for i in range(MONTHS_AHEAD):
        m = add_months(today.replace(day=1), i)
        key = f"{m.year}-{m.month:02d}"
        month_list.append(dict(key=key, label=f"{m.month}/{m.year % 100:02d}", n=months.get(key, 0)))
    communes = [dict(name=c or "", n=n) for c, n in (await db.execute(scoped(
        select(Certificate.commune, func.count()).where(*live).group_by(Certificate.commune)
        .order_by(func.count().desc(), Certificate.commune).limit(15), viewer))).all()]
    commune_total = await db.scalar(select(func.count()).select_from(scoped(
        select(Certificate.commune).where(*live).distinct(), viewer).subquery()))
    return dict(groups=groups, group_max=max([g["total"] for g in groups] + [1]), months=month_list,
                month_max=max([m["n"] for m in month_list] + [1]), communes=communes,
                commune_max=max([c["n"] for c in communes] + [1]), commune_total=commune_total)


async def overview(request):
    viewer, db = request[VIEWER], request[DB]
    today = request.app[CORE].today()
    from core.ops.alerts import open_incidents          # ops alerts (issue 16): admins see the open ones
    incidents = await open_incidents(db) if viewer.admin else []
    return page(request, "web/overview", active="tong-quan", title="Tổng quan", today=today,
                n=await numbers(db, viewer, today), incidents=incidents, tz=request.app[CORE].settings.tz,
                c=await cached(db, ("overview-charts", scope_key(viewer), today), lambda: charts(db, viewer, today)))


def routes(r) -> None:
    r.get("/", overview)
