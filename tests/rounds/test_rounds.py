"""Evaluation rounds: /themdot (officers only, one-line and guided), /dotdanhgia, round reminders
14/7/1 days before the registration deadline for subscribers and owners of expiring certificates."""
from datetime import date, timedelta

from sqlalchemy import select

from delivery.senders import Senders
from delivery.worker import DeliveryWorker
from handlers.rounds.repo import upcoming_rounds
from core.reminders import sweep
from storage.models import EvaluationRound, Role, Subscription
from tests.products.util import RecordingSender, add_cert, add_user
from tests.helpers import msg, texts


async def _rounds(core):
    async with core.sessionmaker() as s:
        return list(await s.scalars(select(EvaluationRound).order_by(EvaluationRound.id)))


async def test_only_officers_add_rounds_one_line(db_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(db_url)
    r = await core.handle(msg("/themdot Đồng Tháp | Đợt 1 năm 2027 | 15/3/2027", user="farmer"))
    assert "dành cho cán bộ" in texts(r) and await _rounds(core) == []
    r = await core.handle(msg("/themdot Tiền Giang | Đợt 1 năm 2027 | 15/3/2027 | 1/4/2027 | Phòng Kinh tế",
                              user="admin"))
    assert "Đã thêm" in texts(r) and "Đồng Tháp" in texts(r)
    [rnd] = await _rounds(core)
    assert (rnd.province, rnd.registration_deadline, rnd.evaluation_date, rnd.where_to_submit) == (
        "dong_thap", date(2027, 3, 15), date(2027, 4, 1), "Phòng Kinh tế")
    r = await core.handle(msg("/themdot Đồng Tháp | Đợt cũ | 1/1/2026", user="admin"))
    assert "đã qua" in texts(r)
    r = await core.handle(msg("/themdot Đồng Tháp | Đợt 2 | 15/3/2027 | 1/3/2027", user="admin"))
    assert "sau hạn đăng ký" in texts(r)
    assert len(await _rounds(core)) == 1


async def test_provincial_officer_guided_flow_and_scope(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start", user="officer"))
    async with core.sessionmaker() as s, s.begin():
        s.add(Role(user_id=1, role="officer", province="Cà Mau"))
    r = await core.handle(msg("/themdot Đồng Tháp | Đợt 1 | 15/3/2027", user="officer"))
    assert "không thuộc phạm vi" in texts(r)
    r = await core.handle(msg("/themdot", user="officer"))
    assert "Tên đợt" in texts(r)                       # province known from the role
    await core.handle(msg("Đợt 2 năm 2027", user="officer"))
    r = await core.handle(msg("30/2/2027", user="officer"))
    assert "không có ngày 30" in texts(r)
    r = await core.handle(msg("20/6/2027", user="officer"))
    assert "Bỏ qua" in texts(r) or r[0].buttons
    r = await core.handle(msg("bỏ qua", user="officer"))
    assert "Nơi nộp" in texts(r)
    r = await core.handle(msg(callback="r:skip", user="officer"))
    assert "Đã thêm" in texts(r)
    await core.handle(msg("/themdot", user="officer"))
    for text in ("Đợt 3 năm 2027", "20/6/2027"):
        await core.handle(msg(text, user="officer"))
    await core.handle(msg(callback="r:skip", user="officer"))
    r = await core.handle(msg("UBND xã Tân Hưng", user="officer"))
    assert "Đã thêm" in texts(r) and "(Cà Mau)" in texts(r)          # the name shown, the id stored
    first, rnd = await _rounds(core)
    assert (first.where_to_submit, first.evaluation_date) == ("", None)
    assert (rnd.province, rnd.name, rnd.evaluation_date, rnd.where_to_submit) == (
        "ca_mau", "Đợt 3 năm 2027", None, "UBND xã Tân Hưng")


async def test_dotdanhgia_lists_upcoming_rounds_of_my_province(sqlite_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(sqlite_url)
    await core.handle(msg("/themdot Cà Mau | Đợt A | 1/2/2027", user="admin"))
    await core.handle(msg("/themdot Huế | Đợt B | 1/2/2027", user="admin"))
    r = await core.handle(msg("/dotdanhgia"))
    assert "tỉnh/thành nào" in texts(r)
    r = await core.handle(msg("/dotdanhgia bac lieu"))           # old name -> Cà Mau
    assert "Đợt A" in texts(r) and "Đợt B" not in texts(r) and "còn 71 ngày" in texts(r)
    async with core.sessionmaker() as s:
        assert [x.name for x in await upcoming_rounds(s, "ca_mau", today.value)] == ["Đợt A"]
        assert await upcoming_rounds(s, "Cà Mau", date(2027, 2, 2)) == []


async def test_round_reminders_reach_subscribers_and_owners_of_expiring_certificates(db_url, make_core):
    core = make_core(db_url)
    deadline = date(2027, 3, 15)
    async with core.sessionmaker() as s, s.begin():
        sub = await add_user(s, "sub")
        s.add(Subscription(user_id=sub.id, province="Cà Mau", topics=["dot_danh_gia"], active=True))
        other_topic = await add_user(s, "news")
        s.add(Subscription(user_id=other_topic.id, province="Cà Mau", topics=["hoi_cho"], active=True))
        elsewhere = await add_user(s, "far")
        s.add(Subscription(user_id=elsewhere.id, province="Huế", topics=["dot_danh_gia"], active=True))
        owner = await add_user(s, "owner")
        await add_cert(s, owner.id, province="Cà Mau", recognized=date(2024, 6, 1))     # expires 1/6/2027
        stopped = await add_user(s, "stopped")
        stopped.opted_out = True
        s.add(Subscription(user_id=stopped.id, province="Cà Mau", topics=["dot_danh_gia"], active=True))
        await add_cert(s, stopped.id, province="Cà Mau", recognized=date(2024, 6, 1), decision="8")
        later = await add_user(s, "later")
        await add_cert(s, later.id, province="Cà Mau", recognized=date(2025, 6, 1), decision="9")
        s.add(EvaluationRound(province="Cà Mau", name="Đợt 1 năm 2027", registration_deadline=deadline,
                              evaluation_date=date(2027, 4, 1)))
    sender = RecordingSender()
    worker = DeliveryWorker(core.sessionmaker, Senders(console=sender), rate=1000, per_chat_interval=0)
    day = deadline - timedelta(days=20)
    while day <= deadline + timedelta(days=2):
        for _ in range(2):
            async with core.sessionmaker() as s, s.begin():
                await sweep(s, core.settings, day)
        await worker.drain(timeout=5)
        day += timedelta(days=1)
    by_chat = {}
    for chat, text in sender.sent:
        by_chat.setdefault(chat, []).append(text.split("\n")[0])
    assert set(by_chat) == {"sub", "owner", "stopped"}
    assert all(not t.startswith("📅") for t in by_chat["stopped"])      # /stop ends round news only
    assert by_chat["sub"] == [f"📅 <b>Đợt đánh giá OCOP: còn {n} ngày để đăng ký</b>" for n in (14, 7, 1)]
    owner_rounds = [t for c, t in sender.sent if c == "owner" and t.startswith("📅")]
    assert len(owner_rounds) == 3 and len(by_chat["owner"]) == 4      # + the 90-day expiry reminder
    owner_text = owner_rounds[0]
    assert "sắp hết hạn" in owner_text and "15/03/2027" in owner_text
