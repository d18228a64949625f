"""/sanpham: guided add flow (buttons, bad and future dates, restart mid-flow), list with expiry and
status, edit, remove with confirmation, mute; privacy between producers."""
from datetime import date

from sqlalchemy import func, select

from storage.models import Certificate, Conversation
from tests.products.util import add_cert
from tests.helpers import button_data, data_of, find_button, ids, msg, texts


async def _add_product(core, user="u1", date_text="5/3/2024", name="Mật ong U Minh"):
    await core.handle(msg("/sanpham", user=user))
    r = await core.handle(msg(callback="p:add", user=user))
    assert "bước 1/7" in texts(r)
    r = await core.handle(msg(name, user=user))
    assert "pa:g:thuc_pham" in button_data(r)
    r = await core.handle(msg(callback="pa:g:thuc_pham", user=user))
    assert button_data(r)[:3] == ["pa:s:3", "pa:s:4", "pa:s:5"]
    r = await core.handle(msg(callback="pa:s:4", user=user))
    r = await core.handle(msg("123/QĐ-UBND", user=user))
    r = await core.handle(msg(callback="pa:a:province", user=user))
    r = await core.handle(msg("tien giang", user=user))
    assert "Bước 7/7" in texts(r)
    return await core.handle(msg(date_text, user=user))


async def _certs(core):
    async with core.sessionmaker() as s:
        return list(await s.scalars(select(Certificate).order_by(Certificate.id)))


async def test_add_flow_saves_and_lists_with_expiry_status(db_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(db_url)
    r = await _add_product(core)
    t = texts(r)
    assert "Đã lưu" in t and "05/03/2027" in t and "còn hiệu lực" in t and "103 ngày" in t
    assert "Tiền Giang nay thuộc tỉnh Đồng Tháp" in t
    [c] = await _certs(core)
    assert (c.product, c.group, c.stars, c.decision_no, c.province, c.authority, c.source) == (
        "Mật ong U Minh", "thuc_pham", 4, "123/QĐ-UBND", "dong_thap", "province", "user")
    assert c.expires_on == date(2027, 3, 5)
    today.value = date(2027, 1, 1)
    r = await core.handle(msg("/sanpham"))
    assert "sắp hết hạn" in texts(r) and "còn 63 ngày" in texts(r)
    assert f"p:v:{c.id}" in button_data(r)
    today.value = date(2027, 3, 6)
    r = await core.handle(msg(callback="m:sanpham"))
    assert "đã hết hạn" in texts(r)


async def test_bad_and_future_dates_are_refused_politely_and_the_step_repeats(sqlite_url, make_core):
    core = make_core(sqlite_url)
    r = await _add_product(core, date_text="31/2/2024")
    assert "không có ngày 31" in texts(r) and "Bước 7/7" in texts(r)
    r = await core.handle(msg("1/1/2027"))
    assert "tương lai" in texts(r)
    r = await core.handle(msg("hôm qua"))
    assert "ngày/tháng/năm" in texts(r)
    assert await _certs(core) == []
    r = await core.handle(msg("5/3/24"))
    assert data_of(r, "products/saved")["created"] is True


async def test_typed_answers_and_wrong_buttons_at_button_steps(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg("Nón lá"))
    r = await core.handle(msg(callback="pa:s:4"))             # stars button while at the group step
    assert "nhóm nào" in texts(r)
    r = await core.handle(msg("thu cong"))                    # typed group
    assert "mấy sao" in texts(r)
    r = await core.handle(msg("7 sao"))
    assert "3, 4 hoặc 5" in texts(r)
    r = await core.handle(msg("3"))
    assert "Số quyết định" in texts(r)
    r = await core.handle(msg("không có"))
    assert "chữ số" in texts(r)


async def test_flow_survives_a_restart(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg(callback="p:add"))
    await core.handle(msg("Mật ong"))
    await core.handle(msg(callback="pa:g:thuc_pham"))
    await core.close()
    core2 = make_core(sqlite_url)                           # a new process on the same database
    r = await core2.handle(msg(callback="pa:s:3"))
    assert "Số quyết định" in texts(r)
    async with core2.sessionmaker() as s:
        conv = await s.get(Conversation, 1)
        assert conv.step == "decision" and conv.data["name"] == "Mật ong" and conv.data["stars"] == 3


async def test_duplicate_of_an_imported_product_is_not_taken_over(sqlite_url, make_core):
    core = make_core(sqlite_url)
    async with core.sessionmaker() as s, s.begin():
        await add_cert(s, None, product="Mật ong U Minh", decision="123/QĐ-UBND", province="Đồng Tháp",
                       source="import")
    r = await _add_product(core)
    assert data_of(r, "products/duplicate")["own"] is False
    assert [c.owner_user_id for c in await _certs(core)] == [None]


async def test_edit_remove_and_mute(db_url, make_core):
    core = make_core(db_url)
    await _add_product(core)
    [c] = await _certs(core)
    r = await core.handle(msg(callback=f"p:v:{c.id}"))
    assert "05/03/2027" in texts(r) and f"p:mute:{c.id}" in button_data(r)
    r = await core.handle(msg(callback=f"p:ef:{c.id}:date"))
    r = await core.handle(msg("30/2/2024"))
    assert ids(r) == ["products/ask"] and "không có ngày 30" in data_of(r, "products/ask")["error"]
    r = await core.handle(msg("29/2/2024"))
    saved = data_of(r, "products/saved")
    assert saved["created"] is False and saved["c"].expires_on == date(2027, 2, 28)
    await core.handle(msg(callback=f"p:ef:{c.id}:name"))
    await core.handle(msg("Mật ong hoa tràm"))
    await core.handle(msg(callback=f"p:es:{c.id}:5"))
    await core.handle(msg(callback=f"p:eg:{c.id}:do_uong"))
    r = await core.handle(msg(callback=f"p:mute:{c.id}"))
    assert data_of(r, "products/muted")["muted"] is True
    [c2] = await _certs(core)
    assert (c2.product, c2.stars, c2.group, c2.muted, c2.recognized_on) == (
        "Mật ong hoa tràm", 5, "do_uong", True, date(2024, 2, 29))
    await core.handle(msg(callback=f"p:unmute:{c.id}"))
    r = await core.handle(msg(callback=f"p:del:{c.id}"))
    assert ids(r) == ["products/confirm_delete"] and await _certs(core)
    r = await core.handle(msg(callback=f"p:delok:{c.id}"))
    assert ids(r) == ["products/deleted"] and await _certs(core) == []


async def test_nobody_sees_or_changes_another_producers_products(db_url, make_core):
    core = make_core(db_url)
    await _add_product(core, user="alice")
    [c] = await _certs(core)
    r = await core.handle(msg("/sanpham", user="bob"))
    assert "Mật ong" not in texts(r) and f"p:v:{c.id}" not in button_data(r)
    for cb in (f"p:v:{c.id}", f"p:e:{c.id}", f"p:ef:{c.id}:name", f"p:es:{c.id}:5", f"p:eg:{c.id}:do_uong",
               f"p:mute:{c.id}", f"p:del:{c.id}", f"p:delok:{c.id}", "p:v:abc", "p:v:"):
        r = await core.handle(msg(callback=cb, user="bob"))
        assert ids(r) == ["products/not_found"], cb
        assert "Mật ong" not in texts(r)
    [after] = await _certs(core)
    assert (after.stars, after.muted, after.group) == (4, False, "thuc_pham")
    async with core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Certificate)) == 1


