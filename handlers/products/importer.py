"""Officer import of a province's OCOP register (CSV / XLSX) into certificates.

Every row is validated; the report lists each bad row with its line number and reason. Nothing is
written when any row is invalid unless skip_invalid; the upsert key is (province, decision_no,
product), so importing the same file again changes nothing. Used by the CLI and by the bot.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, tuple_

from handlers.products.claims import normalise_phone
from core.dates import DateError, expiry_date, parse_past_date
from core.faq.products import group_of
from core.reference import SubGroup, all_subgroups, match_province, province_name
from core.text import fold
from storage.models import Certificate, utcnow
from core.tabular import TableError, read_table
from core.templates import validation

EARLIEST = date(2018, 1, 1)      # the OCOP programme started with QĐ 490/QĐ-TTg (2018)

COLUMNS = {
    "product": ["Tên sản phẩm", "Sản phẩm", "Tên SP", "Sản phẩm OCOP", "Tên sản phẩm OCOP"],
    "producer": ["Chủ thể", "Tên chủ thể", "Chủ thể sản xuất", "Chủ thể OCOP", "Cơ sở sản xuất",
                 "Đơn vị sản xuất", "Tổ chức/cá nhân"],
    "phone": ["Số điện thoại", "Điện thoại", "SĐT", "SĐT liên hệ", "Điện thoại liên hệ", "Di động"],
    "commune": ["Xã/phường", "Xã, phường", "Xã/phường/đặc khu", "Xã", "Phường", "Xã phường"],
    "province": ["Tỉnh/thành", "Tỉnh/thành phố", "Tỉnh, thành phố", "Tỉnh", "Tỉnh/TP", "Thành phố"],
    "group": ["Nhóm", "Nhóm sản phẩm", "Nhóm SP", "Nhóm ngành"],
    "stars": ["Số sao", "Hạng sao", "Xếp hạng", "Hạng", "Sao", "Kết quả xếp hạng", "Số sao OCOP"],
    "decision_no": ["Số quyết định", "Số QĐ", "Quyết định", "Quyết định công nhận", "Số quyết định công nhận"],
    "recognized_on": ["Ngày công nhận", "Ngày quyết định", "Ngày QĐ", "Ngày cấp", "Ngày ký quyết định"],
    # optional, for the officers' report (files without them keep working)
    "producer_type": ["Loại hình chủ thể", "Loại hình", "Loại chủ thể", "Loại hình tổ chức"],
    "recognition_kind": ["Hình thức", "Hình thức công nhận", "Hình thức đánh giá", "Loại công nhận"],
    "revoked_on": ["Ngày thu hồi", "Thu hồi ngày", "Ngày thu hồi giấy chứng nhận"],
    "subgroup": ["Phân nhóm", "Phân nhóm sản phẩm", "Nhóm con", "Phân nhóm QĐ 26"],
}
REQUIRED = {"product", "province", "group", "stars", "decision_no", "recognized_on"}
FIELDS = ("producer", "phone", "commune", "group", "stars", "authority", "recognized_on", "expires_on")
OPTIONAL_FIELDS = ("producer_type", "recognition_kind", "revoked_on", "revoked", "subgroup")   # updated only when given

PRODUCER_TYPE_WORDS = [("tht", ("to hop tac", "tht")), ("htx", ("hop tac xa", "htx", "lien hiep")),
                       ("dn", ("doanh nghiep", "cong ty", "dn", "tnhh", "co phan", "dntn")),
                       ("hkd", ("ho kinh doanh", "hkd", "ho gia dinh", "ho san xuat", "ca nhan", "ho"))]
KIND_WORDS = [("upgrade", ("nang hang", "nang sao", "nang cap")),
              ("reeval", ("danh gia lai", "tai danh gia", "cong nhan lai", "gia han", "lai")),
              ("new", ("moi", "lan dau", "cong nhan moi", "dau tien"))]


def _classify(value, table) -> str | None:
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(value or ""))).split())
    for key, words in table:
        if any(t == w or t.startswith(w + " ") or f" {w} " in f" {t} " for w in words):
            return key
    return None


@dataclass
class CertRow:
    line: int
    product: str
    producer: str
    phone: str | None
    commune: str | None
    province: str
    group: str
    stars: int
    decision_no: str
    authority: str
    recognized_on: date
    expires_on: date
    producer_type: str | None = None
    recognition_kind: str | None = None
    revoked_on: date | None = None
    subgroup: str | None = None

    @property
    def revoked(self) -> bool | None:
        return True if self.revoked_on else None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.province, self.decision_no, self.product)


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[TableError] = field(default_factory=list)    # file errors (line 0) and bad rows
    notes: list[str] = field(default_factory=list)             # e.g. old province names mapped
    written: bool = False
    dry_run: bool = False

    @property
    def invalid(self) -> int:
        return len({e.line for e in self.errors if e.line})

    @property
    def file_error(self) -> bool:
        return any(e.line == 0 for e in self.errors) or (self.errors and not self.total)


def match_subgroup(value) -> SubGroup | None:
    """A QĐ 26 sub-group (content/data/subgroups.yml) from its id, name, score-sheet title or sheet number."""
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(value or ""))).split())
    if not t:
        return None
    for sub in all_subgroups():
        names = {sub.id.replace("_", " "), fold(sub.name), fold(sub.sheet_title)}
        if t in {" ".join(re.sub(r"[^a-z0-9]+", " ", n).split()) for n in names} or t in (
                str(sub.sheet), f"phieu {sub.sheet}", f"bang {sub.sheet}"):
            return sub
    return None


def _text(value, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def parse_stars(value) -> int | None:
    t = str(value or "").strip()
    if t and set(t) <= {"★", "☆", "*", " "}:
        n = t.count("★") + t.count("*")
    else:
        m = re.fullmatch(r"(\d)(?:[.,]0+)?\s*(?:\*|★|sao)?", fold(t))
        n = int(m.group(1)) if m else None
    return n if n in (3, 4, 5) else None


def validate_row(row, today: date, notes: list[str]) -> tuple[CertRow | None, list[tuple[str, str]]]:
    """One spreadsheet row -> CertRow, or the reasons it is invalid: (column, Vietnamese message)."""
    v, errs = row.values, []
    product = _text(v.get("product"), 200)
    if not product:
        errs.append(("product", validation("products.product_missing")))
    decision_no = _text(v.get("decision_no"), 64)
    if not decision_no:
        errs.append(("decision_no", validation("products.decision_missing")))
    pm = match_province(str(v.get("province") or "")) if v.get("province") else None
    if pm is None:
        errs.append(("province", validation("products.province_unknown", value=_text(v.get("province"), 40))
                     if v.get("province") else validation("products.province_missing")))
    group = group_of(str(v.get("group") or ""))        # a group, or a product name ("Nước mắm" -> Thực phẩm)
    if group is None:
        errs.append(("group", validation("products.group_unknown", value=_text(v.get("group"), 40))))
    stars = parse_stars(v.get("stars"))
    if stars is None:
        errs.append(("stars", validation("products.stars_bad", value=_text(v.get("stars"), 10))))
    phone = None
    if v.get("phone"):
        phone = normalise_phone(str(v.get("phone")))
        if phone is None:
            errs.append(("phone", validation("products.phone_bad", value=_text(v.get("phone"), 20))))
    recognized = None
    try:
        recognized = parse_past_date(v.get("recognized_on"), today, EARLIEST)
    except DateError as exc:
        errs.append(("recognized_on", validation("products.recognized_on", error=exc)))
    ptype = _classify(v.get("producer_type"), PRODUCER_TYPE_WORDS) if v.get("producer_type") else None
    if v.get("producer_type") and ptype is None:
        errs.append(("producer_type", validation("products.producer_type", value=_text(v.get("producer_type"), 30))))
    kind = _classify(v.get("recognition_kind"), KIND_WORDS) if v.get("recognition_kind") else None
    if v.get("recognition_kind") and kind is None:
        errs.append(("recognition_kind", validation("products.recognition_kind",
                                                    value=_text(v.get("recognition_kind"), 30))))
    sub = match_subgroup(v.get("subgroup")) if v.get("subgroup") else None
    if v.get("subgroup") and sub is None:
        errs.append(("subgroup", validation("products.subgroup_unknown", value=_text(v.get("subgroup"), 40))))
    elif sub and group and sub.group != group.id:
        errs.append(("subgroup", validation("products.subgroup_other_group", value=sub.name[:40], group=group.name)))
    revoked = None
    if v.get("revoked_on"):
        try:
            revoked = parse_past_date(v.get("revoked_on"), today, EARLIEST)
            if recognized and revoked < recognized:
                errs.append(("revoked_on", validation("products.revoked_before")))
        except DateError as exc:
            errs.append(("revoked_on", validation("products.revoked_on", error=exc)))
    if errs:
        return None, errs
    if pm.note:
        notes.append(validation("tables.line", line=row.line, message=f"{pm.note}."))
    return CertRow(row.line, product, _text(v.get("producer"), 200), phone,
                   _text(v.get("commune"), 100) or None, pm.province.id, group.id, stars, decision_no,
                   "ministry" if stars == 5 else "province", recognized, expiry_date(recognized),
                   ptype, kind, revoked, sub.id if sub else None), []


def validate(rows, today: date, allowed_provinces: set[str] | None = None):
    """-> (good rows, errors, notes). Duplicate rows in the file are errors on the later line."""
    good, errors, notes, seen = [], [], [], {}
    for row in rows:
        cert, errs = validate_row(row, today, notes)
        if cert is not None:
            fkey = (cert.province, fold(cert.decision_no), fold(cert.product))
            if fkey in seen:
                errs = [("product", validation("products.duplicate_line", line=seen[fkey]))]
            elif allowed_provinces is not None and cert.province not in allowed_provinces:
                errs = [("province", validation("products.outside_scope", province=province_name(cert.province)))]
            else:
                seen[fkey] = row.line
                good.append(cert)
        errors.extend(TableError(row.line, e, column) for column, e in errs)
    return good, errors, notes


async def _existing(session, certs: list[CertRow]) -> dict[tuple, Certificate]:
    found = {}
    keys = [c.key for c in certs]
    for i in range(0, len(keys), 300):
        chunk = keys[i:i + 300]
        rows = await session.scalars(select(Certificate).where(
            tuple_(Certificate.province, Certificate.decision_no, Certificate.product).in_(chunk)))
        found.update({(c.province, c.decision_no, c.product): c for c in rows})
    return found


async def upsert(session, certs: list[CertRow], report: ImportReport, write: bool) -> None:
    existing = await _existing(session, certs)
    now = utcnow()
    for c in certs:
        cur = existing.get(c.key)
        if cur is None:
            report.created += 1
            if write:
                session.add(Certificate(product=c.product, producer=c.producer, phone=c.phone,
                                        commune=c.commune, province=c.province, group=c.group, stars=c.stars,
                                        decision_no=c.decision_no, authority=c.authority,
                                        recognized_on=c.recognized_on, expires_on=c.expires_on,
                                        producer_type=c.producer_type, recognition_kind=c.recognition_kind,
                                        revoked=bool(c.revoked_on), revoked_on=c.revoked_on, subgroup=c.subgroup,
                                        source="import", created_at=now, updated_at=now))
            continue
        changes = {f: getattr(c, f) for f in FIELDS if getattr(cur, f) != getattr(c, f)}
        changes.update({f: getattr(c, f) for f in OPTIONAL_FIELDS
                        if getattr(c, f) is not None and getattr(cur, f) != getattr(c, f)})
        if not changes:
            report.unchanged += 1
            continue
        report.updated += 1
        if write:
            for f, value in changes.items():
                setattr(cur, f, value)
            cur.updated_at = now
    if write:
        await session.flush()


async def import_certificates(session, source, filename: str, *, today: date, skip_invalid: bool = False,
                              dry_run: bool = False, allowed_provinces: set[str] | None = None) -> ImportReport:
    """Validate and upsert; the caller commits (or rolls back) the session."""
    report = ImportReport(dry_run=dry_run)
    rows, file_errors = read_table(source, filename, COLUMNS, REQUIRED)
    if file_errors:
        report.errors = file_errors
        return report
    report.total = len(rows)
    good, errors, notes = validate(rows, today, allowed_provinces)
    report.errors, report.notes = errors, notes
    write = not dry_run and (skip_invalid or not errors)
    await upsert(session, good, report, write)
    report.written = write and bool(report.created or report.updated)
    return report


def allowed_from_scope(scope) -> set[str] | None:
    """The province ids an officer's core.permissions.Scope may import; None = all."""
    return None if scope.national else set(scope.provinces)
