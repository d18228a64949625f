"""Regressions: buttons and arguments carrying ids too large for the database, or non-ASCII digits."""
import pytest

from tests.helpers import msg, texts

INTERNAL = "gặp lỗi khi xử lý"
HUGE = "9" * 25


@pytest.mark.parametrize("data", [f"p:v:{HUGE}", f"p:delok:{HUGE}", "p:v:²", f"f:d:{HUGE}", f"f:ics:{HUGE}",
                                  "f:d:²", f"fq:o:{HUGE}", "fq:o:²"])
async def test_huge_or_odd_id_in_a_button(db_url, make_core, data):
    core = make_core(db_url)
    t = texts(await core.handle(msg(callback=data)))
    assert INTERNAL not in t


@pytest.mark.parametrize("data", [f"bc:cancel:{HUGE}", f"bc:csv:{HUGE}", f"q:a:{HUGE}", "q:a:²", f"f:del:{HUGE}"])
async def test_huge_id_in_an_officer_button(db_url, make_core, data):
    core = make_core(db_url)
    await core.handle(msg("/capquyen console:admin Đồng Tháp", user="admin"))
    t = texts(await core.handle(msg(callback=data, user="admin")))
    assert INTERNAL not in t


async def test_huge_user_id_in_capquyen(db_url, make_core):
    core = make_core(db_url)
    t = texts(await core.handle(msg(f"/capquyen u{HUGE} Đồng Tháp", user="admin")))
    assert INTERNAL not in t
