"""Results per round in the report: exact per recognition decision, beside the evaluation round it follows."""
from __future__ import annotations

import io
from datetime import date

import openpyxl

from storage.models import EvaluationRound


async def test_results_per_decision_and_round(console, today):
    today.value = date(2026, 12, 31)
    await console.add_certs([
        dict(product="A", producer="HTX 1", stars=3, decision_no="10/QĐ", recognized_on=date(2026, 3, 1)),
        dict(product="B", producer="HTX 1", stars=4, decision_no="10/QĐ", recognized_on=date(2026, 3, 1)),
        dict(product="C", producer="Hộ 2", stars=3, decision_no="10/QĐ", recognized_on=date(2026, 3, 1)),
        dict(product="D", producer="Hộ 3", stars=5, decision_no="20/QĐ", recognized_on=date(2026, 7, 1)),
        dict(product="E", producer="Hộ 4", stars=3, decision_no="5/QĐ", recognized_on=date(2026, 1, 10)),
        dict(product="F", producer="Hộ 5", stars=3, decision_no="1/QĐ", recognized_on=date(2025, 6, 1)),  # before
        dict(product="Z", producer="HTX Z", stars=4, decision_no="10/QĐ", province="Đồng Tháp",
             recognized_on=date(2026, 3, 1)),
    ])
    async with console.core.sessionmaker() as s:
        s.add_all([EvaluationRound(province="Cao Bằng", name="Đợt 1/2026", registration_deadline=date(2026, 2, 1),
                                   evaluation_date=date(2026, 2, 15)),
                   EvaluationRound(province="Cao Bằng", name="Đợt 2/2026", registration_deadline=date(2026, 6, 1)),
                   EvaluationRound(province="Đồng Tháp", name="Đợt ĐT", registration_deadline=date(2026, 1, 1))])
        await s.commit()
    await console.as_("officer", "cao_bang")
    r = await console.get("/quantri/bao-cao.xlsx?tu=2026-01-01&den=2026-12-31")
    rows = [list(x) for x in openpyxl.load_workbook(io.BytesIO(await r.read()))["Theo đợt đánh giá"].iter_rows(
        values_only=True)]
    assert rows[0][1:5] == ["Số quyết định", "Ngày công nhận", "Đợt đánh giá gần nhất trước đó", "Chủ thể"]
    got = [(r[1], r[3], r[4], tuple(r[5:9])) for r in rows[1:-1]]
    assert got == [("5/QĐ", "—", 1, (1, 0, 0, 1)),                # no round before it
                   ("10/QĐ", "Đợt 1/2026", 2, (2, 1, 0, 3)),
                   ("20/QĐ", "Đợt 2/2026", 1, (0, 0, 1, 1))]      # a round without evaluation date: its deadline
    assert rows[-1][1] == "3 quyết định" and rows[-1][-1] == 5
    body = await (await console.get("/quantri/bao-cao?tu=2026-01-01&den=2026-12-31")).text()
    assert "Đợt 1/2026" in body and "Đợt ĐT" not in body and "HTX Z" not in body
    # a round added later is read at once (the register did not change)
    async with console.core.sessionmaker() as s:
        s.add(EvaluationRound(province="Cao Bằng", name="Đợt bổ sung", registration_deadline=date(2026, 2, 20)))
        await s.commit()
    r = await console.get("/quantri/bao-cao.xlsx?tu=2026-01-01&den=2026-12-31")
    rows = [list(x) for x in openpyxl.load_workbook(io.BytesIO(await r.read()))["Theo đợt đánh giá"].iter_rows(
        values_only=True)]
    assert [(r[1], r[3]) for r in rows[1:-1]] == [("5/QĐ", "—"), ("10/QĐ", "Đợt bổ sung"), ("20/QĐ", "Đợt 2/2026")]
