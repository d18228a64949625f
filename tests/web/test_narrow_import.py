"""The import check page at 390 px in real Chromium: its buttons never cover the table of rows."""
from __future__ import annotations

from playwright.async_api import async_playwright

from tests.web.test_browser import CHROMIUM, HEADER, ROWS


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


async def test_import_buttons_do_not_overlap_the_table_at_390px(sqlite_console, tmp_path):
    uid = await sqlite_console.person("officer")
    token = await sqlite_console.token(uid)
    base = str(sqlite_console.client.make_url("/")).rstrip("/")
    rows = [ROWS[0].format(s=7), ROWS[1].format(d="31/2/2025"), ROWS[2].format()] * 12     # taller than the screen
    bad = tmp_path / "danh-sach.csv"
    bad.write_text("\n".join([HEADER, *rows]))
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 800})
            await page.goto(f"{base}/quantri/dang-nhap/{token}")
            await page.get_by_role("button", name="Đăng nhập").click()
            await page.wait_for_url("**/quantri/")
            await page.goto(f"{base}/quantri/nhap")
            await page.set_input_files("input[type=file]", str(bad))
            await page.get_by_role("button", name="Kiểm tra tệp").click()
            await page.wait_for_selector(".banner-error")
            table = page.locator(".table-scroll")
            button = page.get_by_role("link", name="Tải lên tệp khác")
            for y in (0, 600, 1200, 100_000):          # top, scrolled through the table, bottom
                await page.evaluate(f"window.scrollTo(0, {y})")
                tb, bb = await table.bounding_box(), await button.bounding_box()
                assert tb and bb and not overlap(tb, bb), (y, tb, bb)
                assert bb["x"] >= 0 and bb["x"] + bb["width"] <= 390
            # the page itself does not scroll sideways (the table scrolls inside its box)
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            await browser.close()
