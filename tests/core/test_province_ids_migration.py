"""Migration 0011: every `province` column holds the province id. Official names and old (pre-2025) names
become the id, an unknown value is left as it is; downgrade writes the official names back (roles held ids
before 0011 and keep them)."""
from __future__ import annotations

import asyncio
from datetime import date

from alembic import command
from sqlalchemy import insert, select

from storage.db import make_engine
from storage.migrate import alembic_config
from storage.models import (CallListEntry, Certificate, EvaluationRound, Fair, OfficerQuestion, PlanTarget, Role,
                            Subscription, User)

D = date(2027, 3, 1)
# (model, its other required columns); each table gets one row per stored value below
TABLES = [
    (User, lambda i: dict(id=i)),
    (Role, lambda i: dict(user_id=i)),
    (Subscription, lambda i: dict(user_id=i)),
    (OfficerQuestion, lambda i: dict(user_id=i, question=f"Câu hỏi {i}?")),
    (Certificate, lambda i: dict(product=f"SP {i}", stars=4, recognized_on=D, expires_on=D, decision_no=str(i))),
    (PlanTarget, lambda i: dict(due_on=D, target=i)),
    (EvaluationRound, lambda i: dict(name=f"Đợt {i}", registration_deadline=D)),
    (Fair, lambda i: dict(name=f"Hội chợ {i}", start_date=D, end_date=D)),
    (CallListEntry, lambda i: dict(reminder_key=f"k{i}", kind="cert", reason="no_route")),
]
STORED = ["Đồng Tháp", "Tiền Giang", "dong_thap", "Thành phố Hồ Chí Minh", "Huế", "Tỉnh Mới Lạ"]
UPGRADED = ["dong_thap", "dong_thap", "dong_thap", "ho_chi_minh", "hue", "Tỉnh Mới Lạ"]
DOWNGRADED = ["Đồng Tháp", "Đồng Tháp", "Đồng Tháp", "Hồ Chí Minh", "Huế", "Tỉnh Mới Lạ"]


async def _provinces(engine) -> dict[str, list]:
    async with engine.connect() as conn:
        return {m.__tablename__: list(await conn.scalars(select(m.__table__.c.province).order_by(
            m.__table__.c[next(iter(m.__table__.primary_key.columns)).name])))
            for m, _ in TABLES}


async def test_names_become_ids_and_come_back(db_url):
    engine = make_engine(db_url)
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0010_broadcast_counts")
    async with engine.begin() as conn:
        for model, other in TABLES:
            for i, value in enumerate(STORED, start=1):
                await conn.execute(insert(model.__table__).values(province=value, **other(i)))
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "heads")
    up = await _provinces(engine)
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0010_broadcast_counts")
    down = await _provinces(engine)
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "heads")
    again = await _provinces(engine)
    await engine.dispose()
    assert up == {m.__tablename__: UPGRADED for m, _ in TABLES}
    assert down == {m.__tablename__: UPGRADED if m is Role else DOWNGRADED for m, _ in TABLES}
    assert again == up


def test_the_models_store_the_id_of_a_name_and_leave_unknown_values():
    assert Certificate(province="Tiền Giang").province == "dong_thap"
    assert User(province="TP HCM").province == "ho_chi_minh"
    assert Fair(province="dong_thap").province == "dong_thap"
    assert EvaluationRound(province="Tỉnh Mới Lạ").province == "Tỉnh Mới Lạ"
    assert Subscription(province=None).province is None and CallListEntry(province="").province == ""
