"""The call list in the bot (/canlienhe, province-scoped, "đã gọi") and from the command line;
file links /tep/<token> for Zalo users."""
import asyncio
import csv
import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from aiohttp import ClientSession, web
from sqlalchemy import select

from core.messages import OutFile
from core.reminders import sweep
from storage.models import AuditLog, CallListEntry, Role, User
from tests.helpers import button_data, msg, texts
from tests.products.util import add_cert, add_user

ROOT = Path(__file__).resolve().parents[2]
EXP = date(2027, 3, 5)


async def _seed_call_list(core):
    async with core.sessionmaker() as s, s.begin():
        await add_cert(s, None, product="Mắm tép", decision="1/QĐ", province="Đồng Tháp", phone="0912345678")
        await add_cert(s, None, product="Trà sen", decision="2/QĐ", province="Cà Mau")
        officer = await add_user(s, "ct_officer")
        s.add(Role(user_id=officer.id, role="officer", province="Cà Mau"))
    async with core.sessionmaker() as s, s.begin():
        await sweep(s, core.settings, EXP - timedelta(days=210))


async def test_canlienhe_is_province_scoped_and_records_called(db_url, make_core):
    core = make_core(db_url, round_offsets=())
    await _seed_call_list(core)
    r = await core.handle(msg("/canlienhe", user="nobody"))
    assert "chỉ dành cho" in texts(r)
    r = await core.handle(msg("/canlienhe", user="admin"))          # admin: national scope
    assert "Mắm tép" in texts(r) and "Trà sen" in texts(r) and "0912345678" in texts(r)
    r = await core.handle(msg("/canlienhe", user="ct_officer"))     # Cà Mau only
    assert "Trà sen" in texts(r) and "Mắm tép" not in texts(r)
    async with core.sessionmaker() as s:
        rows = {c.product: c for c in await s.scalars(select(CallListEntry))}
    assert rows["Mắm tép"].reason == "zns_off" and rows["Trà sen"].reason == "no_route"
    # an officer of Cà Mau cannot close a Đồng Tháp row; closing their own is recorded
    r = await core.handle(msg(callback=f"cl:done:{rows['Mắm tép'].id}", user="ct_officer"))
    assert "không còn trong danh sách" in texts(r)
    assert f"cl:done:{rows['Trà sen'].id}" in button_data(r)
    r = await core.handle(msg(callback=f"cl:done:{rows['Trà sen'].id}", user="ct_officer"))
    assert "Đã ghi nhận" in texts(r) and "Trà sen" not in texts(r).split("Đã ghi nhận")[1]
    async with core.sessionmaker() as s:
        done = await s.get(CallListEntry, rows["Trà sen"].id)
        officer = await s.scalar(select(User).where(User.display_name == "ct_officer"))
        assert done.called_at is not None and done.called_by == officer.id
        assert await s.scalar(select(AuditLog).where(AuditLog.action == "call_list_called")) is not None
    r = await core.handle(msg(callback="cl:csv", user="admin"))
    rows_csv = list(csv.reader(io.StringIO(r[0].file.content.decode("utf-8-sig"))))
    assert rows_csv[0][3] == "sản phẩm" and [x[3] for x in rows_csv[1:]] == ["Mắm tép"]


async def test_call_list_command_writes_csv_and_xlsx(sqlite_url, make_core, tmp_path):
    core = make_core(sqlite_url, round_offsets=())
    await _seed_call_list(core)
    env = {"DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": ""}
    import os
    env = {**os.environ, **env}
    run = lambda *a: subprocess.run([sys.executable, str(ROOT / "bot.py"), *a], capture_output=True, text=True,  # noqa: E731
                                    env=env, timeout=120)
    res = await asyncio.to_thread(run, "call-list", "--province", "Cà Mau")
    assert res.returncode == 0, res.stderr
    lines = list(csv.reader(io.StringIO(res.stdout)))
    assert [x[3] for x in lines[1:]] == ["Trà sen"] and lines[1][8] == "no_route"
    out = tmp_path / "goi.xlsx"
    res = await asyncio.to_thread(run, "call-list", "--out", str(out))
    assert res.returncode == 0 and "2 chủ thể" in res.stderr
    from openpyxl import load_workbook
    ws = load_workbook(out).active
    assert sorted(ws.cell(row=i, column=4).value for i in (2, 3)) == ["Mắm tép", "Trà sen"]
    assert (await asyncio.to_thread(run, "call-list", "--province", "Không Có")).returncode == 1


async def test_file_link_serves_only_that_file_for_seven_days(sqlite_url, make_core, today):
    from handlers.reach import web as reach_web
    from handlers.reach.files import share_link
    core = make_core(sqlite_url, public_url="http://127.0.0.1:1")
    async with core.sessionmaker() as s, s.begin():
        u = await add_user(s, "zalo_user", channel="zalo")
        url = await share_link(s, core.settings, u.id, OutFile("danh-muc-ho-so.pdf", b"%PDF-1.4 test", "application/pdf"))
    token = url.rsplit("/", 1)[1]
    assert url.startswith("http://127.0.0.1:1/tep/") and len(token) >= 40
    app = web.Application()
    reach_web.add_routes(app, core.settings, core.sessionmaker)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with ClientSession() as http:
            async with http.get(f"{base}/tep/{token}") as resp:
                assert resp.status == 200 and await resp.read() == b"%PDF-1.4 test"
                assert "danh-muc-ho-so.pdf" in resp.headers["Content-Disposition"]
            async with http.get(f"{base}/tep/{token[:-1]}x") as resp:
                assert resp.status == 404
            today.value = date(2026, 11, 30)                  # 8 days later
            async with http.get(f"{base}/tep/{token}") as resp:
                assert resp.status == 404 and "7 ngày" in await resp.text()
    finally:
        await runner.cleanup()
