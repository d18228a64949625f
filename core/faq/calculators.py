"""Answers computed from data, not looked up (the "calculator" idea of GOV.UK Smart Answers).

A question is tried against each calculator before the FAQ entries:
- product -> group: "lạp xưởng thuộc nhóm nào", "homestay có làm OCOP được không" (core/faq/products.py);
- score -> star band: "chấm 72 điểm được mấy sao", "vì sao 92 điểm chưa 5 sao" (core/faq/stars.py);
- date -> expiry and re-evaluation window: "công nhận 5/3/2023 khi nào hết hạn" (core/faq/expiry.py);
- old name -> current province: "BRVT giờ thuộc tỉnh nào" (core/faq/places.py);
- live figures from the register: "tỉnh tôi có bao nhiêu sản phẩm OCOP", "sản phẩm của tôi còn hạn
  không" (computed by handlers/faq.py from the database; without one a pointer to /sanpham).
When to use which is data: content/vi/faq/_calculators.yml. Texts: content/vi/templates/faq/calc_*.j2.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from core import clock
from core.dates import DateError, parse_vn_date
from core.faq import expiry, places, products, stars
from core.faq.content import FAQ_DIR
from core.reference import all_groups, province_label
from core.text import fold

CALC_FILE = "_calculators.yml"
PRODUCT_BASIS = "QĐ 26/2026/QĐ-TTg ngày 22/5/2026, Điều 2.2, Điều 2.3 và Phụ lục I"
PROVINCE_BASIS = "Nghị quyết sắp xếp đơn vị hành chính cấp tỉnh năm 2025 (34 tỉnh, thành phố từ 01/7/2025)"
LIVE_BASIS = "Danh sách sản phẩm OCOP do cán bộ nhập vào bot; QĐ 26/2026/QĐ-TTg, Điều 4.3 (36 tháng)"
TEA_COFFEE = frozenset({"che", "tra_thuc_vat", "ca_phe_ca_cao"})
IDS = ("calc_product", "calc_stars", "calc_expiry", "calc_province", "calc_live_count", "calc_live_mine")

_FULL_DATE = re.compile(r"(?<![\d/])(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})(?![\d/])")
_MONTH_YEAR = re.compile(r"(?<![\d/])(?:thang\s*)?(\d{1,2})\s*(?:/|-|\s*nam\s*)\s*(20\d{2})(?![\d/])")
_YEAR = re.compile(r"(?:nam|tu|hoi|vao)\s+(20[12]\d)\b")
_POINTS = re.compile(r"(?<![\d/.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*(?:diem|d)\b")
_PART = re.compile(r"\bphan\s+[abc]\b")
_RECOGNISED = re.compile(r"\b(?:cong nhan|chung nhan|gcn|giay|cap|duoc|dc|dat|quyet dinh|qd|sao)\b")


@dataclass
class CalcResult:
    kind: str                       # product | product_unknown | stars | expiry | province | live_count | live_mine
    faq_id: str                     # calc_<kind>: logged in faq_log, used by the 👍/👎 buttons
    template: str                   # content/vi/templates/<template>.j2
    basis: str
    ctx: dict = field(default_factory=dict)
    direct: bool = True             # False: not an answer (unknown product -> the 6 groups + an officer)


@dataclass(frozen=True)
class CalcData:
    product_group_intent: tuple[str, ...] = ()
    product_ocop_intent: tuple[str, ...] = ()
    product_other_topics: tuple[str, ...] = ()
    score_intent: tuple[str, ...] = ()
    date_intent: tuple[str, ...] = ()
    date_expiry_given: tuple[str, ...] = ()
    province_intent: tuple[str, ...] = ()
    live_count_intent: tuple[str, ...] = ()
    live_count_local: tuple[str, ...] = ()
    live_mine_intent: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def load_calc_data(directory: Path = FAQ_DIR) -> CalcData:
    path = directory / CALC_FILE
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return CalcData(**{k: tuple(fold(str(p)) for p in raw.get(k) or []) for k in CalcData.__dataclass_fields__})


@lru_cache(maxsize=64)
def _padded(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f" {p} " for p in phrases)


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    return any(map(text.__contains__, _padded(phrases)))


class Calculators:
    def __init__(self, expand=None, data: CalcData | None = None, tz: ZoneInfo | None = None):
        """`expand(text) -> list[str]`: the FAQ engine's normalised words (typos fixed, gcn/hs/dk…
        expanded), used for the intent phrases; product, place, number and date reading use the raw text."""
        self.data = data or load_calc_data()
        self.expand = expand or (lambda t: fold(t).split())
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")

    def detect(self, question: str) -> CalcResult | None:
        folded = fold(question)
        words = f" {' '.join(self.expand(question))} "
        for calc in (self._live, self._expiry, self._stars, self._province, self._product):
            hit = calc(question, folded, words)
            if hit is not None:
                return hit
        return None

    # --- product -> group ------------------------------------------------------------------
    def _product(self, question: str, folded: str, words: str) -> CalcResult | None:
        d = self.data
        group_q = _has(words, d.product_group_intent)
        ocop_q = _has(words, d.product_ocop_intent) and _has(words, ("khong", "duoc", "chua"))
        if not (group_q or ocop_q):
            return None
        if _has(words, d.product_other_topics) and not group_q:
            return None
        hits = products.lookup(question)
        seen, found = set(), []
        for h in hits:
            if h.product.name not in seen:
                seen.add(h.product.name)
                found.append(h)
        if not found:
            if group_q and self._names_something(folded):
                return CalcResult("product_unknown", "calc_product", "faq/calc_product_unknown", PRODUCT_BASIS,
                                  {"groups": [g.name for g in all_groups()]}, direct=False)
            return None
        subs = products.subgroups()
        items = []
        for h in found[:4]:
            p = h.product
            s = subs[p.subgroup]
            alt = subs[p.alt] if p.alt else None
            items.append({"typed": _shown(h.typed, p), "group": products.group_name(p.group), "sub": s,
                          "alt": alt, "alt_group": products.group_name(alt.group) if alt else "",
                          "tea_coffee": p.subgroup in TEA_COFFEE})
        return CalcResult("product", "calc_product", "faq/calc_product", PRODUCT_BASIS,
                          {"items": items, "can_join": ocop_q,
                           "tea_coffee": any(i["tea_coffee"] for i in items)})

    @staticmethod
    def _names_something(folded: str) -> bool:
        """'X thuộc nhóm nào' with some X that is not just 'sản phẩm OCOP' / 'nhóm'."""
        parts = re.split(r"\b(?:thuoc|la|xep vao|vao|o|dk|dang ky)\s+(?:nhom|loai|phan nhom)\b", folded)
        if len(parts) < 2:
            return False
        rest = set(parts[0].split()) - set("san pham sp ocop cua em toi minh nha cho hoi ad oi thi la cai nay "
                                           "co may bao nhieu cac nhung nhom loai phan gom trong chuong trinh "
                                           "moi xa mot".split())
        return len(rest) >= 1 and len(parts[0].split()) <= 8

    # --- score -> stars --------------------------------------------------------------------
    def _stars(self, question: str, folded: str, words: str) -> CalcResult | None:
        if _PART.search(folded) or not _has(words, self.data.score_intent):
            return None
        m = _POINTS.search(folded)
        if not m:
            return None
        points = float(m.group(1).replace(",", "."))
        if points > stars.MAX_POINTS:
            return None
        b = stars.band(points)
        national = bool(re.search(r"\btrung uong\b|\bbo nong nghiep\b|\bcap quoc gia\b", folded))
        return CalcResult("stars", "calc_stars", "faq/calc_stars", stars.BASIS,
                          {"points": _num(points), "band": b, "national": national})

    # --- date -> expiry ---------------------------------------------------------------------
    def _expiry(self, question: str, folded: str, words: str) -> CalcResult | None:
        if not _has(words, self.data.date_intent):
            return None
        today = clock.today(self.tz)
        m = _FULL_DATE.search(folded)
        if m:
            try:
                d = parse_vn_date(m.group(0).replace(" ", ""))
            except DateError:
                return None
            if folded[:m.start()].split()[-1:] in (["truoc"], ["sau"], ["tu"], ["ke"]):
                return None             # "GCN cấp trước 22/5/2026 còn giá trị không": a cut-off, not its date
            given_expiry = self._is_expiry_date(folded, m.start())
            if not given_expiry and not _RECOGNISED.search(folded):
                return None             # "hạn nộp đợt 1 là 30/6/2026": a date, but not of a certificate
            w = expiry.from_expiry(d) if given_expiry else expiry.from_recognition(d)
            return CalcResult("expiry", "calc_expiry", "faq/calc_expiry", expiry.BASIS,
                              {"w": w, "given_expiry": given_expiry, "status": w.status(today), "today": today,
                               "days_left": (w.expires_on - today).days})
        m = _MONTH_YEAR.search(folded)
        year = month = None
        if m and 1 <= int(m.group(1)) <= 12:
            month, year = int(m.group(1)), int(m.group(2))
        elif (y := _YEAR.search(folded)) and re.search(r"\bhet (?:han|hieu luc)\b", folded) and \
                re.search(r"\bcong nhan|\bcap\b|\bdat\b|\bduoc\b", folded):
            year = int(y.group(1))
        if year is None:
            return None
        if month:
            ey, em = expiry.expiry_month(year, month)
            return CalcResult("expiry", "calc_expiry", "faq/calc_expiry_month", expiry.BASIS,
                              {"month": month, "year": year, "exp_month": em, "exp_year": ey,
                               "given_expiry": False})
        return CalcResult("expiry", "calc_expiry", "faq/calc_expiry_month", expiry.BASIS,
                          {"month": None, "year": year, "exp_year": year + 3, "given_expiry": False})

    def _is_expiry_date(self, folded: str, pos: int) -> bool:
        before = f" {' '.join(folded[:pos].split()[-3:])} "
        return _has(before, self.data.date_expiry_given) or before.rstrip().endswith(("het han", "het han ngay",
                                                                                     "het han vao ngay"))

    # --- old name -> current province ----------------------------------------------------------
    def _province(self, question: str, folded: str, words: str) -> CalcResult | None:
        place = places.find(question)
        if place is None:
            return None
        ws = [w for w in re.split(r"[^a-z0-9]+", folded) if w]
        alone = len(ws) <= place.end - place.start + 2 and not _has(f" {folded} ", ("ocop",))
        if not (_has(words, self.data.province_intent) or _has(f" {folded} ", self.data.province_intent) or alone):
            return None
        if place.kind == "current" and not (_has(f" {folded} ", ("sap nhap", "nhap voi", "gop voi", "doi ten",
                                                                   "ten moi", "tinh moi", "gom nhung"))):
            return None
        p = place.province
        others = [o for o in p.formed_from if fold(o) != fold(place.typed)]
        return CalcResult("province", "calc_province", "faq/calc_province", PROVINCE_BASIS,
                          {"place": place, "label": province_label(p), "others": others,
                           "formed_from": list(p.formed_from),
                           "asks_ocop": _has(f" {folded} ", ("ocop", "cham", "danh gia", "ho so", "hs", "nop"))})

    # --- live figures (the database) --------------------------------------------------------
    def _live(self, question: str, folded: str, words: str) -> CalcResult | None:
        d = self.data
        if _has(words, d.live_mine_intent) or _has(f" {folded} ", d.live_mine_intent):
            return CalcResult("live_mine", "calc_live_mine", "faq/calc_live_mine", LIVE_BASIS, {})
        if (_has(words, d.live_count_intent) or _has(f" {folded} ", d.live_count_intent)) and \
                not _has(f" {folded} ", ("ca nuoc", "toan quoc", "viet nam")):
            place = places.find(question)
            if place is None and not _has(f" {folded} ", d.live_count_local):
                return None
            return CalcResult("live_count", "calc_live_count", "faq/calc_live_count", LIVE_BASIS,
                              {"province": place.province if place else None})
        return None


def _shown(typed: str, product: products.Product) -> str:
    """What the producer typed, with diacritics from the gazetteer when typed without them."""
    for name in product.names:
        if fold(name) == fold(typed):
            return name[0].upper() + name[1:]
    return product.name


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}".replace(".", ",")

