"""The dossier walkthrough end to end through the neutral core, on SQLite and PostgreSQL."""
from __future__ import annotations

from io import BytesIO

import pypdf
from sqlalchemy import func, select

from flows import dossier as flow
from storage.models import Conversation, FlowAnswer
from tests.helpers import button_data, msg, texts

PROFILE = [("goal", "lan_dau"), ("producer", "htx"), ("group", "thuc_pham"), ("category", "che_bien"),
           ("subgroup", "che_bien_rau_qua")]


async def tap(core, data: str, user: str = "u1"):
    return await core.handle(msg(callback=data, user=user))


def answer_buttons(replies) -> list[str]:
    return [d for d in button_data(replies) if d.startswith("d:a:")]


def current_node(replies) -> str:
    """The node the last question's answer buttons belong to."""
    return answer_buttons(replies)[-1].split(":")[2]


async def answer_profile(core, profile=PROFILE):
    replies = await core.handle(msg("/hoso"))
    for node, option in profile:
        assert current_node(replies) == node
        replies = await tap(core, f"d:a:{node}:{option}")
    return replies


async def answer_documents(core, replies, pattern=("co", "chua"), stop_after: int | None = None):
    """Tap Đã có / Chưa có alternately until the outcome arrives (or stop_after documents)."""
    n = 0
    while answer_buttons(replies):
        node = current_node(replies)
        replies = await tap(core, f"d:a:{node}:{pattern[n % len(pattern)]}")
        n += 1
        if stop_after is not None and n >= stop_after:
            break
    return replies


def pdf_text(replies) -> str:
    files = [r.file for r in replies if r.file]
    assert files and files[0].mime == "application/pdf" and files[0].filename.endswith(".pdf")
    return " ".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(files[0].content)).pages)


async def stored(core) -> dict[str, str]:
    async with core.sessionmaker() as s:
        rows = await s.execute(select(FlowAnswer.node, FlowAnswer.value).where(FlowAnswer.flow == "dossier"))
        return dict(rows.all())


async def in_flow(core) -> bool:
    async with core.sessionmaker() as s:
        conv = await s.scalar(select(Conversation))
        return conv is not None and conv.flow == "dossier"


async def test_full_walk_gives_checklist_and_pdf(db_url, make_core):
    core = make_core(db_url)
    replies = await answer_profile(core)
    assert "Bước 6/23" in texts(replies) and "Phiếu đăng ký đánh giá, phân hạng (Mẫu số 01)" in texts(replies)
    assert {"d:more:phieu_dang_ky", "d:back:doc.phieu_dang_ky"} <= set(button_data(replies))
    replies = await answer_documents(core, replies)
    out = texts(replies)
    assert "Danh mục hồ sơ OCOP của bạn" in out and "UBND xã/phường" in out
    assert "Giấy tờ bắt buộc đã sẵn sàng: <b>1/3</b>" in out
    # where/how to file (Điều 7.1) and the next round from the Điều 5.1 calendar (no officer round here)
    assert "01 bộ hồ sơ giấy và 01 bộ hồ sơ điện tử" in out and "phần mềm" in out
    assert "Đợt 1 năm 2027" in out and "30/04/2027" in out and "30/06/2027" in out
    assert "Phiếu chấm áp dụng: phiếu số 7" in out and "26/2026" in out
    text = pdf_text(replies)
    for name in ("Phiếu đăng ký đánh giá, phân hạng (Mẫu số 01)", "Báo cáo tự đánh giá về sản phẩm (Mẫu số 02)",
                 "Hồ sơ công bố chất lượng sản phẩm", "Hợp tác xã (HTX)", "Thực phẩm chế biến"):
        assert name in text
    assert not await in_flow(core)
    assert len(await stored(core)) == 5 + 18
    # /hoso later shows the saved checklist, derived from the stored answers
    again = await core.handle(msg("/hoso"))
    assert "Giấy tờ bắt buộc đã sẵn sàng: <b>1/3</b>" in texts(again)
    assert {"d:pdf", "d:edit", "d:reset"} <= set(button_data(again))
    assert "Phiếu đăng ký đánh giá, phân hạng (Mẫu số 01)" in pdf_text(await tap(core, "d:pdf"))


