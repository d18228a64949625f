"""«Hội chợ» /quantri/hoi-cho: list, create, edit, delete and import trade fairs (the `fairs` rows /hoicho
reads). The pages are core/web/records.py; this module gives the fields and the check, `check_fair`, the
same function /themhoicho and `bot.py import-fairs` use."""
from __future__ import annotations

from sqlalchemy import select

from core.templates import validation, web_text, web_texts
from core.web.records import Checked, Records, register
from handlers.fairs.repo import COLUMNS, REQUIRED, check_fair, save_fair
from storage.models import Fair

FORM = ["name", "province", "place", "start_date", "end_date", "registration_deadline", "organiser",
        "contact", "link", "description"]
LABELS = web_texts("fairs.field")
DATES = {"start_date", "end_date", "registration_deadline"}


def check(raw: dict, today) -> Checked:
    out = check_fair(raw, today)
    return Checked(out.values, dict(out.by_field), out.notes)


async def find(db, v: dict):
    return await db.scalar(select(Fair).where(Fair.name == v["name"], Fair.start_date == v["start_date"],
                                              Fair.province == v["province"]))


async def create(db, v: dict, uid: int) -> Fair:
    return (await save_fair(db, v, uid))[0]


def update(fair: Fair, v: dict) -> None:
    for k, value in v.items():
        if k != "target_groups" or value:          # the form has no groups field: keep the imported ones
            setattr(fair, k, value)


def to_form(fair: Fair) -> dict:
    out = {k: getattr(fair, k) or "" for k in FORM}
    for k in DATES:
        out[k] = out[k].strftime("%d/%m/%Y") if out[k] else ""
    return out


FAIRS = Records(
    slug="hoi-cho", title=web_text("fairs.title"), noun=web_text("fairs.noun"), model=Fair, fields=FORM, labels=LABELS,
    list_template="web/fairs", audit_prefix="fair", check=check, province_of=lambda v: v["province"],
    find=find, create=create, update=update, to_form=to_form, columns=COLUMNS, required=REQUIRED,
    key=lambda v: (v["name"], v["start_date"], v["province"]), order="start_date",
    clash=validation("fairs.duplicate"),
    outside_scope=lambda province: validation("fairs.outside_scope", province=province), dates=DATES, long_text={"description"})


def routes(r) -> None:
    register(r, FAIRS)
