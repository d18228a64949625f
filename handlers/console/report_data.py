"""The report's numbers (Báo cáo): the tables provincial offices compute by hand, for a scope and period.

Each table is a `Table` (title, header, rows, footer) so the page and the XLSX export (one sheet per
table) show exactly the same figures.
"""
from __future__ import annotations

import statistics
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, distinct, exists, func, or_, select, union

from core.reference import all_groups
from handlers.console.activity import activity as per_person
from handlers.console.queries import (PRODUCER_TYPES, RECOGNITION_KINDS, group_name, scoped, subgroup_options,
                                      unindexed)
from handlers.console.snapshot import cached, scope_key
from core.permissions import province_name
from storage.models import (Certificate, EvaluationRound, FlowAnswer, OfficerQuestion,
                            PlanTarget, User)
from storage.users import aware

STARS = (3, 4, 5)


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    footer: list | None = None
    note: str = ""

    def all_rows(self) -> list[list]:
        return self.rows + ([self.footer] if self.footer else [])


async def _run(db, q):
    """A read on the session's connection: Core rows, without the ORM's per-row result processing (2–3× less
    Python per row on the register's large results)."""
    return await (await db.connection()).execute(q)


def active_at(d: date):
    """Certificates in force on day d."""
    return (unindexed(Certificate.recognized_on) <= d, unindexed(Certificate.expires_on) >= d,
            or_(Certificate.revoked.is_(False), Certificate.revoked_on > d))


def recognized_in(tu: date, den: date):
    """Recognised in the period; a scan on SQLite (see queries.unindexed): a report's period covers much of it."""
    return unindexed(Certificate.recognized_on) >= tu, unindexed(Certificate.recognized_on) <= den


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "—"


async def star_tables(db, viewer, den: date) -> tuple[Table, Table]:
    """Products in force by group and by QĐ 26 sub-group (phân nhóm, where it is recorded: import column, product
    page), both from one grouped query."""
    grid: dict[tuple, dict[int, int]] = {}
    for g, sub, s, n in (await _run(db, scoped(select(Certificate.group, Certificate.subgroup, Certificate.stars,
                                                         func.count()).where(*active_at(den))
                                                  .group_by(Certificate.group, Certificate.subgroup,
                                                            Certificate.stars), viewer))).all():
        grid.setdefault((g, sub), {})[s] = n
    by_group: dict[str, dict[int, int]] = {}
    for (g, _sub), counts in grid.items():
        for s, n in counts.items():
            by_group.setdefault(g, {})[s] = by_group.get(g, {}).get(s, 0) + n
    known = [g.id for g in all_groups()]
    ids = known + sorted(set(by_group) - set(known))
    rows = [[group_name(gid), *(by_group.get(gid, {}).get(s, 0) for s in STARS), sum(by_group.get(gid, {}).values())]
            for gid in ids]
    foot = ["Tổng", *(sum(r[i + 1] for r in rows) for i in range(len(STARS))), sum(r[-1] for r in rows)]
    groups = Table("sao_nhom", f"Sản phẩm còn hiệu lực ngày {den:%d/%m/%Y} theo nhóm và hạng sao",
                   ["Nhóm sản phẩm", "3 sao", "4 sao", "5 sao", "Tổng"], rows, foot)
    rows = []
    for gid in ids:
        for sid, name, _g in [*subgroup_options(gid), (None, "(chưa ghi phân nhóm)", gid)]:
            counts = grid.get((gid, sid), {})
            if sid is None and not counts:
                continue
            rows.append([group_name(gid), name, *(counts.get(s, 0) for s in STARS), sum(counts.values())])
    foot = ["Tổng", "", *(sum(r[i + 2] for r in rows) for i in range(len(STARS))), sum(r[-1] for r in rows)]
    subs = Table("phan_nhom", f"Sản phẩm còn hiệu lực ngày {den:%d/%m/%Y} theo phân nhóm (QĐ 26/2026/QĐ-TTg)",
                 ["Nhóm", "Phân nhóm", "3 sao", "4 sao", "5 sao", "Tổng"], rows, foot,
                 "Phân nhóm ghi ở cột «Phân nhóm» của tệp nhập hoặc trên trang sản phẩm.")
    return groups, subs


