"""The console in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

1. an officer gets the sign-in link from the bot through the fake Telegram server and signs in;
2. imports a file with errors, sees them marked, fixes the file and imports it;
3. opens the report and downloads the XLSX (checked with openpyxl).
Screenshots at 1280 px and 390 px go to out/screenshots/ (ignored by git).
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from storage.models import Identity, Role
from tests.web.browser import CHROMIUM, SHOTS, console_bot, shot  # noqa: F401 (re-exported)

CHAT = 4242
HEADER = "Tên sản phẩm,Chủ thể,Xã/phường,Tỉnh/thành,Nhóm,Số sao,Số quyết định,Ngày công nhận,Loại hình chủ thể,Hình thức"
ROWS = ["Miến dong Nguyên Bình,HTX Miến dong,Xã Nguyên Bình,Cao Bằng,Thực phẩm,{s},12/QĐ-UBND,5/3/2025,HTX,mới",
        "Trà Giảo,Hộ bà Hoa,Xã Trà Lĩnh,Cao Bằng,Đồ uống,3,12/QĐ-UBND,{d},Hộ kinh doanh,Đánh giá lại",
        "Hạt dẻ Trùng Khánh,HTX Hạt dẻ,Xã Trùng Khánh,Cao Bằng,Thực phẩm,5,40/QĐ-BNN,1/6/2026,HTX,nâng hạng"]


@pytest.fixture
async def bot_with_console(make_settings, sqlite_url, today):
    async with console_bot(make_settings, sqlite_url, worker=False) as (tg, rt, base):
        yield tg, rt


async def test_officer_signs_in_imports_and_downloads_the_report(bot_with_console, tmp_path):
    tg, rt = bot_with_console
    tg.push_command(CHAT, "start")
    await tg.wait_sent(1, chat_id=CHAT, timeout=15)
    async with rt.core.sessionmaker() as s:                 # an admin granted the officer role
        uid = await s.scalar(select(Identity.user_id).where(Identity.external_id == str(CHAT)))
        s.add(Role(user_id=uid, role="officer", province="cao_bang"))
        await s.commit()
    before = len(tg.sent_to(CHAT))
    tg.push_command(CHAT, "quantri")
    sent = (await tg.wait_sent(before + 1, chat_id=CHAT, timeout=15))[-1]
    link = re.search(r"http://127\.0\.0\.1:\d+/quantri/dang-nhap/[\w-]+", sent.text).group(0)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            # (1) sign in from the link
            await page.goto(link)
            await shot(page, "01-dang-nhap")
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url("**/quantri/")
            assert "Tổng quan" in await page.locator("h1").inner_text()
            # (2) a file with errors, marked; then the fixed file
            bad = tmp_path / "danh-sach.csv"
            bad.write_text("\n".join([HEADER, ROWS[0].format(s=7), ROWS[1].format(d="31/2/2025"), ROWS[2].format()]))
            await page.get_by_role("link", name="Nhập danh sách").click()
            await shot(page, "02-nhap")
            await page.set_input_files("input[type=file]", str(bad))
            await page.get_by_role("button", name="Kiểm tra tệp").click()
            await page.wait_for_selector(".banner-error")
            assert await page.locator("td.bad").count() == 2
            assert "số sao «7»" in await page.locator("td.bad").first.inner_text()
            await shot(page, "03-nhap-loi")
            await page.get_by_role("link", name="Chỉ hiện các dòng có lỗi").click()
            assert await page.locator("tbody tr").count() == 2
            await page.get_by_role("link", name="Tải lên tệp khác").click()
            good = tmp_path / "danh-sach-da-sua.csv"
            good.write_text("\n".join([HEADER, ROWS[0].format(s=4), ROWS[1].format(d="28/2/2025"), ROWS[2].format()]))
            await page.set_input_files("input[type=file]", str(good))
            await page.get_by_role("button", name="Kiểm tra tệp").click()
            await page.wait_for_selector(".banner-ok")
            await shot(page, "04-nhap-hop-le")
            await page.get_by_role("button", name=re.compile("Xác nhận nhập 3 dòng")).click()
            await page.wait_for_selector("text=Đã nhập")
            # the register and a product page
            await page.get_by_role("link", name="Sản phẩm", exact=True).click()
            await page.fill("#q", "mien dong")
            await page.get_by_role("button", name="Lọc").click()
            assert await page.locator("tbody tr").count() == 1
            await page.goto(page.url.split("?")[0])
            await shot(page, "05-san-pham")
            await page.get_by_role("link", name="Hạt dẻ Trùng Khánh").click()
            await page.get_by_role("button", name="Tạo mã nhận").click()
            await page.wait_for_selector(".claim .code")
            await shot(page, "06-san-pham-chi-tiet")
            await page.get_by_role("link", name="Tổng quan").click()
            await shot(page, "07-tong-quan")
            # (3) the report, a target, and its XLSX
            await page.get_by_role("link", name="Báo cáo").click()
            await page.fill("#label", "Kế hoạch 2026")
            await page.fill("#due_on", "2026-12-31")
            await page.fill("#target", "2")
            await page.select_option("#stars", "4")
            await page.get_by_role("button", name="Thêm chỉ tiêu").click()
            await page.wait_for_selector("text=Kế hoạch 2026")
            await shot(page, "08-bao-cao")
            async with page.expect_download() as info:
                await page.get_by_role("link", name="Tải Excel (.xlsx)").click()
            download = await info.value
            data = Path(await download.path()).read_bytes()
            await page.emulate_media(media="print")
            await page.screenshot(path=str(SHOTS / "09-bao-cao-in-1280.png"), full_page=True)
        finally:
            await browser.close()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert len(wb.worksheets) == 10
    rows = list(wb["Sao theo nhóm"].iter_rows(values_only=True))
    assert rows[-1] == ("Tổng", 1, 1, 1, 3)
    target = list(wb["Chỉ tiêu và kết quả"].iter_rows(values_only=True))[1]
    assert target[1] == "Kế hoạch 2026" and target[4:] == (2, 1, "50.0%")