async def test_leave_restart_and_resume(db_url, make_core):
    core = make_core(db_url)
    replies = await answer_documents(core, await answer_profile(core), stop_after=3)
    where = current_node(replies)
    assert "Bước 9/23" in texts(replies)
    assert "Đã thoát" in texts(await core.handle(msg("/huy")))
    assert not await in_flow(core)
    await core.close()

    core2 = make_core(db_url)                     # a new Core on the same database = a restart
    replies = await core2.handle(msg("/hoso"))
    assert "Bước 9/23" in texts(replies) and {"d:cont", "d:pdf", "d:reset"} <= set(button_data(replies))
    assert "Chưa trả lời" in pdf_text(await tap(core2, "d:pdf"))          # the checklist so far
    replies = await tap(core2, "d:cont")
    assert current_node(replies) == where and await in_flow(core2)
    replies = await answer_documents(core2, replies)
    assert "Giấy tờ bắt buộc đã sẵn sàng" in texts(replies)


async def test_change_an_earlier_answer_recomputes_the_checklist(db_url, make_core):
    core = make_core(db_url)
    await answer_documents(core, await answer_profile(core), pattern=("co",))
    replies = await tap(core, "d:edit")
    assert "d:edit:group" in button_data(replies)
    replies = await tap(core, "d:edit:group")
    assert current_node(replies) == "group"
    replies = await tap(core, "d:a:group:du_lich")
    # documents already answered are kept; only the new tourism item is asked
    assert current_node(replies) == "doc.tham_dinh_thuc_dia"
    replies = await tap(core, "d:a:doc.tham_dinh_thuc_dia:chua")
    out = texts(replies)
    assert "05 sản phẩm mẫu" not in out and "Hồ sơ giới thiệu điểm / dịch vụ du lịch" in out
    assert "Giấy tờ bắt buộc đã sẵn sàng: <b>2/2</b>" in out


async def test_back_button_asks_the_previous_question_again(db_url, make_core):
    core = make_core(db_url)
    replies = await answer_profile(core)
    replies = await tap(core, "d:back:doc.phieu_dang_ky")
    assert current_node(replies) == "subgroup"
    replies = await tap(core, "d:a:subgroup:che_bien_gao")
    assert current_node(replies) == "doc.phieu_dang_ky"
    assert (await stored(core))["subgroup"] == "che_bien_gao"
    replies = await core.handle(msg("Quay lại"))               # typed, too
    assert current_node(replies) == "subgroup"
    replies = await core.handle(msg(""))                         # a sticker: polite, nothing changes
    assert button_data(replies)[-1] == "d:cont" and "che_bien_gao" != (await stored(core)).get("subgroup")


async def test_faq_question_mid_flow_is_answered_then_offers_to_continue(db_url, make_core, monkeypatch):
    import handlers.faq
    asked = []

    async def faq_replies(ctx, text):
        from core.messages import Reply
        asked.append(text)
        return [Reply("Giấy chứng nhận OCOP có hiệu lực 36 tháng.")]
    monkeypatch.setattr(handlers.faq, "faq_replies", faq_replies, raising=False)
    core = make_core(db_url)
    await answer_profile(core)
    before = await stored(core)
    replies = await core.handle(msg("giấy chứng nhận OCOP có thời hạn bao lâu?"))
    assert asked == ["giấy chứng nhận OCOP có thời hạn bao lâu?"]
    assert "36 tháng" in replies[0].text and button_data(replies)[-1] == "d:cont"
    assert "Bước 6/23" in texts(replies)
    assert await stored(core) == before and await in_flow(core)
    replies = await tap(core, "d:cont")
    assert current_node(replies) == "doc.phieu_dang_ky"
    replies = await core.handle(msg("đã có"))                 # a typed answer is recognised
    assert current_node(replies) == "doc.bao_cao_tu_danh_gia"
    assert (await stored(core))["doc.phieu_dang_ky"] == "co"


