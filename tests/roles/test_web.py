"""«Cán bộ» and «Nhật ký»: grant/revoke as /capquyen does (admins only), scope, CSRF, log filters, safe CSV."""
import csv
import io

from sqlalchemy import select

from core.audit import audit
from storage.models import AuditLog, Delivery, Role
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)


async def test_grant_revoke_and_scope(console):
    core = console.core
    dt = await console.person("officer", "dong_thap", name="Cán bộ Đồng Tháp")
    target = await console.person("none", name="Người mới")
    await console.as_("officer", "cao_bang")
    body = await (await console.get("/quantri/can-bo")).text()
    assert "Cán bộ Đồng Tháp" not in body and "Cấp quyền" not in body
    # not an admin: refused, nothing changes
    assert (await console.post("/quantri/can-bo", {"who": f"u{target}", "scope": "cao_bang"})).status == 403
    async with core.sessionmaker() as s:
        role_dt = await s.scalar(select(Role).where(Role.user_id == dt))
    assert (await console.post(f"/quantri/can-bo/{role_dt.id}/thu-hoi", {})).status == 403
    await console.as_("admin")
    for bad, why in (({"who": "u99999", "scope": "cao_bang"}, "Không tìm thấy"),
                     ({"who": f"u{target}", "scope": "khong-co"}, "Hãy chọn")):
        r = await console.post("/quantri/can-bo", bad)
        assert r.status == 400 and why in await r.text()
    assert (await console.post("/quantri/can-bo", {"who": f"u{target}", "scope": "cao_bang"}, csrf=False)).status == 403
    r = await console.post("/quantri/can-bo", {"who": f"u{target}", "scope": "cao_bang"})
    assert r.status == 303
    async with core.sessionmaker() as s:
        role = await s.scalar(select(Role).where(Role.user_id == target))
        assert role.province == "cao_bang" and role.revoked_at is None
        assert (await s.scalar(select(Delivery))).key == f"role:{role.id}:granted"    # told as /capquyen does
    r = await console.post("/quantri/can-bo", {"who": f"u{target}", "scope": "cao_bang"})
    assert r.status == 400 and "đã có quyền" in await r.text()
    assert (await console.post(f"/quantri/can-bo/{role.id}/thu-hoi", {})).status == 303
    async with core.sessionmaker() as s:
        assert (await s.get(Role, role.id)).revoked_at is not None
        assert {"role.grant", "role.revoke"} <= set(await s.scalars(select(AuditLog.action)))


async def test_audit_log_filters_scope_and_csv(console):
    core = console.core
    dt = await console.person("officer", "dong_thap", name="Cán bộ Đồng Tháp")
    cb = await console.as_("officer", "cao_bang")
    async with core.sessionmaker() as s:
        await audit(s, dt, "fair.delete", name="Hội chợ Đồng Tháp")
        await audit(s, cb, "fair.web_save", name="=HYPERLINK(\"http://x\")")
        await s.commit()
    body = await (await console.get("/quantri/nhat-ky")).text()
    assert "fair.web_save" in body and "Hội chợ Đồng Tháp" not in body
    r = await console.get("/quantri/nhat-ky?tu=99/99/2026")
    assert r.status == 400 and "không đúng" in await r.text()
    await console.as_("national")
    body = await (await console.get("/quantri/nhat-ky?viec=fair.delete")).text()
    assert "Hội chợ Đồng Tháp" in body and "HYPERLINK" not in body
    assert "Hội chợ Đồng Tháp" in await (await console.get(f"/quantri/nhat-ky?ai=u{dt}")).text()
    assert "Hội chợ Đồng Tháp" not in await (await console.get("/quantri/nhat-ky?tu=23/11/2026")).text()
    r = await console.get("/quantri/nhat-ky.csv?viec=fair")
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert rows[0][3] == "Việc" and len(rows) == 3
    assert all(not c.startswith(("=", "+", "-", "@")) for row in rows[1:] for c in row)
