"""Open incidents appear on the console's overview for administrators (not for provincial officers)."""
from core.ops import alerts
from tests.web.conftest import sqlite_console  # noqa: F401 (fixture)


async def test_overview_lists_open_incidents_for_admins(sqlite_console):  # noqa: F811
    console = sqlite_console
    core = console.core
    await alerts.alert(core.sessionmaker, core.settings, "job_failed", "reminder_sweep", "lỗi <khoá> cơ sở dữ liệu")
    await console.as_("admin", None)
    body = await (await console.get("/quantri/")).text()
    assert "Sự cố vận hành đang mở (1)" in body and "reminder_sweep" in body
    assert "lỗi &lt;khoá&gt; cơ sở dữ liệu" in body                   # escaped once, shown as typed
    await alerts.resolve(core.sessionmaker, "job_failed", "reminder_sweep")
    assert "Sự cố vận hành" not in await (await console.get("/quantri/")).text()
    await alerts.alert(core.sessionmaker, core.settings, "queue_stale", "deliveries", "ứ")
    await console.as_("officer", "cao_bang")
    body = await (await console.get("/quantri/")).text()
    assert "Tổng quan" in body and "Sự cố vận hành" not in body
