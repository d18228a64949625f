"""A full dossier walkthrough on Zalo, answering every question by number or by the label's words."""
import pytest

from core.text import fold
from tests.dossier.test_dossier_core import PROFILE
from tests.zalo.conftest import TAG


async def choose(h, user: str, data: str, *, by_label: bool = False) -> list[str]:
    """Answer like a Zalo user: the number shown for `data` (or its label without diacritics)."""
    choices = await h.channel.load_choices(user)
    numbers = [i for i, (_, d) in enumerate(choices.items, 1) if d == data]
    assert numbers, f"{data} not among {choices.items}"
    label = choices.items[numbers[0] - 1][0]
    return await h.say(user, fold(label).strip("✅❌⬜️ ") if by_label else str(numbers[0]))


def current_answers(choices) -> list[str]:
    return [d for _, d in choices.items if d.startswith("d:a:")]


@pytest.mark.parametrize("mode,db", [("bot", "sqlite_url"), ("oa", "pg_url")])
async def test_full_dossier_walk_by_numbered_answers(mode, db, request, zalo_env):
    h = await zalo_env(mode, request.getfixturevalue(db))
    out = await h.say("d1", "/hoso")
    assert any("1. " in t for t in out)
    for node, option in PROFILE:
        out = await choose(h, "d1", f"d:a:{node}:{option}")
    n = 0
    while True:
        answers = current_answers(await h.channel.load_choices("d1"))
        if not answers:
            break
        node = answers[-1].split(":")[2]
        option = ("co", "chua")[n % 2]
        out = await choose(h, "d1", f"d:a:{node}:{option}", by_label=n % 3 == 2)
        assert f"d:a:{node}:{option}" not in current_answers(await h.channel.load_choices("d1"))
        n += 1
        assert n < 40
    final = "\n".join(out)
    assert "Danh mục hồ sơ OCOP của bạn" in final and "Giấy tờ bắt buộc đã sẵn sàng: 1/3" in final  # QĐ 26/2026 Điều 6: 3 required
    if mode == "oa":                                        # the OA carries the PDF itself (upload → file message)
        [(name, data)] = h.fake.files_to("d1")
        assert name.endswith(".pdf") and data.startswith(b"%PDF") and "/tep/" not in final
    else:                                                   # Bot Platform: a 7-day download link
        assert "/tep/" in final and ".pdf" in final
    assert all(len(t) <= 2000 and not TAG.search(t) for t in h.fake.texts_to("d1"))
