"""/hoicho lists, filters, details and .ics; officers add a fair; validation; deadline reminders."""
from datetime import date

from icalendar import Calendar
from sqlalchemy import func, select

from core.reminders import sweep_job
from handlers.fairs.repo import check_fair
from storage.models import AuditLog, Delivery, Fair, Subscription
from tests.helpers import button_data, data_of, ids, msg, texts
from tests.people import add_person


async def _fairs(core):
    async with core.sessionmaker() as s, s.begin():
        for name, prov, start, end, dl in [
            ("Hội chợ OCOP Đồng Tháp", "dong_thap", date(2026, 12, 10), date(2026, 12, 14), date(2026, 11, 30)),
            ("Tuần hàng Huế", "hue", date(2026, 11, 25), date(2026, 11, 27), None),
            ("Hội chợ cũ", "hue", date(2026, 10, 1), date(2026, 10, 3), None),
            ("Festival 2027", "ha_noi", date(2027, 1, 5), date(2027, 1, 6), date(2026, 12, 20)),
        ]:
            s.add(Fair(name=name, province=prov, start_date=start, end_date=end, registration_deadline=dl,
                       place="Trung tâm <Hội chợ> & Triển lãm", target_groups=["thuc_pham"]))


async def test_list_next_first_and_filters(db_url, make_core):
    core = make_core(db_url)
    await _fairs(core)
    t = texts(await core.handle(msg("/hoicho")))
    assert t.index("Tuần hàng Huế") < t.index("Hội chợ OCOP Đồng Tháp") < t.index("Festival 2027")
    assert "Hội chợ cũ" not in t
    t = texts(await core.handle(msg("/hoicho Tiền Giang")))
    assert "Tiền Giang nay thuộc tỉnh Đồng Tháp" in t and "Hội chợ OCOP Đồng Tháp" in t and "Huế" not in t
    t = texts(await core.handle(msg("/hoicho 1/2027")))
    assert "Festival 2027" in t and "Đồng Tháp" not in t
    t = texts(await core.handle(msg("/hoicho tháng 12")))
    assert "Hội chợ OCOP Đồng Tháp" in t and "Festival" not in t
    assert "f:m:2026-12" in button_data(await core.handle(msg(callback="f:mo")))
    assert "Festival" in texts(await core.handle(msg(callback="f:p:ha_noi")))
    assert "chưa hiểu" in texts(await core.handle(msg("/hoicho xyzabc")))
    assert "f:d:" in " ".join(button_data(await core.handle(msg(callback="m:hoicho"))))


async def test_detail_and_ics_parse_back(db_url, make_core):
    core = make_core(db_url)
    await _fairs(core)
    detail = await core.handle(msg(callback="f:d:1"))
    assert "&lt;Hội chợ&gt; &amp; Triển lãm" in texts(detail) and "30/11/2026" in texts(detail)
    assert "f:del:1" not in button_data(detail)                 # producers cannot delete
    replies = await core.handle(msg(callback="f:ics:1"))
    f = replies[0].file
    assert f.filename.endswith(".ics") and f.mime == "text/calendar"
    cal = Calendar.from_ical(f.content)
    ev = [c for c in cal.walk() if c.name == "VEVENT"][0]
    assert str(ev["summary"]) == "Hội chợ OCOP Đồng Tháp"
    assert ev.decoded("dtstart") == date(2026, 12, 10) and ev.decoded("dtend") == date(2026, 12, 15)
    assert "Đồng Tháp" in str(ev["location"]) and "30/11/2026" in str(ev["description"])
    assert "không còn" in texts(await core.handle(msg(callback="f:ics:999")))


