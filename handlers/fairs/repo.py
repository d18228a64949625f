"""Trade fairs: validation (shared by the guided flow and the import), queries, .ics, reminders."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from core import clock
from core.dates import DateError, parse_vn_date
from core.reference import match_group, match_province
from core.templates import validation, web_text
from storage.models import Fair

FIELDS = ["name", "organiser", "place", "province", "start_date", "end_date", "registration_deadline",
          "contact", "link", "description", "target_groups"]
COLUMNS = {
    "name": ["Tên hội chợ", "Tên", "Hội chợ", "name"],
    "organiser": ["Đơn vị tổ chức", "Ban tổ chức", "Tổ chức", "organiser", "organizer"],
    "place": ["Địa điểm", "Nơi tổ chức", "place"],
    "province": ["Tỉnh", "Tỉnh/thành phố", "Tỉnh thành", "province"],
    "start_date": ["Ngày bắt đầu", "Từ ngày", "Bắt đầu", "start_date", "start"],
    "end_date": ["Ngày kết thúc", "Đến ngày", "Kết thúc", "end_date", "end"],
    "registration_deadline": ["Hạn đăng ký", "Hạn chót đăng ký", "registration_deadline", "deadline"],
    "contact": ["Liên hệ", "Đầu mối", "contact"],
    "link": ["Đường dẫn", "Link", "Website", "link"],
    "description": ["Mô tả", "Nội dung", "Ghi chú", "description"],
    "target_groups": ["Nhóm sản phẩm", "Nhóm", "Đối tượng", "target_groups"],
}
REQUIRED = {"name", "province", "start_date"}
REMIND_DAYS = (7, 1)          # before the registration deadline
NAME_MAX = 300


@dataclass
class FairData:
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by_field: dict[str, str] = field(default_factory=dict)     # first error of each field

    def fail(self, name: str, error: str) -> None:
        self.errors.append(error)
        self.by_field.setdefault(name, error)


def _date(out: FairData, raw, name: str, what: str) -> date | None:
    if raw in ("", None):
        return None
    try:
        return parse_vn_date(raw)
    except DateError as exc:
        out.fail(name, validation("dates.field", what=validation(what), error=exc))
        return None


def check_fair(raw: dict, today: date) -> FairData:
    """Validate one fair (typed or imported); Vietnamese reasons in .errors, per field in .by_field.

    The guided flow checks each answer as it comes by validating the answers so far and looking at
    the field just answered (so "end before start" is reported at the end date)."""
    out = FairData()
    name = str(raw.get("name") or "").strip()
    if not name:
        out.fail("name", validation("fairs.name_missing"))
    elif len(name) > NAME_MAX:
        out.fail("name", validation("fairs.name_long", max=NAME_MAX))
    prov_text = str(raw.get("province") or "").strip()
    m = match_province(prov_text) if prov_text else None
    if not prov_text:
        out.fail("province", validation("fairs.province_missing"))
    elif m is None:
        out.fail("province", validation("fairs.province_unknown", value=prov_text[:40]))
    elif m.note:
        out.notes.append(m.note)
    start = _date(out, raw.get("start_date"), "start_date", "fairs.start")
    if raw.get("start_date") in ("", None):
        out.fail("start_date", validation("fairs.start_missing"))
    end = _date(out, raw.get("end_date"), "end_date", "fairs.end") or start
    deadline = _date(out, raw.get("registration_deadline"), "registration_deadline", "fairs.deadline")
    if start and end and end < start:
        out.fail("end_date", validation("fairs.end_before_start"))
    if start and deadline and deadline > start:
        out.fail("registration_deadline", validation("fairs.deadline_after_start"))
    if start and end and end < today - timedelta(days=366):
        out.fail("end_date" if raw.get("end_date") else "start_date", validation("fairs.too_old"))
    link = str(raw.get("link") or "").strip()
    if link and not link.startswith(("http://", "https://")):
        out.fail("link", validation("fairs.link_scheme"))
    elif len(link) > 500:
        out.fail("link", validation("fairs.link_long"))
    groups = []
    for part in str(raw.get("target_groups") or "").replace(";", ",").split(","):
        if part.strip():
            g = match_group(part)
            if g is None:
                out.fail("target_groups", validation("fairs.group_unknown", value=part.strip()[:40]))
            elif g.id not in groups:
                groups.append(g.id)
    out.values = dict(name=name, province=m.province.id if m else None, start_date=start, end_date=end,
                      registration_deadline=deadline, link=link, target_groups=groups,
                      organiser=str(raw.get("organiser") or "").strip()[:300],
                      place=str(raw.get("place") or "").strip()[:300],
                      contact=str(raw.get("contact") or "").strip()[:300],
                      description=str(raw.get("description") or "").strip()[:3000])
    return out


async def save_fair(session, values: dict, created_by: int | None) -> tuple[Fair, str]:
    """Insert, or update the fair with the same name, start date and province. -> (fair, created|updated|unchanged)"""
    fair = await session.scalar(select(Fair).where(Fair.name == values["name"], Fair.start_date == values["start_date"],
                                                   Fair.province == values["province"]))
    if fair is None:
        fair = Fair(created_by=created_by, **values)
        session.add(fair)
        await session.flush()
        return fair, "created"
    changed = False
    for k, v in values.items():
        if getattr(fair, k) != v:
            setattr(fair, k, v)
            changed = True
    await session.flush()
    return fair, "updated" if changed else "unchanged"


async def upcoming(session, today: date, province: str | None = None, month: str | None = None,
                   limit: int = 10) -> list[Fair]:
    """Fairs not yet over, next first; optional province id and 'YYYY-MM' month filters."""
    q = select(Fair).where(Fair.end_date >= today)
    if province:
        q = q.where(Fair.province == province)
    if month:
        y, m = (int(x) for x in month.split("-"))
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        q = q.where(Fair.start_date < nxt, Fair.end_date >= first)
    return list(await session.scalars(q.order_by(Fair.start_date, Fair.id).limit(limit)))


def ics_bytes(fair: Fair, province_label: str = "") -> bytes:
    """An all-day calendar event (RFC 5545) the phone calendar can import."""
    cal = Calendar()
    cal.add("prodid", "-//OCOP bot//hoi cho//VI")
    cal.add("version", "2.0")
    ev = Event()
    ev.add("uid", f"fair-{fair.id}@ocop-bot")
    ev.add("dtstamp", clock.now())
    ev.add("summary", fair.name)
    ev.add("dtstart", fair.start_date)
    ev.add("dtend", fair.end_date + timedelta(days=1))         # all-day events: end is exclusive
    where = ", ".join(x for x in (fair.place, province_label) if x)
    if where:
        ev.add("location", where)
    lines = [x for x in (fair.organiser and web_text("fairs.ics_organiser", organiser=fair.organiser),
                         fair.registration_deadline
                         and web_text("fairs.ics_deadline", date=f"{fair.registration_deadline:%d/%m/%Y}"),
                         fair.contact and web_text("fairs.ics_contact", contact=fair.contact), fair.description) if x]
    if lines:
        ev.add("description", "\n".join(lines))
    if fair.link:
        ev.add("url", fair.link)
    cal.add_component(ev)
    return cal.to_ical()


def reminder_offset(deadline: date, today: date) -> int | None:
    """The reminder due today (smallest offset already reached), or None."""
    if deadline < today:
        return None
    reached = [d for d in REMIND_DAYS if deadline - timedelta(days=d) <= today]
    return min(reached) if reached else None
