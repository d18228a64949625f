"""The FAQ handler through Core.handle on SQLite and PostgreSQL."""
from sqlalchemy import func, select

from core.messages import Reply
from handlers import faq as faq_handler
from handlers.faq import NS
from storage.models import Conversation, FaqLog, Feedback, OfficerQuestion, User
from tests.helpers import button_data, find_button, msg, texts


async def rows(core, model):
    await core.writes.settled()                 # a question's log row rides with the next group commit
    async with core.sessionmaker() as s:
        key = model.id if hasattr(model, "id") else model.user_id
        return list(await s.scalars(select(model).order_by(key)))


async def test_answer_has_basis_feedback_buttons_and_is_logged(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("giay chung nhan ocop co thoi han bao lau"))
    assert "36 tháng" in texts(replies) and "Căn cứ: QĐ 26/2026/QĐ-TTg" in texts(replies)   # QĐ 148 lapsed ~21/7/2026
    assert button_data(replies) == [f"{NS}:up:thoi_han_gcn", f"{NS}:dn:thoi_han_gcn"]
    [log] = await rows(core, FaqLog)
    assert (log.outcome, log.faq_id, log.question) == ("answer", "thoi_han_gcn", "giay chung nhan ocop co thoi han bao lau")
    assert log.user_id == 1 and log.score > 0


async def test_feedback_is_recorded_once_per_user_and_entry(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("ho so ocop gom nhung gi"))
    t = texts(await core.handle(msg(callback=f"{NS}:up:ho_so_gom_gi")))
    assert "Cảm ơn" in t
    down = await core.handle(msg(callback=f"{NS}:dn:ho_so_gom_gi"))
    assert "m:lienhe" in button_data(down)
    [fb] = await rows(core, Feedback)
    assert (fb.user_id, fb.faq_id, fb.vote) == (1, "ho_so_gom_gi", -1)


async def test_suggestions_and_a_tap_on_one(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("ho so"))
    assert "Có phải bạn muốn hỏi" in texts(replies)
    tap = find_button(replies, "Hồ sơ đăng ký đánh giá")
    assert tap.data == f"{NS}:s:ho_so_gom_gi"
    answer = await core.handle(msg(callback=tap.data))
    assert "Phiếu đăng ký" in texts(answer) and "Căn cứ:" in texts(answer)
    assert f"{NS}:up:ho_so_gom_gi" in button_data(answer)
    assert [r.outcome for r in await rows(core, FaqLog)] == ["suggest"]


async def test_fallback_then_send_to_officer_stores_the_question(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("Thời tiết Hà Nội ngày mai thế nào?"))
    assert "chưa có câu trả lời" in texts(replies)
    button = find_button(replies, "Gửi câu hỏi cho cán bộ")
    [log] = await rows(core, FaqLog)
    assert log.outcome == "fallback" and button.data == f"{NS}:o:{log.id}"
    sent = await core.handle(msg(callback=button.data))
    assert "Đã gửi câu hỏi" in texts(sent) and "Thời tiết Hà Nội" in texts(sent)
    [q] = await rows(core, OfficerQuestion)
    assert (q.user_id, q.province, q.question, q.status) == (1, None, "Thời tiết Hà Nội ngày mai thế nào?", "open")
    again = await core.handle(msg(callback=button.data))          # a second tap adds nothing
    assert "đã được gửi" in texts(again)
    assert len(await rows(core, OfficerQuestion)) == 1


async def test_officer_question_keeps_the_users_province_and_rejects_others_logs(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg("cach nau pho bo"))
    async with core.sessionmaker() as s, s.begin():
        (await s.get(User, 1)).province = "dong_thap"
    other = await core.handle(msg(callback=f"{NS}:o:1", user="u2"))   # not u2's question
    assert "cũ" in texts(other)
    await core.handle(msg(callback=f"{NS}:o:1"))
    [q] = await rows(core, OfficerQuestion)
    assert q.province == "dong_thap" and q.user_id == 1


async def test_greeting_and_thanks_get_small_talk(db_url, make_core):
    core = make_core(db_url)
    hello = await core.handle(msg("xin chào ad"))
    assert "Xin chào" in texts(hello) and button_data(hello) == []
    thanks = await core.handle(msg("cảm ơn nhiều"))
    assert "Không có gì" in texts(thanks)
    contact = await core.handle(msg("cho em liên hệ cán bộ"))
    assert button_data(contact) == ["m:lienhe"]
    assert [r.outcome for r in await rows(core, FaqLog)] == ["smalltalk"] * 3


async def test_menu_faq_offers_popular_questions(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg(callback="m:faq"))
    assert "Hỏi đáp OCOP" in texts(replies)
    assert f"{NS}:s:ho_so_gom_gi" in button_data(replies) and len(button_data(replies)) >= 3


async def test_lienhe_flow_stores_a_question_and_huy_leaves(db_url, make_core):
    core = make_core(db_url)
    ask = await core.handle(msg(callback="m:lienhe"))
    assert "gõ câu hỏi" in texts(ask)
    short = await core.handle(msg("ơ"))
    assert "ngắn quá" in texts(short)
    done = await core.handle(msg("Tỉnh tôi năm nay có đợt đánh giá OCOP không?"))
    assert "Đã gửi câu hỏi" in texts(done)
    [q] = await rows(core, OfficerQuestion)
    assert q.question == "Tỉnh tôi năm nay có đợt đánh giá OCOP không?"
    assert await rows(core, Conversation) == []
    # next text is an FAQ question again, not a message to officers
    await core.handle(msg("gcn ocop het han khi nao"))
    assert len(await rows(core, OfficerQuestion)) == 1
    await core.handle(msg(callback="m:lienhe"))
    left = await core.handle(msg("/huy"))
    assert "Đã thoát" in texts(left)
    await core.handle(msg("một câu hỏi khác cho cán bộ"))
    assert len(await rows(core, OfficerQuestion)) == 1


async def test_stale_or_forged_buttons_change_nothing(db_url, make_core):
    core = make_core(db_url)
    for data in (f"{NS}:up:khong_ton_tai", f"{NS}:s:khong_ton_tai", f"{NS}:o:999", f"{NS}:zz", f"{NS}:o:abc"):
        assert texts(await core.handle(msg(callback=data)))
    assert await rows(core, Feedback) == [] and await rows(core, OfficerQuestion) == []


async def test_faq_replies_for_other_flows(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start"))
    async with core.sessionmaker() as s, s.begin():
        from core.context import Ctx
        from storage.models import Identity
        user = await s.get(User, 1)
        ident = await s.scalar(select(Identity))
        replies = await faq_handler.faq_replies(Ctx(core, s, user, ident, msg("x")), "ocop 5 sao do ai cong nhan")
    assert isinstance(replies, list) and all(isinstance(r, Reply) for r in replies)
    assert "90" in texts(replies)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(FaqLog)) == 1
    assert faq_handler.get_engine() is faq_handler.get_engine()
