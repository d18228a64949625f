"""A broadcast composed in a real browser (Playwright + Debian's Chromium) to fake Telegram users.

The officer signs in from the bot's link, composes a message to a segment while the recipient count
follows the filters, previews it, sends a test to themself, sends it, watches the progress reach 100 %
and downloads the unreached CSV (a producer who blocked the bot, and a register entry with a phone).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from sqlalchemy import select

from storage.models import Certificate, Identity, Role, User
from tests.web.browser import CHROMIUM, console_bot, shot

OFFICER = 4242
PRODUCERS = {5001: "cao_bang", 5002: "cao_bang", 5003: "cao_bang", 5004: "dong_thap"}


@pytest.fixture
async def bot(make_settings, sqlite_url, today):
    async with console_bot(make_settings, sqlite_url, worker=True) as (tg, rt, base):
        yield tg, rt


async def _world(tg, rt) -> None:
    for chat in (OFFICER, *PRODUCERS):
        tg.push_command(chat, "start")
        await tg.wait_sent(1, chat_id=chat, timeout=15)
    async with rt.core.sessionmaker() as s:
        users = {int(e): u for e, u in await s.execute(select(Identity.external_id, Identity.user_id))}
        s.add(Role(user_id=users[OFFICER], role="officer", province="cao_bang"))
        for chat, prov in PRODUCERS.items():
            (await s.get(User, users[chat])).province = prov
        s.add(Certificate(owner_user_id=users[5002], product="Miến dong", producer="HTX Miến", province="Cao Bằng",
                          group="thuc_pham", stars=4, decision_no="1/QĐ", recognized_on=date(2025, 1, 5),
                          expires_on=date(2028, 1, 5)))
        s.add(Certificate(product="Trà hoa vàng", producer="Hộ bà Lý", phone="0912000111", province="Cao Bằng",
                          group="do_uong", stars=3, decision_no="2/QĐ", recognized_on=date(2025, 2, 1),
                          expires_on=date(2028, 2, 1)))
        await s.commit()
    tg.block(5003)                         # blocked the bot since: the send answers 403


async def test_compose_send_watch_progress_and_download_csv(bot):
    tg, rt = bot
    await _world(tg, rt)
    before = len(tg.sent_to(OFFICER))
    tg.push_command(OFFICER, "quantri")
    sent = (await tg.wait_sent(before + 1, chat_id=OFFICER, timeout=15))[-1]
    link = re.search(r"http://127\.0\.0\.1:\d+/quantri/dang-nhap/[\w-]+", sent.text).group(0)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            await page.goto(link)
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url("**/quantri/")
            await page.get_by_role("link", name="Thông báo").click()
            await page.get_by_role("link", name="Soạn thông báo").click()
            count = page.locator("#recipient-count")
            await expect(count).to_have_text("3")
            await expect(page.locator("#noroute-count")).to_have_text("1")
            await page.get_by_label("4 sao").check()
            await expect(count).to_have_text("1")
            await page.get_by_label("4 sao").uncheck()
            await expect(count).to_have_text("3")
            await page.fill("#text", "Chào {{ ten }}, hội chợ OCOP {{ tinh }} mở đăng ký")
            await page.get_by_role("button", name="Xem trước").click()
            assert "hội chợ OCOP Cao Bằng mở đăng ký" in await page.locator(".preview").inner_text()
            assert await count.inner_text() == "3"
            await shot(page, "10-thong-bao-soan")
            n = len(tg.sent_to(OFFICER))
            await page.get_by_role("button", name="Gửi thử cho tôi").click()
            await page.wait_for_selector(".banner-ok")
            test = (await tg.wait_sent(n + 1, chat_id=OFFICER, timeout=15))[-1]
            assert "hội chợ OCOP" in test.text
            await page.get_by_role("button", name="Gửi ngay").click()
            await page.wait_for_url(re.compile(r".*/quantri/thong-bao/\d+$"))
            await expect(page.locator("#progress-pct")).to_have_text("100 %", timeout=30000)
            await expect(page.locator("#report td[data-total=delivered]")).to_have_text("2", timeout=15000)
            assert await page.locator("#report td[data-total=blocked]").inner_text() == "1"
            assert await page.locator("#report td[data-total=no_route]").inner_text() == "1"
            await shot(page, "11-thong-bao-ket-qua")
            async with page.expect_download() as info:
                await page.get_by_role("link", name=re.compile("Tải CSV người chưa nhận")).click()
            data = Path(await (await info.value).path()).read_bytes()
        finally:
            await browser.close()
    for chat in (5001, 5002):
        assert any("hội chợ OCOP Cao Bằng" in m.text for m in tg.sent_to(chat))
    assert not any("hội chợ OCOP" in m.text for m in tg.sent_to(5004))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted((r["trang_thai"], r["so_dien_thoai"]) for r in rows) == [("blocked", ""), ("no_route", "0912000111")]
    assert {r["tinh"] for r in rows} == {"Cao Bằng"}