async def producers_by_type(db, viewer, den: date) -> Table:
    sub = scoped(select(unindexed(Certificate.province), Certificate.producer, Certificate.producer_type)
                 .where(*active_at(den)).distinct(), viewer).subquery()
    counts = {t: n for t, n in (await _run(db, select(sub.c.producer_type, func.count())
                                                  .group_by(sub.c.producer_type))).all()}
    total = sum(counts.values())
    rows = [[label, counts.get(key, 0), _pct(counts.get(key, 0), total)] for key, label in PRODUCER_TYPES.items()]
    rows.append(["Chưa ghi loại hình", counts.get(None, 0), _pct(counts.get(None, 0), total)])
    return Table("chu_the", "Chủ thể có sản phẩm còn hiệu lực theo loại hình", ["Loại hình", "Số chủ thể", "Tỷ lệ"],
                 rows, ["Tổng", total, "100%" if total else "—"])


async def by_commune(db, viewer, den: date) -> Table:
    grid: dict[tuple, dict[int, int]] = {}
    province = unindexed(Certificate.province)         # a scan, not the index's order then every row by rowid
    for p, c, s, n in (await _run(db, scoped(select(province, Certificate.commune, Certificate.stars, func.count())
                                                .where(*active_at(den))
                                                .group_by(province, Certificate.commune, Certificate.stars),
                                                viewer))).all():
        grid.setdefault((p, c or ""), {})[s] = n
    rows = [[province_name(p), c or "(chưa ghi xã)", *(v.get(s, 0) for s in STARS), sum(v.values())]
            for (p, c), v in sorted(grid.items(), key=lambda kv: (province_name(kv[0][0]), kv[0][1]))]
    foot = ["Tổng", f"{len(rows)} xã/phường", *(sum(r[i + 2] for r in rows) for i in range(len(STARS))),
            sum(r[-1] for r in rows)]
    return Table("xa", "Sản phẩm còn hiệu lực theo xã/phường", ["Tỉnh/thành", "Xã/phường", "3 sao", "4 sao", "5 sao",
                                                                "Tổng"], rows, foot)


async def by_kind(db, viewer, tu: date, den: date) -> Table:
    grid: dict = {}
    for k, s, n in (await _run(db, scoped(select(Certificate.recognition_kind, Certificate.stars, func.count())
                                             .where(*recognized_in(tu, den))
                                             .group_by(Certificate.recognition_kind, Certificate.stars),
                                             viewer))).all():
        grid.setdefault(k, {})[s] = n
    rows = [[label, *(grid.get(k, {}).get(s, 0) for s in STARS), sum(grid.get(k, {}).values())]
            for k, label in [*RECOGNITION_KINDS.items(), (None, "Chưa ghi hình thức")]]
    foot = ["Tổng", *(sum(r[i + 1] for r in rows) for i in range(len(STARS))), sum(r[-1] for r in rows)]
    return Table("hinh_thuc", f"Công nhận từ {tu:%d/%m/%Y} đến {den:%d/%m/%Y} theo hình thức",
                 ["Hình thức", "3 sao", "4 sao", "5 sao", "Tổng"], rows, foot)


async def lapsed(db, viewer, tu: date, den: date) -> tuple[Table, Table]:
    """Certificates that expired in the period and were not recognised again; revocations in the period."""
    expired = (await _run(db, scoped(select(Certificate.id, Certificate.product, Certificate.producer,
                                              Certificate.commune, Certificate.province, Certificate.stars,
                                              Certificate.expires_on, Certificate.recognized_on)
                                       .where(Certificate.expires_on >= tu, Certificate.expires_on <= den,
                                              Certificate.revoked.is_(False))
                                       .order_by(Certificate.expires_on), viewer))).all()
    latest: dict[tuple, date] = {}
    if expired:
        names = {(r.province, r.product.lower()) for r in expired}
        for p, prod, rec in (await _run(db, scoped(select(Certificate.province, Certificate.product,
                                                            Certificate.recognized_on)
                                                     .where(unindexed(Certificate.recognized_on) >= tu),
                                                     viewer))).all():
            k = (p, prod.lower())
            if k in names and rec > latest.get(k, date.min):
                latest[k] = rec
    not_renewed = [r for r in expired if latest.get((r.province, r.product.lower()), date.min) <= r.recognized_on]
    revoked = await db.scalar(scoped(select(func.count()).select_from(Certificate).where(
        Certificate.revoked.is_(True), Certificate.revoked_on >= tu, Certificate.revoked_on <= den), viewer))
    summary = Table("het_han", f"Hết hạn và thu hồi từ {tu:%d/%m/%Y} đến {den:%d/%m/%Y}", ["Chỉ tiêu", "Số sản phẩm"], [
        ["Hết hạn trong kỳ", len(expired)],
        ["— đã được công nhận lại", len(expired) - len(not_renewed)],
        ["— chưa công nhận lại", len(not_renewed)],
        ["Bị thu hồi trong kỳ", revoked or 0]])
    listing = Table("chua_cong_nhan_lai", "Danh sách hết hạn chưa công nhận lại",
                    ["Sản phẩm", "Chủ thể", "Xã/phường", "Tỉnh/thành", "Sao", "Hết hạn"],
                    [[r.product, r.producer, r.commune or "", province_name(r.province), r.stars, r.expires_on]
                     for r in not_renewed])
    return summary, listing