async def test_removing_an_imported_product_returns_it_to_the_register(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start"))
    async with core.sessionmaker() as s, s.begin():
        cert = await add_cert(s, 1, source="import")
    r = await core.handle(msg(callback=f"p:delok:{cert.id}"))
    assert ids(r) == ["products/deleted"]
    [c] = await _certs(core)
    assert c.owner_user_id is None
    find_button(r, "Sản phẩm của tôi")


async def test_renaming_onto_an_existing_product_is_refused(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await _add_product(core, name="Mật ong")
    await _add_product(core, name="Mật ong rừng")
    a, b = await _certs(core)
    await core.handle(msg(callback=f"p:ef:{b.id}:name"))
    r = await core.handle(msg("Mật ong"))
    assert data_of(r, "products/duplicate")["own"] is True
    assert [c.product for c in await _certs(core)] == ["Mật ong", "Mật ong rừng"]


async def test_a_district_issued_three_star_certificate_can_be_added(sqlite_url, make_core):
    """3★ certificates of a UBND huyện (before 6/7/2025) stay valid until they expire (QĐ 26/2026 Điều 12)."""
    core = make_core(sqlite_url)
    await core.handle(msg("/sanpham", user="u9"))
    await core.handle(msg(callback="p:add", user="u9"))
    await core.handle(msg("Bánh tráng Mỹ Lồng", user="u9"))
    await core.handle(msg(callback="pa:g:thuc_pham", user="u9"))
    await core.handle(msg(callback="pa:s:3", user="u9"))
    r = await core.handle(msg("45/QĐ-UBND", user="u9"))
    assert "pa:a:district" in button_data(r)
    await core.handle(msg(callback="pa:a:district", user="u9"))
    await core.handle(msg("ben tre", user="u9"))
    await core.handle(msg("10/3/2024", user="u9"))
    [c] = await _certs(core)
    assert c.authority == "district" and c.stars == 3
