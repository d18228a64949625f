"""«Đợt đánh giá» /quantri/dot-danh-gia: list, create, edit, delete and import evaluation rounds (the rows
/dotdanhgia and the round reminders read). The pages are core/web/records.py; the check is `check_round`,
the one /themdot uses (it stops at the first wrong field, which is named)."""
from __future__ import annotations

from datetime import date

from core.dates import DateError
from core.templates import validation, web_text, web_texts
from core.web.records import Checked, Records, register
from handlers.rounds.repo import RoundError, RoundInput, check_round, create_round, find_round
from storage.models import EvaluationRound

FORM = ["province", "name", "deadline", "evaluation", "where"]
LABELS = web_texts("rounds.field")
COLUMNS = {"province": ["Tỉnh", "Tỉnh/thành phố", "Tỉnh thành", "province"],
           "name": ["Tên đợt", "Đợt", "Tên", "name"],
           "deadline": ["Hạn đăng ký", "Hạn nộp hồ sơ", "Hạn", "deadline"],
           "evaluation": ["Ngày đánh giá", "Đánh giá", "evaluation"],
           "where": ["Nơi nộp hồ sơ", "Nơi nộp", "where"]}
REQUIRED = {"province", "name", "deadline"}


def check(raw: dict, today) -> Checked:
    raw = {k: f"{v:%d/%m/%Y}" if isinstance(v, date) else v for k, v in raw.items()}   # file cells: past dates too
    try:
        return Checked(check_round(raw.get("province") or "", raw.get("name") or "", raw.get("deadline") or "",
                                   raw.get("evaluation") or "", raw.get("where") or "", today))
    except RoundError as exc:
        return Checked(None, {exc.field: str(exc)})
    except (DateError, ValueError) as exc:
        return Checked(None, {"deadline": str(exc)})


async def create(db, data: RoundInput, uid: int):
    return await create_round(db, data, uid)


def update(rnd, data: RoundInput) -> None:
    rnd.province, rnd.name, rnd.registration_deadline = data.province, data.name, data.deadline
    rnd.evaluation_date, rnd.where_to_submit = data.evaluation_date, data.where


def to_form(rnd) -> dict:
    return dict(province=rnd.province, name=rnd.name, deadline=f"{rnd.registration_deadline:%d/%m/%Y}",
                evaluation=f"{rnd.evaluation_date:%d/%m/%Y}" if rnd.evaluation_date else "",
                where=rnd.where_to_submit)


ROUNDS = Records(
    slug="dot-danh-gia", title=web_text("rounds.title"), noun=web_text("rounds.noun"), model=EvaluationRound, fields=FORM, labels=LABELS,
    list_template="web/rounds", audit_prefix="round", check=check, province_of=lambda d: d.province,
    find=find_round, create=create, update=update, to_form=to_form, columns=COLUMNS, required=REQUIRED,
    key=lambda d: (d.province, d.name, d.deadline), order="registration_deadline",
    clash=validation("rounds.duplicate"),
    outside_scope=lambda province: validation("rounds.outside_scope", province=province), dates={"deadline", "evaluation"})


def routes(r) -> None:
    register(r, ROUNDS)
