"""The self-assessment walk through the neutral core (SQLite and PostgreSQL)."""
from __future__ import annotations

from io import BytesIO

import pypdf

from core.app import Core
from tests.helpers import button_data, msg, texts
from tests.selfassess.plan import best_except, plan, second, sub_of


async def tap(core, data: str, user: str = "u1"):
    return await core.handle(msg(callback=data, user=user))


def answers(replies) -> list[str]:
    return [d for d in button_data(replies) if d.startswith("sa:a:")]


def node_of(replies) -> str:
    return answers(replies)[-1].split(":")[2]


def value_for(node: str, n: int, values: dict[str, str], case: str = "1") -> str:
    if node == "case":
        return case
    if node.startswith("ko"):
        return "khong"
    return values[node.split("_", 1)[1]]


async def walk(core, n: int, values: dict[str, str], *, case: str = "1", replies=None, user: str = "u1"):
    """From wherever the walk is, answer every step of sheet n with `values`; returns the last replies."""
    group, sub = sub_of(n)
    replies = replies if replies is not None else await core.handle(msg("/tuchamdiem", user=user))
    preset = {"group": group, "sub": sub}
    steps = 0
    while answers(replies):
        node = node_of(replies)
        value = preset.get(node) or value_for(node, n, values, case)
        assert f"sa:a:{node}:{value}" in answers(replies), (node, value, answers(replies))
        replies = await tap(core, f"sa:a:{node}:{value}", user)
        steps += 1
        assert steps < 80
    return replies


def pdf_text(replies) -> str:
    files = [r.file for r in replies if r.file]
    assert files and files[0].mime == "application/pdf"
    return " ".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(files[0].content)).pages)


async def test_walk_sheet_1_score_band_missed_minimum_and_pdf(db_url, make_core):
    core = make_core(db_url)
    out = await core.handle(msg("/tuchamdiem"))
    assert "Tự chấm điểm sơ bộ" in texts(out) and "ước tính" in texts(out)
    assert node_of(out) == "group" and "Bước 1/" in texts(out)
    values, total, misses = plan(1, best_except({"4.1": 0}))
    out = await walk(core, 1, values)
    text = texts(out)
    assert total == 96 and "Tổng: 96/100 điểm → 5 sao" in text
    assert "A: <b>40/40</b> · B: <b>21/25</b> · C: <b>35/35</b>" in text
    assert "Chưa đạt yêu cầu tối thiểu của hạng 3 sao" in text and "4.1 Khu vực phân phối chính" in text
    assert "không nói rõ" in text and "dưới 3 sao" in text
    assert "QĐ 26/2026/QĐ-TTg, Phụ lục II, phiếu số 1" in text and "không phải quyết định" in text
    assert "tạm tính" in text
    out = await tap(core, "sa:pdf")
    pdf = pdf_text(out)
    for s in ("BÁO CÁO TỰ ĐÁNH GIÁ VỀ SẢN PHẨM", "Phần I. THÔNG TIN CHUNG", "Phần III", "Phần IV",
              "Rau, củ, quả, hạt tươi", "Tổng điểm tự đánh giá: 96/100", "Thị trường trong địa bàn cấp xã",
              "ĐẠI DIỆN THEO PHÁP LUẬT", "BẢN NHÁP"):
        assert s in pdf, s


async def test_leave_restart_resume_back_and_stale(db_url, make_core, make_settings):
    core = make_core(db_url)
    values, total, _ = plan(9, second)
    group, sub = sub_of(9)
    out = await core.handle(msg("/tuchamdiem"))
    out = await tap(core, f"sa:a:group:{group}")
    old_group_tap = f"sa:a:group:{group}"
    out = await tap(core, f"sa:a:sub:{sub}")
    assert node_of(out) == "ko9" and "Hồ sơ bị loại khi" in texts(out)
    out = await tap(core, "sa:a:ko9:khong")
    first = node_of(out)
    assert first == "s9_1.1" and "Bước 4/" in texts(out)
    out = await tap(core, f"sa:a:{first}:{values['1.1']}")
    second_node = node_of(out)
    await core.close()

    core2 = Core(make_settings(db_url))                        # a restart: a new process, same database
    try:
        out = await core2.handle(msg("/tuchamdiem"))
        assert "đang tự chấm điểm dở" in texts(out) and "bước 5/33" in texts(out)
        out = await tap(core2, "sa:cont")
        assert node_of(out) == second_node
        out = await tap(core2, f"sa:back:{second_node}")        # back: 1.1 asked again
        assert node_of(out) == first
        out = await tap(core2, old_group_tap.replace(group, "du_lich"))   # a stale button changes nothing
        assert "bước cũ" in texts(out) and node_of(out) == first
        out = await walk(core2, 9, values, replies=await tap(core2, "sa:cont"))
        assert f"Tổng: {total}/100 điểm" in texts(out)
    finally:
        await core2.close()


async def test_menu_item_and_dossier_button_open_it(db_url, make_core):
    core = make_core(db_url)
    out = await core.handle(msg("/start"))
    assert "m:tuchamdiem" in button_data(out)
    out = await tap(core, "m:tuchamdiem")
    assert node_of(out) == "group"
    out = await tap(core, "sa:start:do_uong")                  # from the dossier result: group preset
    assert node_of(out) == "sub" and set(answers(out)) == {
        "sa:a:sub:ruou_trang", "sa:a:sub:do_uong_co_con_khac", "sa:a:sub:nuoc_khoang",
        "sa:a:sub:do_uong_khong_con_khac"}


async def test_typed_text_mid_walk_keeps_the_step(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/tuchamdiem"))
    out = await core.handle(msg("giấy chứng nhận ocop có thời hạn bao lâu"))
    assert "sa:cont" in button_data(out)
    out = await tap(core, "sa:cont")
    assert node_of(out) == "group"
    out = await tap(core, "sa:bogus:1")
    assert node_of(out) == "group"


async def test_reset_clears_answers(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("/tuchamdiem"))
    await tap(core, "sa:a:group:du_lich")
    out = await tap(core, "sa:reset")
    assert "sa:reset:ok" in button_data(out)
    out = await tap(core, "sa:reset:ok")
    assert node_of(out) == "group"


async def test_tourism_case_two(db_url, make_core):
    core = make_core(db_url)
    values, total, _ = plan(26, second, case=2)
    out = await walk(core, 26, values, case="2")
    assert total == 71 and "Tổng: 71/100 điểm → 4 sao" in texts(out)
    assert "Phiếu số 26: Dịch vụ du lịch cộng đồng" in texts(out)
