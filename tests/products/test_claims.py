"""Claiming imported products by shared phone number, one-time code and deep link; privacy;
officers sending the register file to the bot."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from handlers.products.claims import create_claim_code, normalise_phone
from core import clock
from core.messages import InFile
from storage.models import Certificate, Role, User
from tests.products.util import GOOD, add_cert, csv_bytes
from tests.helpers import msg, texts


@pytest.mark.parametrize("raw,expected", [
    ("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
    ("0912.345.678", "0912345678"), ("912345678", "0912345678"), ("(024) 3825 1234", "02438251234"),
    ("+1 555 1234567", None), ("12345", None), ("abc", None), ("", None), ("0012345678", None)])
def test_phone_normalisation(raw, expected):
    assert normalise_phone(raw) == expected


async def _seed(core):
    async with core.sessionmaker() as s, s.begin():
        a = await add_cert(s, None, product="Mật ong", phone="0912345678", source="import", decision="1/QĐ")
        b = await add_cert(s, None, product="Trà sen", phone="0912345678", source="import", decision="2/QĐ")
        c = await add_cert(s, None, product="Nón lá", phone="0987654321", source="import", decision="3/QĐ")
        return a.id, b.id, c.id


async def _owners(core):
    async with core.sessionmaker() as s:
        return {c.product: c.owner_user_id for c in await s.scalars(select(Certificate))}


async def test_sharing_a_phone_claims_only_that_phones_unowned_products(db_url, make_core):
    core = make_core(db_url)
    await _seed(core)
    r = await core.handle(msg(callback="pc:menu", user="alice"))
    assert r[0].request_contact
    r = await core.handle(msg(user="alice", contact_phone="+84912345678"))
    assert "Đã nhận 2 sản phẩm" in texts(r) and "Mật ong" in texts(r) and "Nón lá" not in texts(r)
    owners = await _owners(core)
    assert owners["Mật ong"] == owners["Trà sen"] != None and owners["Nón lá"] is None  # noqa: E711
    # someone else with the same number later: nothing is transferred
    r = await core.handle(msg(user="mallory", contact_phone="0912345678"))
    assert "Chưa có sản phẩm nào để nhận" in texts(r)
    assert await _owners(core) == owners
    r = await core.handle(msg("/sanpham", user="mallory"))
    assert "Mật ong" not in texts(r)
    r = await core.handle(msg(user="bob", contact_phone="12"))
    assert "không đúng dạng" in texts(r)


async def test_one_time_code_by_command_flow_and_deep_link(db_url, make_core):
    core = make_core(db_url)
    a, b, c = await _seed(core)
    async with core.sessionmaker() as s, s.begin():
        by_ids = (await create_claim_code(s, cert_ids=[c])).code
        by_phone = (await create_claim_code(s, phone="0912345678")).code
        expired = (await create_claim_code(s, cert_ids=[c], now=clock.now() - timedelta(days=40))).code
    r = await core.handle(msg(f"/nhanma {expired}", user="bob"))
    assert "hết hạn" in texts(r)
    r = await core.handle(msg("/nhanma", user="bob"))
    assert "Gõ mã" in texts(r)
    r = await core.handle(msg("WRONG123", user="bob"))
    assert "không đúng" in texts(r)
    r = await core.handle(msg(by_ids.lower(), user="bob"))
    assert "Đã nhận 1 sản phẩm" in texts(r) and "Nón lá" in texts(r)
    r = await core.handle(msg(f"/nhanma {by_ids}", user="carol"))
    assert "đã được dùng" in texts(r)
    r = await core.handle(msg(f"/start claim_{by_phone}", user="dave"))
    assert "Đã nhận 2 sản phẩm" in texts(r)
    owners = await _owners(core)
    assert owners["Nón lá"] != owners["Mật ong"] == owners["Trà sen"]


async def test_a_code_never_transfers_an_owned_product(sqlite_url, make_core):
    core = make_core(sqlite_url)
    a, b, c = await _seed(core)
    await core.handle(msg(user="alice", contact_phone="0912345678"))
    async with core.sessionmaker() as s, s.begin():
        code = (await create_claim_code(s, cert_ids=[a, b])).code
    r = await core.handle(msg(f"/start claim_{code}", user="mallory"))
    assert "Chưa có sản phẩm nào để nhận" in texts(r)
    owners = await _owners(core)
    async with core.sessionmaker() as s:
        alice = await s.scalar(select(User).where(User.display_name == "Nguyễn Văn A").order_by(User.id))
    assert owners["Mật ong"] == alice.id


def _file(data, name="ds.csv"):
    return InFile(filename=name, size=len(data), mime="text/csv", data=data)


async def test_only_officers_can_import_by_sending_a_file(db_url, make_core):
    core = make_core(db_url)
    data = csv_bytes(GOOD)
    r = await core.handle(msg(user="farmer", file=_file(data)))
    assert "chỉ nhận tệp danh sách" in texts(r)
    assert await _owners(core) == {}
    r = await core.handle(msg(user="admin", file=_file(data)))          # console:admin is an admin
    assert "Thêm mới: 3" in texts(r) and "Đã ghi xong" in texts(r)
    r = await core.handle(msg(user="admin", file=_file(data)))
    assert "không đổi: 3" in texts(r)


async def test_provincial_officer_file_is_checked_and_bad_files_change_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/start", user="officer"))
    async with core.sessionmaker() as s, s.begin():
        s.add(Role(user_id=1, role="officer", province="ca_mau"))
    r = await core.handle(msg(user="officer", file=_file(csv_bytes(GOOD))))
    assert "ngoài phạm vi" in texts(r) and "Chưa ghi gì" in texts(r)
    assert await _owners(core) == {}
    r = await core.handle(msg(user="officer", file=_file(b"%PDF\x00\x00", "a.pdf")))
    assert "không phải bảng tính" in texts(r)
    r = await core.handle(msg(user="officer", file=InFile("big.xlsx", 50 * 2**20, data=None)))
    assert "quá lớn" in texts(r)
    r = await core.handle(msg(user="officer", file=_file(csv_bytes(GOOD[:1]))))
    assert "Thêm mới: 1" in texts(r)
    assert list(await _owners(core)) == ["Mật ong U Minh"]
    async with core.sessionmaker() as s:
        c = await s.scalar(select(Certificate))
        assert c.expires_on == date(2027, 3, 5)


async def test_caption_bo_qua_loi_imports_the_valid_rows(sqlite_url, make_core):
    from tests.products.util import BAD
    core = make_core(sqlite_url)
    r = await core.handle(msg(user="admin", file=_file(csv_bytes(GOOD + BAD))))
    assert "Chưa ghi gì" in texts(r) and "bỏ qua lỗi" in texts(r) and await _owners(core) == {}
    r = await core.handle(msg("Bỏ qua lỗi", user="admin", file=_file(csv_bytes(GOOD + BAD))))
    assert "Đã ghi các dòng hợp lệ, bỏ qua 7 dòng lỗi" in texts(r)
    assert len(await _owners(core)) == 4
