"""The self-assessment through the real channels: PTB + fake Telegram Bot API, and Zalo by numbers."""
from __future__ import annotations

from io import BytesIO

import pypdf
import pytest

from tests.selfassess.plan import best_except, plan, second, sub_of
from tests.telegram.conftest import say, start_bot, tap, tg  # noqa: F401  (fixtures)
from tests.zalo.conftest import TAG, zalo_env  # noqa: F401  (fixture)

CHAT = 616161


def sa_answers(messages) -> list[str]:
    return [b["callback_data"] for m in messages for b in m.buttons() if b["callback_data"].startswith("sa:a:")]


def choice(node: str, n: int, values: dict[str, str], case: str) -> str:
    group, sub = sub_of(n)
    preset = {"group": group, "sub": sub, "case": case}
    if node in preset:
        return preset[node]
    return "khong" if node.startswith("ko") else values[node.split("_", 1)[1]]


async def test_telegram_walk_restart_and_pdf(tg, start_bot, db_url):  # noqa: F811
    values, total, misses = plan(1, best_except({"4.1": 0, "8": 0}))        # 91 points, 3★ minimum missed
    rt = await start_bot(db_url)
    out = await say(tg, CHAT, "/tuchamdiem")
    assert all(m.parse_mode == "HTML" for m in out)
    steps = 0
    while sa_answers(out[-1:]):
        node = sa_answers(out[-1:])[-1].split(":")[2]
        out = await tap(tg, CHAT, data=f"sa:a:{node}:{choice(node, 1, values, '1')}")
        steps += 1
        if steps == 10:                                           # restart mid-walk, then resume
            await rt.stop()
            rt = await start_bot(db_url)
            out = await say(tg, CHAT, "/tuchamdiem")
            assert "bước 11/" in out[-1].text
            out = await tap(tg, CHAT, data="sa:cont")
        assert steps < 60
    text = out[-1].text
    assert total == 91 and "Tổng: 91/100 điểm → 5 sao" in text
    assert "Chưa đạt yêu cầu tối thiểu của hạng 3 sao" in text and "4.1 Khu vực phân phối chính" in text
    assert "Chưa đạt yêu cầu tối thiểu của hạng 4 sao" in text and "8 Tính độc đáo" in text
    assert misses[4] == {"4.1", "8"}
    out = await tap(tg, CHAT, data="sa:pdf")
    docs = [m for m in out if m.method == "sendDocument"]
    assert docs and docs[0].content.startswith(b"%PDF")
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(docs[0].content)).pages)
    assert "BÁO CÁO TỰ ĐÁNH GIÁ VỀ SẢN PHẨM" in pdf and "Tổng điểm tự đánh giá: 91/100" in pdf
    assert tg.open_callbacks == set()


async def choose(h, user: str, data: str) -> list[str]:
    """Answer like a Zalo user: type the number shown for the button `data`."""
    choices = await h.channel.load_choices(user)
    numbers = [i for i, (_, d) in enumerate(choices.items, 1) if d == data]
    assert numbers, f"{data} not among {choices.items}"
    return await h.say(user, str(numbers[0]))


@pytest.mark.parametrize("mode,db,n,case", [("bot", "sqlite_url", 9, "1"), ("oa", "pg_url", 23, "1"),
                                            ("bot", "pg_url", 26, "2")])
async def test_zalo_walk_by_numbers(mode, db, n, case, request, zalo_env):
    h = await zalo_env(mode, request.getfixturevalue(db))
    values, total, misses = plan(n, second, case=int(case) if n == 26 else None)
    out = await h.say("z1", "/tuchamdiem")
    assert any("1. " in t for t in out)
    steps = 0
    while True:
        current = [d for _, d in (await h.channel.load_choices("z1")).items if d.startswith("sa:a:")]
        if not current:
            break
        node = current[-1].split(":")[2]
        out = await choose(h, "z1", f"sa:a:{node}:{choice(node, n, values, case)}")
        steps += 1
        assert steps < 60
    final = "\n".join(out)
    stars = next(s for floor, s in ((90, 5), (70, 4), (50, 3), (30, 2), (0, 1)) if total >= floor)
    assert f"Tổng: {total}/100 điểm → {stars} sao" in final
    for level in (3, 4, 5):
        assert (f"hạng {level} sao" in final) == bool(misses[level])
        for cid in misses[level]:
            assert f"• {cid} " in final
    assert all(len(t) <= 2000 and not TAG.search(t) for t in h.fake.texts_to("z1"))
