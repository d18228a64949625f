"""Plain-text rendering for Zalo and the mapping of typed numbers / labels back to buttons."""
from channels.zalo_render import CHUNK, CONTACT_NOTE, LIMIT, Choices, pick, render
from core.messages import Button, OutFile, Reply
from tests.zalo.conftest import TAG


def test_html_is_stripped_and_buttons_become_a_numbered_list():
    reply = Reply("<b>Chọn</b> một mục &amp; gửi", [[Button("❓ Hỏi đáp OCOP", "m:faq")],
                                                     [Button("📋 Hướng dẫn hồ sơ", "m:hoso")]])
    outs, choices = render([reply])
    text = outs[0].texts[0]
    assert not TAG.search(text) and "Chọn một mục & gửi" in text
    assert "1. ❓ Hỏi đáp OCOP" in text and "2. 📋 Hướng dẫn hồ sơ" in text
    assert choices.items == [("❓ Hỏi đáp OCOP", "m:faq"), ("📋 Hướng dẫn hồ sơ", "m:hoso")]


def test_numbering_continues_across_replies_and_url_buttons_are_not_numbered():
    outs, choices = render([Reply("a", [[Button("Có", "x:1")]]),
                            Reply("b", [[Button("Không", "x:0"), Button("Trang web", url="https://x.vn")]])])
    assert "1. Có" in outs[0].texts[0]
    assert "2. Không" in outs[1].texts[0] and "🔗 Trang web: https://x.vn" in outs[1].texts[0]
    assert [d for _, d in choices.items] == ["x:1", "x:0"]


def test_no_buttons_means_no_choices():
    outs, choices = render([Reply("chỉ có chữ")])
    assert choices is None and outs[0].texts == ["chỉ có chữ"]


def test_long_text_is_split_on_line_boundaries_under_the_limit():
    lines = [f"Dòng {i}: <i>nội dung khá dài để thử tách tin nhắn Zalo</i>" for i in range(200)]
    outs, _ = render([Reply("\n".join(lines))])
    parts = outs[0].texts
    assert len(parts) > 1 and all(len(p) <= CHUNK < LIMIT for p in parts)
    assert all(not TAG.search(p) for p in parts)
    assert "\n".join(parts).split("\n") == [TAG.sub("", ln) for ln in lines]


def test_pick_by_number_or_label_words_without_diacritics():
    ch = Choices([("❓ Hỏi đáp OCOP", "m:faq"), ("📋 Hướng dẫn hồ sơ", "m:hoso")])
    assert pick("2", ch) == "m:hoso" and pick(" 1. ", ch) == "m:faq" and pick("số 2", ch) == "m:hoso"
    assert pick("huong dan ho so", ch) == "m:hoso" and pick("Hỏi đáp OCOP", ch) == "m:faq"
    assert pick("3", ch) == "" and pick("hồ sơ cần gì?", ch) == "" and pick("2", None) == ""


def test_contact_request_is_explained_and_a_typed_phone_stays_text():
    outs, ch = render([Reply("Chia sẻ số điện thoại", [[Button("🔑 Nhập mã", "pc:code")]], request_contact=True)])
    assert CONTACT_NOTE in outs[0].texts[0] and ch.contact
    assert pick("0912345678", ch) == "" and pick("1", ch) == "pc:code"


def test_a_file_is_announced_not_lost():
    outs, _ = render([Reply("Hồ sơ của bạn", file=OutFile("ho-so.pdf", b"%PDF", "application/pdf"))])
    assert outs[0].file_name == "ho-so.pdf"


async def test_runtime_picks_the_adapter_from_zalo_mode(make_settings, sqlite_url):
    from channels.zalo_bot import ZaloBotChannel
    from channels.zalo_oa import ZaloOAChannel
    from core.runtime import Runtime
    runtimes = [Runtime(make_settings(sqlite_url, zalo_mode="bot", zalo_bot_token="1:x")),
                Runtime(make_settings(sqlite_url, zalo_mode="oa", zalo_oa_app_id="a", zalo_oa_secret_key="k")),
                Runtime(make_settings(sqlite_url, zalo_mode=""))]
    try:
        bot, oa, none = (rt.configured_channels() for rt in runtimes)
        assert [type(c) for c in bot] == [ZaloBotChannel] and not bot[0].needs_http
        assert [type(c) for c in oa] == [ZaloOAChannel] and oa[0].needs_http
        assert none == []
    finally:
        for rt in runtimes:
            await rt.core.close()
