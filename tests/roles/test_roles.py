"""/capquyen, /thuhoiquyen: admins only, scoped, audited; the grantee is told through the delivery path."""
from sqlalchemy import select

from storage.models import AuditLog, Delivery, Role
from tests.helpers import msg, texts
from tests.people import add_person


async def test_admin_grants_province_role_with_old_name(db_url, make_core):
    core = make_core(db_url)
    await add_person(core, "admin")
    uid = await add_person(core, "p1")
    t = texts(await core.handle(msg(f"/capquyen u{uid} Tiền Giang", user="admin")))
    assert "Đồng Tháp" in t and "Tiền Giang nay thuộc tỉnh Đồng Tháp" in t
    async with core.sessionmaker() as s:
        role = await s.scalar(select(Role))
        assert (role.user_id, role.province, role.revoked_at) == (uid, "dong_thap", None)
        log = await s.scalar(select(AuditLog))
        assert log.action == "role.grant" and log.detail["target_user_id"] == uid
        d = await s.scalar(select(Delivery))
        assert d.key == f"role:{role.id}:granted"
    again = texts(await core.handle(msg(f"/capquyen u{uid} Đồng Tháp", user="admin")))
    assert "đã là cán bộ" in again


async def test_national_grant_and_revoke(db_url, make_core):
    core = make_core(db_url)
    uid = await add_person(core, "p1")
    await core.handle(msg("/capquyen console:p1 toàn quốc", user="admin"))
    t = texts(await core.handle(msg(f"/thuhoiquyen u{uid}", user="admin")))
    assert "Đã thu hồi" in t and "toàn quốc" in t
    async with core.sessionmaker() as s:
        role = await s.scalar(select(Role))
        assert role.province is None and role.revoked_at is not None
        actions = list(await s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
        assert actions == ["role.grant", "role.revoke"]
    assert "không có quyền" in texts(await core.handle(msg(f"/thuhoiquyen u{uid}", user="admin")))


async def test_bad_input_changes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    uid = await add_person(core, "p1")
    assert "Không tìm thấy" in texts(await core.handle(msg("/capquyen u999 Huế", user="admin")))
    assert "Không nhận ra tỉnh" in texts(await core.handle(msg(f"/capquyen u{uid} Atlantis", user="admin")))
    assert "Cách dùng" in texts(await core.handle(msg("/capquyen", user="admin")))
    async with core.sessionmaker() as s:
        assert await s.scalar(select(Role)) is None


async def test_my_id(sqlite_url, make_core):
    core = make_core(sqlite_url)
    uid = await add_person(core, "p1")
    assert f"u{uid}" in texts(await core.handle(msg("/maso", user="p1")))