async def test_officer_adds_fair_in_scope_only(db_url, make_core):
    core = make_core(db_url)
    await add_person(core, "ofx", role="dong_thap")
    steps = ["/themhoicho", "Phiên chợ nông sản", "Huế"]
    for s in steps:
        t = texts(await core.handle(msg(s, user="ofx")))
    assert "không thể thao tác cho Huế" in t
    # each answer is checked at its step; a wrong one is asked again and nothing is lost
    answers = [("Tiền Giang", ""), ("Chợ Sa Đéc", ""), ("32/12/2026", "không có ngày 32"), ("20/12/2026", ""),
               ("19/12/2026", "ngày kết thúc trước ngày bắt đầu"), ("-", ""),
               ("21/12/2026", "hạn đăng ký sau ngày bắt đầu"), ("15/12/2026", ""), ("Sở NN, 0912 345 678", ""),
               ("ftp://x", "http:// hoặc https://"), ("-", ""), ("Mang mẫu sản phẩm", "")]
    for s, error in answers:
        r = await core.handle(msg(s, user="ofx"))
        assert (error in data_of(r, "fairs/bad_value")["error"]) if error else "fairs/bad_value" not in ids(r), (s, r)
    assert ids(r) == ["fairs/confirm"] and data_of(r, "fairs/confirm")["v"]["name"] == "Phiên chợ nông sản"
    r = await core.handle(msg(callback="f:save", user="ofx"))
    assert data_of(r, "fairs/saved")["what"] == "created" and "Đã thêm" in texts(r)      # one copy smoke test
    again = await core.handle(msg(callback="f:save", user="ofx"))                       # a second tap: same answer
    assert (ids(again), texts(again)) == (ids(r), texts(r))
    assert data_of(await core.handle(msg(callback="f:no", user="ofx")), "fairs/saved")["what"] == "created"
    async with core.sessionmaker() as s:
        fair = await s.scalar(select(Fair))
        assert (fair.province, fair.start_date, fair.end_date, fair.registration_deadline) == (
            "dong_thap", date(2026, 12, 20), date(2026, 12, 20), date(2026, 12, 15))
        assert await s.scalar(select(AuditLog.action)) == "fair.add"
        assert await s.scalar(select(func.count()).select_from(Fair)) == 1
    assert "f:del:1" in button_data(await core.handle(msg(callback="f:d:1", user="ofx")))
    assert "Đã xoá" in texts(await core.handle(msg(callback="f:del:1", user="ofx")))


def test_validation_rules():
    today = date(2026, 11, 22)
    ok = check_fair({"name": "A", "province": "Bình Dương", "start_date": "5/12/2026",
                     "target_groups": "thực phẩm; đồ uống"}, today)
    assert ok.errors == [] and ok.values["province"] == "ho_chi_minh" and ok.notes
    assert ok.values["target_groups"] == ["thuc_pham", "do_uong"] and ok.values["end_date"] == date(2026, 12, 5)
    bad = check_fair({"name": "", "province": "Atlantis", "start_date": "5/12/2026", "end_date": "1/12/2026",
                      "registration_deadline": "6/12/2026", "target_groups": "xe máy"}, today)
    text = " | ".join(bad.errors)
    for part in ("thiếu tên", "không nhận ra tỉnh", "kết thúc trước", "hạn đăng ký sau", "nhóm sản phẩm"):
        assert part in text
    assert "thiếu ngày bắt đầu" in check_fair({"name": "A", "province": "Huế"}, today).errors


async def test_deadline_reminders_are_idempotent(db_url, make_core, today):
    core = make_core(db_url)
    await _fairs(core)
    a = await add_person(core, "a", province="dong_thap")
    b = await add_person(core, "b", province="ha_noi")
    c = await add_person(core, "c", province="dong_thap")
    async with core.sessionmaker() as s, s.begin():
        s.add(Subscription(user_id=a, province="dong_thap", groups=[], topics=["hoi_cho"]))
        s.add(Subscription(user_id=b, province="ha_noi", groups=["do_uong"], topics=["hoi_cho"]))
        s.add(Subscription(user_id=c, province="dong_thap", groups=[], topics=["tap_huan"]))
    today.value = date(2026, 11, 24)            # 6 days before the Đồng Tháp deadline (30/11)
    assert (await sweep_job(core)).enqueued == 1
    assert (await sweep_job(core)).enqueued == 0
    today.value = date(2026, 11, 29)            # 1 day before; also within 7 days of Hà Nội's 20/12? no
    assert (await sweep_job(core)).enqueued == 1
    async with core.sessionmaker() as s:
        keys = sorted(await s.scalars(select(Delivery.key)))
        assert keys == [f"fair:1:1:{a}", f"fair:1:7:{a}"]
        assert await s.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "reminder")) == 2


async def test_menu_shows_fairs_and_rounds(sqlite_url, make_core):
    from storage.models import EvaluationRound
    core = make_core(sqlite_url)
    await _fairs(core)
    await add_person(core, "p", province="dong_thap")
    async with core.sessionmaker() as s, s.begin():
        s.add(EvaluationRound(province="Đồng Tháp", name="Đợt 1 năm 2027", registration_deadline=date(2027, 3, 15)))
    replies = await core.handle(msg(callback="m:hoicho", user="p"))
    assert len(replies) == 2 and "Hội chợ OCOP Đồng Tháp" in replies[0].text and "Đợt 1 năm 2027" in replies[1].text
