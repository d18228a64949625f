"""The dossier walkthrough through the real PTB Application and the fake Telegram Bot API server."""
from __future__ import annotations

from io import BytesIO

import pypdf

from tests.telegram.conftest import say, start_bot, tap, tg  # noqa: F401  (fixtures)

CHAT = 515151


def answers_of(messages) -> list[str]:
    return [b["callback_data"] for m in messages for b in m.buttons() if b["callback_data"].startswith("d:a:")]


def node_of(messages) -> str:
    return answers_of(messages)[-1].split(":")[2]


async def test_walk_restart_resume_and_pdf_via_telegram(tg, start_bot, db_url):  # noqa: F811
    rt = await start_bot(db_url)
    out = await say(tg, CHAT, "/hoso")
    assert node_of(out) == "goal" and all(m.parse_mode == "HTML" for m in out)
    for node, option in [("goal", "lan_dau"), ("producer", "hkd"), ("group", "du_lich")]:
        out = await tap(tg, CHAT, data=f"d:a:{node}:{option}")
    assert node_of(out) == "doc.phieu_dang_ky" and "Bước 4/13" in out[-1].text
    old_goal_message = next(m for m in tg.sent_to(CHAT) if any(
        b["callback_data"] == "d:a:goal:lan_dau" for b in m.buttons())).message_id
    out = await tap(tg, CHAT, data="d:a:doc.phieu_dang_ky:co")
    assert node_of(out) == "doc.bao_cao_tu_danh_gia"
    await rt.stop()

    await start_bot(db_url)                                       # the application restarts
    out = await say(tg, CHAT, "/hoso")
    assert "Bước 5/13" in out[-1].text
    out = await tap(tg, CHAT, label="Tiếp tục")
    assert node_of(out) == "doc.bao_cao_tu_danh_gia"
    # a button from an old message: polite note, back to the current step, nothing changed
    before = len(tg.sent_to(CHAT))
    tg.push_callback(CHAT, "d:a:goal:nang_hang", message_id=old_goal_message)
    stale = await tg.wait_sent(before + 2, chat_id=CHAT)
    assert "bước cũ" in stale[-2].text and node_of(stale[-1:]) == "doc.bao_cao_tu_danh_gia"
    while answers_of(out[-1:]):
        out = await tap(tg, CHAT, data=f"d:a:{node_of(out)}:chua")
    docs = [m for m in out if m.method == "sendDocument"]
    assert docs and docs[0].filename.endswith(".pdf") and docs[0].content.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(docs[0].content)).pages)
    for name in ("Phiếu đăng ký đánh giá, phân hạng (Mẫu số 01)", "Hồ sơ giới thiệu điểm / dịch vụ du lịch",
                 "Câu chuyện sản phẩm", "Hộ kinh doanh (đã đăng ký)", "Giấy tờ bắt buộc đã sẵn sàng: 1/2"):
        assert name in text
    assert "Danh mục hồ sơ OCOP của bạn" in "".join(m.text for m in out)
    assert tg.open_callbacks == set()
    # the only refusal allowed: the stopped instance's last long poll, cut off by the new one (409)
    assert [r for r in tg.rejected() if r[0] != "getupdates"] == []
