"""The FAQ page in a real browser (Playwright driving /usr/bin/chromium) against the running bot and the fake
Telegram server: a national officer edits an answer, the producer asks and gets the new answer; the officer
reverts and the producer gets the old one; a question the bot missed becomes a new entry.
"""
from __future__ import annotations

import re

from playwright.async_api import async_playwright
from sqlalchemy import select

from handlers.faq import repo
from storage.models import Identity, Role
from tests.web.test_browser import CHROMIUM, bot_with_console, shot  # noqa: F401 (fixture)

OFFICER, PRODUCER = 5151, 5252
ASK = "giấy chứng nhận ocop có thời hạn bao lâu"
MISS = "ocop có bảo tàng không"
PARAS = ["ocop co bao tang khong", "bao tang ocop o dau", "co bao tang san pham ocop nao khong",
         "tham quan bao tang ocop", "nha trung bay ocop co phai bao tang", "bao tang dac san ocop",
         "xem hien vat ocop o bao tang nao", "bao tang mot xa mot san pham"]


async def ask(tg, text: str) -> str:
    before = len(tg.sent_to(PRODUCER))
    tg.push_text(PRODUCER, text)
    return (await tg.wait_sent(before + 1, chat_id=PRODUCER, timeout=20))[-1].text


async def test_officer_edits_an_answer_the_bot_uses_it_then_reverts(bot_with_console):
    tg, rt = bot_with_console
    for chat in (OFFICER, PRODUCER):
        tg.push_command(chat, "start")
        await tg.wait_sent(1, chat_id=chat, timeout=15)
    async with rt.core.sessionmaker() as s:                 # a national officer
        uid = await s.scalar(select(Identity.user_id).where(Identity.external_id == str(OFFICER)))
        s.add(Role(user_id=uid, role="officer", province=None))
        await s.commit()
    old = await ask(tg, ASK)
    assert "36 tháng" in old
    assert "chưa có câu trả lời" in await ask(tg, MISS)
    before = len(tg.sent_to(OFFICER))
    tg.push_command(OFFICER, "quantri")
    sent = (await tg.wait_sent(before + 1, chat_id=OFFICER, timeout=15))[-1]
    link = re.search(r"http://127\.0\.0\.1:\d+/quantri/dang-nhap/[\w-]+", sent.text).group(0)
    question = repo.base_entry("thoi_han_gcn").question

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(link)
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url("**/quantri/")
            await page.get_by_role("link", name="FAQ", exact=True).click()
            await page.wait_for_selector("#misses")
            assert MISS in await page.locator("#misses").inner_text()
            await shot(page, "faq-01-danh-sach")
            # (1) edit an answer; the bot answers with it at once
            await page.locator("#entries").get_by_role("link", name=question).click()
            await page.fill("#answer", "Bản sửa trên web: giấy chứng nhận có giá trị <b>ba mươi sáu tháng</b>.")
            await page.get_by_role("button", name="Lưu").click()
            await page.wait_for_selector("#history")
            await shot(page, "faq-02-da-sua")
            new = await ask(tg, ASK)
            assert "ba mươi sáu tháng" in new and "Căn cứ:" in new
            # (2) revert: the old answer again
            await page.get_by_role("button", name=re.compile("Hoàn tác")).click()
            await page.wait_for_selector("#history")
            assert await ask(tg, ASK) == old
            # (3) a new entry from the miss
            await page.get_by_role("link", name="FAQ", exact=True).click()
            await page.locator("#misses tr", has_text=MISS).get_by_role("link", name="Tạo mục mới").click()
            assert await page.input_value("#question") == MISS
            await page.select_option("#file", "chuong_trinh.yml")
            await page.fill("#paraphrases", "\n".join(PARAS))
            await page.fill("#answer", "Bản thử: hỏi <b>nhà trưng bày của tỉnh</b>.")
            await page.fill("#basis", "QĐ 26/2026/QĐ-TTg")
            await page.fill("#sources", "")
            await page.get_by_role("button", name="Lưu").click()
            await page.wait_for_selector(".banner-error")
            assert "thiếu nguồn" in await page.locator(".banner-error").inner_text()
            assert await page.input_value("#answer") == "Bản thử: hỏi <b>nhà trưng bày của tỉnh</b>."
            await shot(page, "faq-03-loi")
            await page.fill("#sources", "https://vanban.chinhphu.vn/?pageid=27160&docid=218267")
            await page.get_by_role("button", name="Lưu").click()
            await page.wait_for_selector("#history")
            assert "nhà trưng bày của tỉnh" in await ask(tg, MISS)
        finally:
            await browser.close()
