"""Regressions: Telegram counts message length in UTF-16 units (an emoji counts twice)."""
import pytest

from channels.telegram_render import split_html
from tests.fakes.telegram_html import parse_html, utf16_len


@pytest.mark.parametrize("text", ["😀" * 3000, "<i>" + "🌾 lúa " * 900 + "</i>", "Trả lời:\n" + "🍯" * 5000])
def test_emoji_heavy_text_fits_telegram_limits(text):
    chunks = split_html(text)
    for chunk in chunks:
        assert utf16_len(parse_html(chunk)) <= 4096
    assert "".join(parse_html(c) for c in chunks).replace("\n", "").replace(" ", "") == \
        parse_html(text).replace("\n", "").replace(" ", "")


def test_plain_vietnamese_still_one_message():
    assert len(split_html("Đã gửi câu hỏi của bạn. " * 150)) == 1
