"""Permission matrix: admin / officer of X / officer of Y / national officer / producer, for every
officer action. Refusals are polite and change nothing."""
import pytest
from sqlalchemy import func, select

from storage.models import AuditLog, Broadcast, Fair, OfficerQuestion, Role
from tests.helpers import msg, texts
from tests.people import add_person

PEOPLE = ["admin", "ofx", "ofy", "ofn", "prod"]
REFUSED = "chỉ dành cho"
OTHER = "không thể thao tác"


async def _world(core):
    await add_person(core, "admin")
    await add_person(core, "ofx", role="dong_thap")
    await add_person(core, "ofy", role="hue")
    await add_person(core, "ofn", role="national")
    prod = await add_person(core, "prod", province="dong_thap")
    target = await add_person(core, "target")
    async with core.sessionmaker() as s, s.begin():
        s.add(OfficerQuestion(user_id=prod, province="dong_thap", question="Câu hỏi Đồng Tháp"))
    return target


async def _count(core, model, *where):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("who,allowed", [("admin", True), ("ofx", False), ("ofy", False), ("ofn", False),
                                         ("prod", False)])
async def test_grant_and_revoke_admin_only(sqlite_url, make_core, who, allowed):
    core = make_core(sqlite_url)
    target = await _world(core)
    t = texts(await core.handle(msg(f"/capquyen u{target} Huế", user=who)))
    t2 = texts(await core.handle(msg(f"/thuhoiquyen u{target}", user=who)))
    granted = await _count(core, Role, Role.user_id == target)
    assert granted == (1 if allowed else 0)
    assert (REFUSED in t and REFUSED in t2) != allowed
    assert await _count(core, AuditLog) == (2 if allowed else 0)


@pytest.mark.parametrize("who,outcome", [("admin", "ok"), ("ofx", "ok"), ("ofy", "other"), ("ofn", "ok"),
                                         ("prod", "refused")])
async def test_broadcast_to_dong_thap(sqlite_url, make_core, who, outcome):
    core = make_core(sqlite_url)
    await _world(core)
    t = texts(await core.handle(msg("/thongbao", user=who)))
    if outcome == "refused":
        assert REFUSED in t
        assert REFUSED in texts(await core.handle(msg(callback="bc:now", user=who)))
    else:
        await core.handle(msg("Tin", user=who))
        t = texts(await core.handle(msg(callback="bc:p:dong_thap", user=who)))
        if outcome == "other":
            assert OTHER in t
        else:
            await core.handle(msg(callback="bc:now", user=who))
    assert await _count(core, Broadcast) == (1 if outcome == "ok" else 0)
    assert await _count(core, AuditLog, AuditLog.action == "broadcast.send") == (1 if outcome == "ok" else 0)


@pytest.mark.parametrize("who,outcome", [("admin", "ok"), ("ofx", "ok"), ("ofy", "other"), ("ofn", "ok"),
                                         ("prod", "refused")])
async def test_add_fair_in_dong_thap(sqlite_url, make_core, who, outcome):
    core = make_core(sqlite_url)
    await _world(core)
    t = ""
    for step in ["/themhoicho", "Chợ phiên", "Đồng Tháp", "-", "20/12/2026", "-", "-", "-", "-", "-"]:
        t = texts(await core.handle(msg(step, user=who)))
        if OTHER in t or REFUSED in t:
            break
    if outcome == "ok":
        t = texts(await core.handle(msg(callback="f:save", user=who)))
    assert (REFUSED in t) == (outcome == "refused") and (OTHER in t) == (outcome == "other")
    assert await _count(core, Fair) == (1 if outcome == "ok" else 0)
    assert await _count(core, AuditLog, AuditLog.action == "fair.add") == (1 if outcome == "ok" else 0)


@pytest.mark.parametrize("who,outcome", [("admin", "ok"), ("ofx", "ok"), ("ofy", "other"), ("ofn", "ok"),
                                         ("prod", "refused")])
async def test_answer_dong_thap_question(sqlite_url, make_core, who, outcome):
    core = make_core(sqlite_url)
    await _world(core)
    listing = texts(await core.handle(msg("/cauhoi", user=who)))
    assert ("Câu hỏi Đồng Tháp" in listing) == (outcome == "ok")
    t = texts(await core.handle(msg(callback="q:a:1", user=who)))
    if outcome == "ok":
        t = texts(await core.handle(msg("Trả lời", user=who)))
    assert (REFUSED in t) == (outcome == "refused") and (OTHER in t) == (outcome == "other")
    assert await _count(core, OfficerQuestion, OfficerQuestion.status == "answered") == (1 if outcome == "ok" else 0)


@pytest.mark.parametrize("who,allowed", [("admin", True), ("ofx", True), ("ofy", False), ("ofn", True),
                                         ("prod", False)])
async def test_cancel_broadcast_of_officer_x(sqlite_url, make_core, who, allowed):
    core = make_core(sqlite_url)
    await _world(core)
    await core.handle(msg("/thongbao", user="ofx"))
    await core.handle(msg("Tin", user="ofx"))
    await core.handle(msg(callback="bc:now", user="ofx"))
    t = texts(await core.handle(msg(callback="bc:cancel:1", user=who)))
    assert ("Đã huỷ" in t) == allowed
    async with core.sessionmaker() as s:
        assert ((await s.get(Broadcast, 1)).status == "cancelled") == allowed