async def test_faq_digression_without_faq_engine_still_keeps_the_flow(sqlite_url, make_core, monkeypatch):
    import handlers.faq
    monkeypatch.delattr(handlers.faq, "faq_replies", raising=False)
    core = make_core(sqlite_url)
    await answer_profile(core, PROFILE[:2])
    replies = await core.handle(msg("hộ kinh doanh đăng ký ở đâu?"))
    assert button_data(replies)[-1] == "d:cont" and await in_flow(core)
    replies = await core.handle(msg("thuc pham"))              # a typed option label answers "group"
    assert current_node(replies) == "category"


async def test_stale_buttons_resume_and_never_change_answers(db_url, make_core):
    core = make_core(db_url)
    await answer_profile(core)
    before = await stored(core)
    for data in ("d:a:goal:nang_hang", "d:a:doc.ke_toan:co", "d:a:doc.nope:co", "d:a:category:xx",
                 "d:back:group", "d:edit:food_sub", "d:a:subgroup:ruou_trang", "d:zzz", "d:a:x"):
        replies = await tap(core, data)
        assert "bước" in texts(replies).lower(), data
        assert current_node(replies) == "doc.phieu_dang_ky", data
    assert await stored(core) == before
    replies = await tap(core, "d:a:group:thuc_pham")           # the same answer again: just resume
    assert "bước cũ" not in texts(replies) and current_node(replies) == "doc.phieu_dang_ky"
    # after /huy a stale tap of the current step still works (resumes the flow)
    await core.handle(msg("/huy"))
    replies = await tap(core, "d:a:doc.phieu_dang_ky:co")
    assert current_node(replies) == "doc.bao_cao_tu_danh_gia" and await in_flow(core)


async def test_unregistered_household_is_told_to_register_then_continues(sqlite_url, make_core):
    core = make_core(sqlite_url)
    replies = await answer_profile(core, [("goal", "lan_dau"), ("producer", "chua_dk")])
    assert current_node(replies) == "register_household"
    assert "đăng ký hộ kinh doanh" in texts(replies) and "UBND xã/phường" in texts(replies)
    replies = await tap(core, "d:a:register_household:tiep")
    assert current_node(replies) == "group"


async def test_re_evaluation_entry_points_preset_the_goal(db_url, make_core):
    core = make_core(db_url)
    await answer_profile(core)                                          # an earlier first-evaluation walk
    replies = await tap(core, "d:start:reeval")
    assert "đánh giá lại" in texts(replies) and current_node(replies) == "stars"
    assert await stored(core) == {"goal": "danh_gia_lai"}
    replies = await core.handle(msg("/start hoso_danhgialai", user="u2"))
    assert current_node(replies) == "stars"
    for node, option in [("stars", "4"), ("producer", "dn"), ("group", "do_uong"), ("category", "khong_con"),
                         ("subgroup", "do_uong_khong_con_khac")]:
        replies = await tap(core, f"d:a:{node}:{option}", user="u2")
    assert current_node(replies) == "doc.phieu_dang_ky"
    assert "Bước 7/27" in texts(replies)


async def test_menu_entry_cancel_and_reset(sqlite_url, make_core):
    core = make_core(sqlite_url)
    replies = await tap(core, "m:hoso")
    assert current_node(replies) == "goal" and "Hướng dẫn chuẩn bị hồ sơ" in texts(replies)
    await tap(core, "d:a:goal:lan_dau")
    await core.handle(msg("/huy"))
    assert not await in_flow(core)
    replies = await tap(core, "d:reset")
    assert "d:reset:ok" in button_data(replies)
    replies = await tap(core, "d:reset:ok")
    assert current_node(replies) == "goal" and await stored(core) == {}
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(FlowAnswer)) == 0
    assert flow.replay({}).current == "goal"