async def decisions(db, viewer, tu: date, den: date) -> list[tuple]:
    """One row per recognition decision in the period, counted from the register: (province, decision no,
    date, producers, 3★, 4★, 5★). Cached with the register tables."""
    star = [func.sum(case((Certificate.stars == s, 1), else_=0)) for s in STARS]
    province = unindexed(Certificate.province)
    q = scoped(select(province, Certificate.decision_no, Certificate.recognized_on,
                      func.count(distinct(Certificate.producer)), *star)
               .where(*recognized_in(tu, den))
               .group_by(province, Certificate.decision_no, Certificate.recognized_on)
               .order_by(province, Certificate.recognized_on, Certificate.decision_no), viewer)
    return [tuple(r) for r in (await _run(db, q)).all()]


async def rounds(db, viewer, tu: date, den: date, decs: list[tuple]) -> Table:
    """Results per recognition decision, each beside the province's evaluation round it follows. The rounds are
    read live (a small table); the table is reused while both the register and the rounds are unchanged."""
    q = select(EvaluationRound.province, EvaluationRound.evaluation_date, EvaluationRound.registration_deadline,
               EvaluationRound.name)
    if not viewer.national:
        q = q.where(EvaluationRound.province.in_(sorted(viewer.provinces)))
    by_province: dict[str, list] = {}
    for r in (await _run(db, q)).all():
        by_province.setdefault(r.province, []).append(
            (r.evaluation_date or r.registration_deadline, r.name))
    for items in by_province.values():
        items.sort()
    key = ("rounds", scope_key(viewer), tu, den, tuple((p, tuple(v)) for p, v in sorted(by_province.items())))
    return await cached(db, key, lambda: _rounds_table(decs, by_province))


async def _rounds_table(decs: list[tuple], by_province: dict[str, list]) -> Table:
    days = {p: [d for d, _n in items] for p, items in by_province.items()}    # bisect on dates alone
    rows = []
    for province, number, day, producers, *stars in decs:
        i = bisect_right(days.get(province, ()), day)
        counts = [int(n or 0) for n in stars]
        rows.append([province_name(province), number, day, by_province[province][i - 1][1] if i else "—", producers,
                     *counts, sum(counts)])
    foot = ["Tổng", f"{len(rows)} quyết định", "", "", *map(sum, zip(*(r[4:] for r in rows)))] if rows else None
    return Table("dot", "Kết quả theo quyết định công nhận và đợt đánh giá",
                 ["Tỉnh/thành", "Số quyết định", "Ngày công nhận", "Đợt đánh giá gần nhất trước đó", "Chủ thể",
                  "3 sao", "4 sao", "5 sao", "Tổng công nhận"], rows, foot,
                 "Mỗi dòng là một quyết định công nhận trong kỳ, đếm đúng từ danh sách sản phẩm (cùng tỉnh, số và "
                 "ngày quyết định). Danh sách không ghi sản phẩm thuộc đợt nào: cột «Đợt đánh giá» là đợt gần nhất "
                 "của tỉnh có ngày đánh giá (hoặc hạn đăng ký) không sau ngày quyết định. Số hồ sơ dự đánh giá và "
                 "số không đạt không có trong danh sách nên không được tính.")


def target_scope(q, viewer):
    return q if viewer.national else q.where(PlanTarget.province.in_(sorted(viewer.provinces)))


async def targets(db, viewer, today: date) -> tuple[Table, list[dict]]:
    items = list(await db.scalars(target_scope(select(PlanTarget), viewer).order_by(PlanTarget.due_on, PlanTarget.id)))
    out, rows = [], []
    for t in items:
        at = min(t.due_on, today)
        q = scoped(select(func.count()).select_from(Certificate).where(*active_at(at)), viewer)
        if t.province:
            q = q.where(Certificate.province == t.province)
        if t.stars:
            q = q.where(Certificate.stars == t.stars)
        if t.group:
            q = q.where(Certificate.group == t.group)
        if t.producer_type:
            q = q.where(Certificate.producer_type == t.producer_type)
        done = await db.scalar(q) or 0
        what = " · ".join(x for x in [f"{t.stars} sao" if t.stars else "", group_name(t.group) if t.group else "",
                                      PRODUCER_TYPES.get(t.producer_type or "", "")] if x) or "mọi sản phẩm"
        ratio = round(100 * done / t.target, 1) if t.target else 0.0
        out.append(dict(t=t, what=what, done=done, ratio=ratio))
        rows.append([province_name(t.province) if t.province else "Toàn quốc", t.label, what, t.due_on, t.target, done,
                     f"{ratio}%"])
    return Table("chi_tieu", "Chỉ tiêu kế hoạch và kết quả", ["Tỉnh/thành", "Chỉ tiêu", "Loại sản phẩm", "Đến ngày",
                                                               "Chỉ tiêu (sản phẩm)", "Đạt", "Tỷ lệ"], rows), out


