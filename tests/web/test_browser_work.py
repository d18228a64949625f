"""The officers' daily work in a real browser (Playwright + Debian's Chromium), with the bot running on
the fake Telegram server and the delivery worker on:

1. a producer asks an officer through «Liên hệ cán bộ»; the officer answers on /quantri/cau-hoi and the
   producer receives the answer on Telegram; the page shows the delivery status;
2. the officer creates a fair with an end date before the start, sees the refusal (other answers kept),
   corrects it, and the producer sees the fair in /hoicho.
"""
from __future__ import annotations

import re

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select, update

from handlers.console.product import DELIVERY_TEXT
from storage.models import Identity, Role, User
from tests.web.browser import CHROMIUM, console_bot, shot

OFFICER, PRODUCER = 5151, 6161


@pytest.fixture
async def bot_and_worker(make_settings, sqlite_url, today):
    async with console_bot(make_settings, sqlite_url, worker=True) as (tg, rt, base):
        yield tg, rt


async def _say(tg, chat: int, push) -> str:
    """Push an update and wait for the bot's next message to that chat; its text."""
    before = len(tg.sent_to(chat))
    push()
    return (await tg.wait_sent(before + 1, chat_id=chat, timeout=15))[-1].text


async def _people(tg, rt) -> str:
    """An officer of Cao Bằng and a producer of Cao Bằng who wrote to the bot; the officer's sign-in link."""
    for chat in (OFFICER, PRODUCER):
        await _say(tg, chat, lambda c=chat: tg.push_command(c, "start"))
    async with rt.core.sessionmaker() as s:
        ids = dict((await s.execute(select(Identity.external_id, Identity.user_id))).all())
        s.add(Role(user_id=ids[str(OFFICER)], role="officer", province="cao_bang"))
        await s.execute(update(User).where(User.id == ids[str(PRODUCER)]).values(province="cao_bang"))
        await s.commit()
    text = await _say(tg, OFFICER, lambda: tg.push_command(OFFICER, "quantri"))
    return re.search(r"http://127\.0\.0\.1:\d+/quantri/dang-nhap/[\w-]+", text).group(0)


async def _sign_in(browser, link: str):
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(link)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url("**/quantri/")
    return page


async def test_answer_on_the_page_reaches_the_producer_and_fair_reaches_hoicho(bot_and_worker):
    tg, rt = bot_and_worker
    link = await _people(tg, rt)
    # the producer asks an officer from the menu («Liên hệ cán bộ»)
    await _say(tg, PRODUCER, lambda: tg.push_callback(PRODUCER, "m:lienhe"))
    await _say(tg, PRODUCER, lambda: tg.push_text(PRODUCER, "Hồ sơ nộp ở xã hay ở huyện ạ?"))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await _sign_in(browser, link)
            assert await page.locator("nav .badge").first.inner_text() == "1"          # one open question
            await page.get_by_role("link", name=re.compile("^Câu hỏi")).click()
            await page.wait_for_selector("text=Hồ sơ nộp ở xã hay ở huyện ạ?")
            await shot(page, "10-cau-hoi")
            # (1) answer it on the page; the producer receives it through the delivery worker
            before = len(tg.sent_to(PRODUCER))
            await page.locator("article.q-item textarea").fill("Chị nộp hồ sơ tại UBND xã, xã gửi lên tỉnh.")
            await page.get_by_role("button", name="Gửi câu trả lời").click()
            await page.wait_for_selector("article.q-item >> text=Gửi cho chủ thể")
            got = await tg.wait_sent(before + 1, chat_id=PRODUCER, timeout=15)
            assert "Chị nộp hồ sơ tại UBND xã" in got[-1].text
            for _ in range(50):                                    # the page shows the delivery's status
                await page.reload()
                if await page.locator("article.q-item .tag").first.inner_text() == DELIVERY_TEXT["sent"]:
                    break
                await page.wait_for_timeout(200)
            assert await page.locator("article.q-item .tag").first.inner_text() == DELIVERY_TEXT["sent"]
            await shot(page, "11-cau-hoi-da-tra-loi")
            # (2) a fair with its end before its start: refused, the other answers kept; corrected; in /hoicho
            await page.get_by_role("link", name="Hội chợ", exact=True).click()
            await page.get_by_role("link", name="Thêm hội chợ").click()
            await page.fill("#name", "Hội chợ Nông sản Cao Bằng")
            await page.select_option("#province", "Cao Bằng")
            await page.fill("#place", "Quảng trường Hồ Chí Minh")
            await page.fill("#start_date", "10/12/2026")
            await page.fill("#end_date", "05/12/2026")
            await page.get_by_role("button", name="Lưu").click()
            await page.wait_for_selector(".banner-error")
            assert "ngày kết thúc trước ngày bắt đầu" in await page.locator(".field-error .why").inner_text()
            assert await page.input_value("#place") == "Quảng trường Hồ Chí Minh"
            await shot(page, "12-hoi-cho-loi")
            await page.fill("#end_date", "14/12/2026")
            await page.get_by_role("button", name="Lưu").click()
            await page.wait_for_selector("text=Hội chợ Nông sản Cao Bằng")
            assert await page.locator(".banner-error").count() == 0
            await shot(page, "13-hoi-cho")
        finally:
            await browser.close()
    reply = await _say(tg, PRODUCER, lambda: tg.push_command(PRODUCER, "hoicho"))
    assert "Hội chợ Nông sản Cao Bằng" in reply