async def test_real_faq_engine_answers_mid_flow(sqlite_url, make_core):
    from storage.models import FaqLog
    core = make_core(sqlite_url)
    await answer_profile(core)
    replies = await core.handle(msg("Giấy chứng nhận OCOP có thời hạn bao lâu?"))
    assert "36 tháng" in texts(replies) and button_data(replies)[-1] == "d:cont"
    assert await in_flow(core)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(FaqLog)) == 1
    assert current_node(await tap(core, "d:cont")) == "doc.phieu_dang_ky"


async def test_outcome_names_the_officer_round_of_the_producers_province(db_url, make_core, today):
    """The next round: the one an officer entered for the province, otherwise the Điều 5.1 calendar."""
    from datetime import date

    from sqlalchemy import update

    from storage.models import EvaluationRound, User
    today.value = date(2027, 5, 10)
    core = make_core(db_url)
    await core.handle(msg("/hoso"))
    async with core.sessionmaker() as s:
        await s.execute(update(User).values(province="dong_thap"))
        s.add(EvaluationRound(province="Đồng Tháp", name="Đợt 2 năm 2027", registration_deadline=date(2027, 9, 15),
                              evaluation_date=date(2027, 11, 20), where_to_submit="UBND xã nơi sản xuất"))
        await s.commit()
    replies = await answer_documents(core, await answer_profile(core))
    out = texts(replies)
    assert "Đợt 2 năm 2027" in out and "15/09/2027" in out and "20/11/2027" in out and "Đồng Tháp" in out
    # a producer without a known province gets the calendar: commune forwards before 30/10
    core2_user = "u3"
    r = await core.handle(msg("/hoso", user=core2_user))
    for node, option in PROFILE:
        r = await tap(core, f"d:a:{node}:{option}", user=core2_user)
    while [d for d in button_data(r) if d.startswith("d:a:doc.")]:
        node = [d for d in button_data(r) if d.startswith("d:a:doc.")][0].split(":")[2]
        r = await tap(core, f"d:a:{node}:co", user=core2_user)
    assert "Đợt 2 năm 2027" in texts(r) and "30/10/2027" in texts(r) and "30/12/2027" in texts(r)


async def test_typed_product_name_proposes_the_sub_group_through_the_hook(sqlite_url, make_core, monkeypatch):
    """The gazetteer plugs into flows.dossier.subgroup_lookup; a confirm tap stores group → nhóm → phân nhóm."""
    monkeypatch.setattr(flow, "subgroup_lookup", lambda text: "nuoc_mam" if "mắm" in text else None)
    core = make_core(sqlite_url)
    replies = await answer_profile(core, PROFILE[:2])
    assert current_node(replies) == "group"
    replies = await core.handle(msg("tôi làm mắm tép"))
    assert "d:sg:nuoc_mam" in button_data(replies) and "Tương, nước mắm" in texts(replies)
    replies = await tap(core, "d:sg:nuoc_mam")
    assert current_node(replies) == "doc.phieu_dang_ky"
    assert {k: v for k, v in (await stored(core)).items() if k in ("group", "category", "subgroup")} == {
        "group": "thuc_pham", "category": "gia_vi", "subgroup": "nuoc_mam"}
    replies = await tap(core, "d:sg:nuoc_mam")                    # stale now: nothing changes
    assert current_node(replies) == "doc.phieu_dang_ky"


def test_the_real_gazetteer_proposes_the_annex_i_sub_group():
    """Without a stub: 'tôi làm mắm tép' lands on Gia vị — tương, nước mắm (QĐ 26/2026 Phụ lục I)."""
    assert flow.propose_subgroup("tôi làm mắm tép") == "nuoc_mam"
    assert flow.propose_subgroup("nha em lam che thai nguyen") == "che"
    assert flow.propose_subgroup("xyz không phải sản phẩm") is None