def _users_in_scope(viewer):
    """None (everyone) for national viewers; else the users tied to the provinces (province or a product)."""
    if viewer.national:
        return None
    return union(select(User.id).where(User.province.in_(sorted(viewer.provinces))),
                 scoped(select(Certificate.owner_user_id).where(Certificate.owner_user_id.is_not(None)), viewer))


async def activity(db, viewer, tu: date, den: date, tz) -> Table:
    from datetime import datetime, time, timedelta
    start = datetime.combine(tu, time(0), tz)
    end = datetime.combine(den + timedelta(days=1), time(0), tz)
    users = _users_in_scope(viewer)
    # people reached and FAQ questions: settled days cached per person, today live (handlers/console/activity.py)
    figures = await per_person(db, start, end, tz)
    # live: dossier answers are rewritten and deleted, and questions answered later
    in_period = FlowAnswer.flow == "dossier", FlowAnswer.updated_at >= start, FlowAnswer.updated_at < end
    dossier_q = select(func.count(distinct(FlowAnswer.user_id))).where(*in_period)
    period = OfficerQuestion.created_at >= start, OfficerQuestion.created_at < end
    asked_q = select(func.count()).select_from(OfficerQuestion).where(*period)
    answered_q = select(OfficerQuestion.created_at, OfficerQuestion.answered_at).where(
        *period, OfficerQuestion.status == "answered", OfficerQuestion.answered_at.is_not(None))
    people = None
    if users is not None:
        sub = users.subquery()
        people = set((await _run(db, select(sub.c[0]))).scalars())
        # one probe per person in scope (the unique (user_id, flow, node) index), not a scan of every answer
        dossier_q = select(func.count()).select_from(sub).where(
            exists().where(FlowAnswer.user_id == sub.c[0], *in_period))
        asked_q = asked_q.where(OfficerQuestion.province.in_(sorted(viewer.provinces)))
        answered_q = answered_q.where(OfficerQuestion.province.in_(sorted(viewer.provinces)))
    asked, fallbacks = figures.questions(people)
    questions = await db.scalar(asked_q) or 0
    answered = (await _run(db, answered_q)).all()
    waits = [(aware(q.answered_at) - aware(q.created_at)).total_seconds() / 3600 for q in answered]
    median = f"{statistics.median(waits):.1f} giờ" if waits else "—"
    rows = [["Chủ thể nhận được tin của bot (nhắc hạn, thông báo, trả lời)", figures.reached(people)],
            ["Câu hỏi hỏi đáp gửi cho bot", asked or 0],
            ["— bot chưa trả lời được (chuyển hướng)", int(fallbacks or 0)],
            ["Câu hỏi gửi cán bộ", questions],
            ["— đã trả lời", len(answered)],
            ["— thời gian trả lời (trung vị)", median],
            ["Người dùng hướng dẫn hồ sơ (/hoso)", await db.scalar(dossier_q) or 0]]
    return Table("bot", f"Hoạt động của bot từ {tu:%d/%m/%Y} đến {den:%d/%m/%Y}", ["Chỉ tiêu", "Số lượng"], rows, None,
                 "Hướng dẫn hồ sơ: người đã trả lời ít nhất một bước trong kỳ.")


async def register_tables(db, viewer, tu: date, den: date) -> list[Table]:
    """The tables computed from the register alone (cached per register version, see snapshot.py)."""
    summary, listing = await lapsed(db, viewer, tu, den)
    return [*await star_tables(db, viewer, den), await producers_by_type(db, viewer, den),
            await by_commune(db, viewer, den), await by_kind(db, viewer, tu, den), summary, listing]


async def build(db, viewer, tu: date, den: date, today: date, tz) -> dict:
    async def from_register():
        return await register_tables(db, viewer, tu, den), await decisions(db, viewer, tu, den)
    register, decs = await cached(db, ("report", scope_key(viewer), tu, den), from_register)
    target_table, target_items = await targets(db, viewer, today)
    tables = [*register, await rounds(db, viewer, tu, den, decs), target_table, await activity(db, viewer, tu, den, tz)]
    return dict(tables=tables, targets=target_items)
