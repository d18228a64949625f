"""Live figures from the register in the FAQ: counts per province, the asker's own certificates."""
from datetime import date

from sqlalchemy import select

from handlers import faq as faq_handler
from handlers.faq import NS
from storage.models import FaqLog, User
from tests.helpers import button_data, msg, texts
from tests.products.util import add_cert


async def _seed(core, province_of_user="dong_thap"):
    await core.handle(msg("chào"))                       # creates user 1
    async with core.sessionmaker() as s:
        user = await s.get(User, 1)
        user.province = province_of_user
        await add_cert(s, 1, product="Mật ong U Minh", recognized=date(2024, 3, 5), decision="1/QĐ-UBND")
        await add_cert(s, None, product="Khô cá lóc", recognized=date(2025, 1, 10), decision="2/QĐ-UBND",
                       source="import")
        await add_cert(s, None, product="Bánh phồng", recognized=date(2022, 1, 10), decision="3/QĐ-UBND")   # expired
        await add_cert(s, None, product="Nước mắm", recognized=date(2025, 6, 1), decision="4/QĐ-UBND",
                       province="An Giang")
        await s.commit()


async def test_count_of_the_askers_province(db_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(db_url)
    await _seed(core)
    t = texts(await core.handle(msg("tinh toi co bao nhieu san pham ocop")))
    assert "Tỉnh Đồng Tháp" in t and "<b>2 sản phẩm OCOP còn hiệu lực</b>" in t
    assert "theo danh sách cán bộ đã nhập đến ngày" in t and "Căn cứ:" in t


async def test_count_of_a_named_province_old_name_mapped(db_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(db_url)
    await _seed(core)
    t = texts(await core.handle(msg("tinh kien giang co bao nhieu sp ocop")))
    assert "Tỉnh An Giang" in t and "<b>1 sản phẩm OCOP còn hiệu lực</b>" in t


async def test_my_products_only_mine(db_url, make_core, today):
    today.value = date(2026, 11, 22)
    core = make_core(db_url)
    await _seed(core)
    replies = await core.handle(msg("san pham cua toi con han khong"))
    t = texts(replies)
    assert "Mật ong U Minh" in t and "05/03/2027" in t and "còn 103 ngày" in t
    assert "Khô cá lóc" not in t and "Nước mắm" not in t
    assert button_data(replies) == [f"{NS}:up:calc_live_mine", f"{NS}:dn:calc_live_mine"]
    await core.writes.settled()                 # the log row rides with the next group commit
    async with core.sessionmaker() as s:
        log = (await s.scalars(select(FaqLog).order_by(FaqLog.id.desc()))).first()
    assert (log.outcome, log.faq_id) == ("answer", "calc_live_mine")
    t = texts(await core.handle(msg(callback=f"{NS}:up:calc_live_mine")))
    assert "Cảm ơn" in t


async def test_my_products_when_i_have_none(db_url, make_core):
    core = make_core(db_url)
    t = texts(await core.handle(msg("sp cua em con han ko", user="u9")))
    assert "chưa có sản phẩm nào" in t and "/sanpham" in t


async def test_count_without_a_province_asks_for_one(db_url, make_core):
    core = make_core(db_url)
    t = texts(await core.handle(msg("tinh toi co bao nhieu san pham ocop", user="u8")))
    assert "chưa chọn tỉnh" in t


async def test_product_answer_through_the_bot(db_url, make_core):
    core = make_core(db_url)
    replies = await core.handle(msg("lap xuong tuoi thuoc nhom nao"))
    assert "Thực phẩm" in texts(replies) and button_data(replies)[0] == f"{NS}:up:calc_product"


async def test_count_with_an_empty_register_keeps_the_entry_answer(db_url, make_core):
    core = make_core(db_url)
    renderer_answer = faq_handler.get_renderer().respond("dong thap co bao nhieu san pham ocop")
    replies = await core.handle(msg("dong thap co bao nhieu san pham ocop"))
    if renderer_answer.faq_id != "calc_live_count":          # an entry answers: it is kept
        assert texts(replies) == renderer_answer.text
    else:
        assert "chưa có sản phẩm OCOP nào" in texts(replies)


def test_date_that_is_no_certificate_date_is_not_the_expiry_calculator():
    answer = faq_handler.get_renderer().respond("han nop ho so dot 1 la 30/6/2026 phai khong")
    assert answer.faq_id != "calc_expiry"
