"""bot.py web-login, bot.py web, and the importer's optional report columns."""
import asyncio
import os
import re
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

from handlers.products.importer import COLUMNS, REQUIRED, validate
from core.tabular import read_table
from tests.telegram.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
HEAD = "Tên sản phẩm,Tỉnh,Nhóm,Số sao,Số QĐ,Ngày công nhận"


def rows(csv_text):
    got, errors = read_table(csv_text.encode(), "x.csv", COLUMNS, REQUIRED)
    assert not errors
    return validate(got, date(2026, 11, 22))


def test_optional_columns_are_read_and_checked():
    good, errors, _ = rows(HEAD + ",Loại hình chủ thể,Hình thức,Ngày thu hồi\n"
                           "A,Cao Bằng,Thực phẩm,3,1/QĐ,5/3/2024,Hợp tác xã,Đánh giá lại,\n"
                           "B,Cao Bằng,Thực phẩm,4,2/QĐ,5/3/2024,Tổ hợp tác,Nâng hạng sao,1/9/2026\n"
                           "C,Cao Bằng,Thực phẩm,4,3/QĐ,5/3/2024,Công ty TNHH Sao Mai,mới,\n"
                           "D,Cao Bằng,Thực phẩm,4,4/QĐ,5/3/2024,hộ,lần đầu,\n"
                           "E,Cao Bằng,Thực phẩm,4,5/QĐ,5/3/2024,câu lạc bộ,xyz,1/1/2020\n")
    assert [(c.product, c.producer_type, c.recognition_kind, c.revoked_on) for c in good] == [
        ("A", "htx", "reeval", None), ("B", "tht", "upgrade", date(2026, 9, 1)), ("C", "dn", "new", None),
        ("D", "hkd", "new", None)]
    assert {e.field for e in errors} == {"producer_type", "recognition_kind", "revoked_on"}
    assert all(e.line == 6 for e in errors)


def test_files_without_the_new_columns_keep_working():
    good, errors, _ = rows(HEAD + "\nA,Cao Bằng,Thực phẩm,3,1/QĐ,5/3/2024\n")
    assert not errors and good[0].producer_type is None and good[0].revoked is None


async def test_web_login_prints_a_link_only_for_officers(console):
    from cli.web import _web_login
    uid = await console.person("officer")
    await console.person("none")
    settings = console.core.settings
    ext = str(console._ext - 1)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", "web-login", "--user", f"telegram:{ext}", cwd=ROOT,
        env={**os.environ, "DATABASE_URL": settings.database_url, "PUBLIC_URL": "https://ocop.example"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, _err = await proc.communicate()
    assert proc.returncode == 0
    link = out.decode().strip()
    assert re.fullmatch(r"https://ocop\.example/quantri/dang-nhap/[\w-]+", link), link
    r = await console.post("/quantri/dang-nhap/" + link.rsplit("/", 1)[1], csrf=False)
    assert r.status == 303
    assert await _web_login(f"telegram:{console._ext}", settings) == 1          # not an officer
    assert await _web_login("telegram:424242", settings) == 1                   # never used the bot
    assert uid


async def test_bot_py_web_serves_the_console_without_a_channel(sqlite_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port),
           "TELEGRAM_BOT_TOKEN": "", "ZALO_MODE": ""}
    proc = subprocess.Popen([sys.executable, "bot.py", "web"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        from aiohttp import ClientSession
        async with ClientSession() as http:
            for _ in range(1200):              # start-up includes migrations; slow shared machines
                try:
                    async with http.get(f"http://127.0.0.1:{port}/quantri/", allow_redirects=False) as r:
                        status, body = r.status, await r.text()
                        break
                except OSError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError(proc.stderr.read() if proc.poll() is not None else "no answer")
        assert status == 401 and "/quantri" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30)
    assert code == 0
