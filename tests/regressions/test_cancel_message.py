"""Regressions: /huy says truthfully whether what the person typed was kept."""
from tests.helpers import msg, texts


async def test_cancel_in_product_add_does_not_promise_to_keep_the_draft(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg("Mật ong rừng U Minh"))
    t = texts(await core.handle(msg("/huy")))
    assert "vẫn được lưu" not in t and "không được lưu" in t
    await core.handle(msg(callback="p:add"))
    t = texts(await core.handle(msg(callback="pa:x")))
    assert "vẫn được lưu" not in t


async def test_cancel_in_dossier_keeps_answers(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/hoso"))
    await core.handle(msg(callback="d:a:goal:lan_dau"))
    t = texts(await core.handle(msg("/huy")))
    assert "vẫn được lưu" in t
    assert "Bước 2/" in texts(await core.handle(msg("/hoso")))
