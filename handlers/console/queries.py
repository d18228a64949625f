"""The register's filters and the officer's scope, shared by the overview, register, exports and report.

Every query on certificates goes through `scoped()`: a provincial officer's rows are only their
provinces' rows, whatever the URL says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from core.dates import SOON_DAYS, add_months
from core.reference import all_groups, all_provinces, all_subgroups, group_by_id, province_id_of, subgroup_by_id
from core.text import fold
from storage.models import Certificate, Identity

STATUS = {"con-han": "còn hạn", "sap-het-han": "sắp hết hạn", "het-han": "hết hạn", "thu-hoi": "thu hồi"}
STATUS_OF_VIEW = {"valid": "con-han", "soon": "sap-het-han", "expired": "het-han", "revoked": "thu-hoi"}
PRODUCER_TYPES = {"htx": "Hợp tác xã", "tht": "Tổ hợp tác", "dn": "Doanh nghiệp", "hkd": "Hộ kinh doanh"}
RECOGNITION_KINDS = {"new": "Công nhận mới", "reeval": "Đánh giá lại", "upgrade": "Nâng hạng"}
PAGE_SIZE = 50


class FilterError(ValueError):
    """A malformed filter: shown to the officer as a clear message, nothing else happens."""


class unindexed(GenericFunction):
    """The column itself, which SQLite's planner must not search an index for (unary +, a no-op): «in force on
    day d» matches most of the register, and SQLite, without range statistics, searched ix_cert_recognized /
    ix_cert_expires then read every row by rowid: 50-85 ms for 20,000 certificates instead of a 3-15 ms scan."""
    name = "unindexed"
    inherit_cache = True

    def __init__(self, column, **kw):
        super().__init__(column, type_=column.type, **kw)


@compiles(unindexed)
def _unindexed(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


def scoped(q, viewer):
    if viewer.national:
        return q
    return q.where(Certificate.province.in_(sorted(viewer.provinces)) if viewer.provinces else false())


def group_name(gid: str | None) -> str:
    g = group_by_id(gid or "")
    return g.name if g else (gid or "")


def cert_status(c, today: date) -> str:
    if c.revoked:
        return "revoked"
    left = (c.expires_on - today).days
    return "expired" if left < 0 else "soon" if left <= SOON_DAYS else "valid"


@dataclass
class Filters:
    tinh: str = ""      # province as linked (official name; compared by its id); others are checked
    xa: str = ""        # commune
    nhom: str = ""      # group id
    pn: str = ""        # QĐ 26 sub-group id (phân nhóm); "-" = not recorded
    sao: int = 0
    tt: str = ""        # status
    nhan: str = ""      # claimed: co | chua
    lienhe: str = ""    # reachable: co | khong
    han: int = 0        # expires within this many days (30 / 90 / 180)
    thang: str = ""     # expires in this month YYYY-MM
    q: str = ""         # search, diacritics optional
    trang: int = 1
    params: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any((self.tinh, self.xa, self.nhom, self.pn, self.sao, self.tt, self.nhan, self.lienhe, self.han,
                    self.thang, self.q))


def _int(value: str, allowed, what: str) -> int:
    if not value:
        return 0
    if not value.isdigit() or int(value) not in allowed:
        raise FilterError(f"Giá trị «{value[:20]}» của {what} không hợp lệ.")
    return int(value)


def parse_filters(query, viewer) -> Filters:
    """Read and check the register filters of a URL (raises FilterError with a Vietnamese message)."""
    get = lambda k: " ".join(str(query.get(k, "")).split())[:100]   # noqa: E731
    f = Filters()
    f.params = {k: get(k) for k in ("tinh", "xa", "nhom", "pn", "sao", "tt", "nhan", "lienhe", "han", "thang", "q")
                if get(k)}
    if get("tinh"):
        names = {p.name for p in all_provinces()}
        if get("tinh") not in names:
            raise FilterError(f"Không có tỉnh/thành «{get('tinh')[:40]}».")
        if not viewer.allows(province_id_of(get("tinh"))):
            raise PermissionError(get("tinh"))
        f.tinh = get("tinh")
    f.xa = get("xa")
    if get("nhom"):
        if group_by_id(get("nhom")) is None:
            raise FilterError("Nhóm sản phẩm không hợp lệ.")
        f.nhom = get("nhom")
    if get("pn"):
        sub = subgroup_by_id(get("pn")) if get("pn") != "-" else None
        if get("pn") != "-" and (sub is None or (f.nhom and sub.group != f.nhom)):
            raise FilterError("Phân nhóm sản phẩm không hợp lệ.")
        f.pn = get("pn")
    f.sao = _int(get("sao"), (3, 4, 5), "số sao")
    for key, allowed in (("tt", STATUS), ("nhan", ("co", "chua")), ("lienhe", ("co", "khong"))):
        v = get(key)
        if v and v not in allowed:
            raise FilterError(f"Bộ lọc «{key}={v[:20]}» không hợp lệ.")
        setattr(f, key, v)
    f.han = _int(get("han"), (30, 90, 180, 365), "hạn còn lại")
    if get("thang"):
        if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", get("thang")):
            raise FilterError("Tháng phải có dạng NNNN-TT, ví dụ 2027-03.")
        f.thang = get("thang")
    f.q = get("q")
    page = str(query.get("trang", "") or "1")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise FilterError("Số trang không hợp lệ.")
    f.trang = int(page)
    return f


def reachable_clause():
    return exists().where(Identity.user_id == Certificate.owner_user_id, Identity.active.is_(True))


def apply_filters(q, f: Filters, today: date):
    if f.tinh:
        q = q.where(Certificate.province == province_id_of(f.tinh))
    if f.xa:
        q = q.where(Certificate.commune == f.xa) if f.xa != "-" else q.where(
            or_(Certificate.commune.is_(None), Certificate.commune == ""))
    if f.nhom:
        q = q.where(Certificate.group == f.nhom)
    if f.pn:
        q = q.where(Certificate.subgroup.is_(None) if f.pn == "-" else Certificate.subgroup == f.pn)
    if f.sao:
        q = q.where(Certificate.stars == f.sao)
    live = Certificate.revoked.is_(False)
    soon_end = today + timedelta(days=SOON_DAYS)
    if f.tt == "con-han":
        q = q.where(live, Certificate.expires_on > soon_end)
    elif f.tt == "sap-het-han":
        q = q.where(live, Certificate.expires_on >= today, Certificate.expires_on <= soon_end)
    elif f.tt == "het-han":
        q = q.where(live, Certificate.expires_on < today)
    elif f.tt == "thu-hoi":
        q = q.where(Certificate.revoked.is_(True))
    if f.nhan == "co":
        q = q.where(Certificate.owner_user_id.is_not(None))
    elif f.nhan == "chua":
        q = q.where(Certificate.owner_user_id.is_(None))
    if f.lienhe == "co":
        q = q.where(reachable_clause())
    elif f.lienhe == "khong":
        q = q.where(~reachable_clause())
    if f.han:
        q = q.where(live, Certificate.expires_on >= today, Certificate.expires_on <= today + timedelta(days=f.han))
    if f.thang:
        y, m = map(int, f.thang.split("-"))
        start = date(y, m, 1)
        q = q.where(Certificate.expires_on >= start, Certificate.expires_on < add_months(start, 1))
    if f.q:
        for word in fold(f.q).split()[:6]:
            q = q.where(Certificate.search_key.contains(word, autoescape=True))
    return q


def register_query(viewer, f: Filters, today: date):
    return apply_filters(scoped(select(Certificate), viewer), f, today)


def group_options():
    return [(g.id, g.name) for g in all_groups()]


def subgroup_name(sid: str | None) -> str:
    sub = subgroup_by_id(sid or "")
    return sub.name if sub else ""


def subgroup_options(group: str | None = None) -> list[tuple[str, str, str]]:
    """(id, name, group id) of the QĐ 26 sub-groups (content/data/subgroups.yml), in annex order."""
    return [(s.id, s.name, s.group) for s in all_subgroups() if group is None or s.group == group]


def province_options(viewer):
    return [p.name for p in all_provinces() if viewer.allows(p.id)]


__all__ = ["and_", "Filters", "FilterError", "parse_filters", "register_query", "scoped", "apply_filters"]
