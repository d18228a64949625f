"""/lienket: link a Telegram and a Zalo account by one-time code (or phone confirmation) and merge them."""
import re
from datetime import date, timedelta

from sqlalchemy import func, select, update

from storage.models import (AuditLog, Certificate, Code, Conversation, Delivery, FlowAnswer, Identity, Role,
                            Subscription, User, utcnow)
from tests.helpers import button_data, msg, texts


def tg(text="", **kw):
    return msg(text, user="t1", channel="telegram", **kw)


def zl(text="", **kw):
    return msg(text, user="z1", channel="zalo", **kw)


def code_of(replies) -> str:
    return re.search(r"Mã liên kết của bạn: <b>([A-Z0-9]{6})</b>", texts(replies)).group(1)


async def _ids(core) -> dict[str, int]:
    async with core.sessionmaker() as s:
        return {f"{c}:{e}": u for c, e, u in (await s.execute(
            select(Identity.channel, Identity.external_id, Identity.user_id))).all()}


async def _seed(core):
    """Two separate users with data on each side."""
    await core.handle(tg("/start"))
    await core.handle(zl("/start"))
    ids = await _ids(core)
    t, z = ids["telegram:t1"], ids["zalo:z1"]
    async with core.sessionmaker() as s, s.begin():
        s.add_all([Subscription(user_id=t, province="Đồng Tháp", groups=["thuc_pham"], topics=["hoi_cho"]),
                   Subscription(user_id=z, province=None, groups=["do_uong"], topics=["hoi_cho", "tap_huan"]),
                   Certificate(owner_user_id=z, product="Mật ong", province="Đồng Tháp", stars=3,
                               recognized_on=date(2025, 1, 1), expires_on=date(2028, 1, 1)),
                   FlowAnswer(user_id=t, flow="hoso", node="group", value="thuc_pham"),
                   FlowAnswer(user_id=z, flow="hoso", node="group", value="do_uong",
                              updated_at=utcnow() + timedelta(minutes=1)),
                   FlowAnswer(user_id=z, flow="hoso", node="stars", value="3"),
                   Role(user_id=z, role="officer", province="Đồng Tháp")])
    return t, z


async def test_link_by_code_merges_everything(db_url, make_core):
    core = make_core(db_url)
    t, z = await _seed(core)
    code = code_of(await core.handle(zl("/lienket")))          # code made on Zalo
    out = await core.handle(tg(f"/lienket {code.lower()}"))    # typed on Telegram (case ignored)
    assert "Đã liên kết tài khoản" in texts(out)
    ids = await _ids(core)
    assert ids["telegram:t1"] == ids["zalo:z1"] == t            # the older user is kept
    async with core.sessionmaker() as s:
        assert await s.get(User, z) is None
        sub = await s.get(Subscription, t)
        assert (sub.province, sub.groups, sub.topics) == ("dong_thap", ["thuc_pham", "do_uong"],
                                                          ["hoi_cho", "tap_huan"])
        assert await s.scalar(select(func.count()).select_from(Subscription)) == 1
        assert (await s.scalar(select(Certificate))).owner_user_id == t
        answers = {a.node: a.value for a in await s.scalars(select(FlowAnswer).where(FlowAnswer.user_id == t))}
        assert answers == {"group": "do_uong", "stars": "3"}          # the newer answer wins
        assert (await s.scalar(select(Role))).user_id == t
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "link_accounts"))
        assert audit.detail["merged_user"] == z and audit.detail["channels"] == ["telegram", "zalo"]
        assert (await s.get(Code, code)).used_at is not None
    # the merged person keeps working on both channels
    assert "OCOP" in texts(await core.handle(zl("/start"))) and "OCOP" in texts(await core.handle(tg("/start")))
    assert len(set((await _ids(core)).values())) == 1


async def test_code_typed_in_the_waiting_step(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await _seed(core)
    code = code_of(await core.handle(tg("/lienket")))
    await core.handle(zl("/lienket"))                           # Zalo side also asked: now waiting
    out = await core.handle(zl(f"{code[:3]} {code[3:]}"))
    assert "Đã liên kết" in texts(out)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_bad_codes_are_polite_and_change_nothing(db_url, make_core):
    core = make_core(db_url)
    await _seed(core)
    before = await _ids(core)
    assert "không đúng" in texts(await core.handle(zl("/lienket ABCDEF")))
    own = code_of(await core.handle(tg("/lienket")))
    assert "chính tài khoản" in texts(await core.handle(tg(f"/lienket {own}")))
    code = code_of(await core.handle(tg("/lienket")))
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(Code).where(Code.code == code).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert "hết hạn" in texts(await core.handle(zl(f"/lienket {code}")))
    await core.handle(msg("/start", user="t2", channel="telegram"))
    code2 = code_of(await core.handle(tg("/lienket")))          # t1 made it; t2 is also Telegram
    assert "không liên kết thêm" in texts(await core.handle(msg(f"/lienket {code2}", user="t2", channel="telegram")))
    assert await _ids(core) == before | {"telegram:t2": (await _ids(core))["telegram:t2"]}


async def test_code_works_once(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await _seed(core)
    code = code_of(await core.handle(zl("/lienket")))
    assert "Đã liên kết" in texts(await core.handle(tg(f"/lienket {code}")))
    await core.handle(msg("/start", user="t9", channel="telegram"))
    assert "đã được dùng" in texts(await core.handle(msg(f"/lienket {code}", user="t9", channel="telegram")))
    # a second Telegram account cannot be linked to the already linked person
    other = code_of(await core.handle(msg("/lienket", user="t9", channel="telegram")))
    assert "không liên kết thêm" in texts(await core.handle(zl(f"/lienket {other}")))
    assert len(set((await _ids(core)).values())) == 2


async def test_waiting_step_lets_a_question_through(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(zl("/lienket"))
    out = await core.handle(zl("Hồ sơ OCOP gồm những gì?"))
    assert "Mã" not in texts(out)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_same_phone_gets_a_confirmation_button(db_url, make_core):
    core = make_core(db_url)
    t, z = await _seed(core)
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(User).values(phone="0912345678"))
    out = await core.handle(tg("/lienket"))
    assert "cùng số điện thoại" in texts(out)
    async with core.sessionmaker() as s:
        row = await s.scalar(select(Delivery))
    assert (row.channel, row.chat_id) == ("zalo", "z1")
    ok = [b["data"] for line in row.payload["buttons"] for b in line if b["data"].startswith("lk:ok:")][0]
    assert "Đã liên kết" in texts(await core.handle(zl(callback=ok)))
    async with core.sessionmaker() as s:
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "link_accounts"))
        assert audit.detail["via"] == "phone"
    assert len(set((await _ids(core)).values())) == 1


async def test_declining_the_phone_confirmation(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await _seed(core)
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(User).values(phone="0912345678"))
    code = code_of(await core.handle(tg("/lienket")))
    assert "bỏ qua" in texts(await core.handle(zl(callback=f"lk:no:{code}")))
    assert "đã được dùng" in texts(await core.handle(zl(f"/lienket {code}")))
    assert len(set((await _ids(core)).values())) == 2
    assert "lk:ok:" not in " ".join(button_data(await core.handle(zl("/start"))))
