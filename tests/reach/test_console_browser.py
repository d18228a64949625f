"""«Gọi điện» in a real browser (Playwright + /usr/bin/chromium): an officer opens the call list, marks
a producer called with a note, and sees the row leave the open list (and the menu count drop)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from core.web import auth
from storage.models import CallListEntry, Identity, Role, User
from tests.web.browser import CHROMIUM, console_bot
from tests.reach.test_console import seed

SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture
async def running(make_settings, sqlite_url, today):
    async with console_bot(make_settings, sqlite_url, worker=False) as (tg, rt, base):
        yield rt, base


async def _officer_link(core, base: str) -> str:
    async with core.sessionmaker() as s:
        u = User(display_name="Cán bộ Cao Bằng")
        s.add(u)
        await s.flush()
        s.add(Identity(user_id=u.id, channel="telegram", external_id="4343", chat_id="4343"))
        s.add(Role(user_id=u.id, role="officer", province="cao_bang"))
        token = await auth.create_login_token(s, u.id)
        await s.commit()
    return f"{base}/quantri/dang-nhap/{token}"


async def test_officer_marks_a_producer_called_in_the_browser(running):
    rt, base = running
    ids = await seed(rt.core)
    link = await _officer_link(rt.core, base)
    target = ids[("Trà Giảo", "no_route")]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(link)
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url("**/quantri/")
            nav = page.get_by_role("link", name="Gọi điện")
            assert (await nav.locator(".badge").inner_text()) == "3"
            await nav.click()
            await page.wait_for_url("**/quantri/goi-dien")
            assert await page.locator("tbody tr").count() == 3
            assert await page.locator("text=Mắm tép").count() == 0            # another province
            SHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SHOTS / "20-goi-dien-1280.png"), full_page=True)
            row = page.locator(f"#e{target}")
            await row.get_by_label("Kết quả cuộc gọi").fill("Đã gọi, hẹn nộp hồ sơ tháng 10")
            await row.get_by_role("button", name="Đã gọi").click()
            await page.wait_for_selector(f"#e{target}", state="detached")
            assert await page.locator("tbody tr").count() == 2
            assert (await page.get_by_role("link", name="Gọi điện").locator(".badge").inner_text()) == "2"
            await page.select_option("#tt", "da-goi")
            await page.get_by_role("button", name="Lọc").click()
            await page.wait_for_selector("text=hẹn nộp hồ sơ tháng 10")
            await page.set_viewport_size({"width": 390, "height": 900})
            await page.screenshot(path=str(SHOTS / "21-goi-dien-da-goi-390.png"), full_page=True)
        finally:
            await browser.close()
    async with rt.core.sessionmaker() as s:
        e = await s.scalar(select(CallListEntry).where(CallListEntry.id == target))
        assert e.called_at is not None and e.note == "Đã gọi, hẹn nộp hồ sơ tháng 10"
