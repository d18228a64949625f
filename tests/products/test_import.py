"""Officer import: header spellings and order, CSV/XLSX, validation reasons with line numbers,
all-or-nothing, --skip-invalid, idempotent re-import, file-level errors."""
from datetime import date

from sqlalchemy import func, select

from handlers.products.importer import COLUMNS, REQUIRED, import_certificates
from storage.models import Certificate
from core.tabular import read_table
from tests.products.util import BAD, GOOD, csv_bytes, xlsx_bytes

TODAY = date(2026, 11, 22)


async def _run(core, data, name="ds.csv", **kw):
    async with core.sessionmaker() as s, s.begin():
        return await import_certificates(s, data, name, today=TODAY, **kw)


async def _count(core):
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Certificate))


def test_reader_matches_headers_in_any_order_and_spelling():
    header = ["Hạng sao", "SĐT", "Tỉnh", "Ten san pham", "Nhóm sản phẩm", "Số QĐ", "Ngày quyết định", "Ghi chú"]
    data = csv_bytes([["4", "0912345678", "Cà Mau", "Mật ong", "1", "12/QĐ", "5/3/2024", "x"]], header,
                     delimiter=";", bom=True)
    rows, errors = read_table(data, "a.csv", COLUMNS, REQUIRED)
    assert errors == []
    assert rows[0].line == 2
    assert rows[0].values["product"] == "Mật ong" and rows[0].values["stars"] == "4"
    assert rows[0].values["decision_no"] == "12/QĐ" and "producer" not in rows[0].values


def test_reader_xlsx_keeps_dates_and_line_numbers():
    rows, errors = read_table(xlsx_bytes([["Mật ong", "", 912345678, "", "Cà Mau", "Thực phẩm", 4, "1/QĐ",
                                           date(2024, 3, 5)]], blank_top=2), "a.xlsx", COLUMNS, REQUIRED)
    assert errors == []
    assert rows[0].line == 4
    assert rows[0].values["recognized_on"] == date(2024, 3, 5)
    assert rows[0].values["phone"] == "912345678" and rows[0].values["stars"] == "4"


def test_reader_reports_missing_columns_empty_and_non_spreadsheet_files():
    _, e = read_table(b"", "a.csv", COLUMNS, REQUIRED)
    assert "trống" in str(e[0])
    _, e = read_table(b"\xef\xbb\xbf\n\n", "a.csv", COLUMNS, REQUIRED)
    assert "trống" in str(e[0])
    _, e = read_table(b"%PDF-1.4\x00\x01\x02binary", "a.pdf", COLUMNS, REQUIRED)
    assert "không phải bảng tính" in str(e[0])
    _, e = read_table(b"PK\x03\x04garbage", "a.xlsx", COLUMNS, REQUIRED)
    assert "Không mở được tệp Excel" in str(e[0])
    _, e = read_table(b"\xd0\xcf\x11\xe0old", "a.xls", COLUMNS, REQUIRED)
    assert ".xlsx" in str(e[0])
    _, e = read_table("Tên sản phẩm,Tỉnh\nA,B\n".encode(), "a.csv", COLUMNS, REQUIRED)
    assert e[0].line == 1 and "Thiếu cột" in str(e[0]) and "Số sao" in str(e[0])
    _, e = read_table(csv_bytes([]), "a.csv", COLUMNS, REQUIRED)
    assert "chỉ có dòng tiêu đề" in str(e[0])
    _, e = read_table("Tên sản phẩm\n".encode("utf-16"), "a.csv", COLUMNS, REQUIRED)
    assert e and e[0].line == 0


async def test_valid_csv_imports_and_reimport_changes_nothing(db_url, make_core):
    core = make_core(db_url)
    r = await _run(core, csv_bytes(GOOD))
    assert (r.created, r.updated, r.unchanged, r.invalid, r.written) == (3, 0, 0, 0, True)
    assert any("Tiền Giang nay thuộc tỉnh Đồng Tháp" in n for n in r.notes)
    async with core.sessionmaker() as s:
        tra = await s.scalar(select(Certificate).where(Certificate.product == "Trà sen Tháp Mười"))
        assert tra.province == "dong_thap" and tra.phone == "0987654321" and tra.group == "do_uong"
        assert tra.expires_on == date(2026, 1, 10) and tra.owner_user_id is None and tra.source == "import"
        non = await s.scalar(select(Certificate).where(Certificate.product == "Nón lá Huế"))
        assert non.recognized_on == date(2022, 8, 20) and non.phone is None
    r = await _run(core, csv_bytes(GOOD))
    assert (r.created, r.updated, r.unchanged, r.written) == (0, 0, 3, False)
    changed = [row[:] for row in GOOD]
    changed[0][6] = "5"
    r = await _run(core, csv_bytes(changed))
    assert (r.created, r.updated, r.unchanged) == (0, 1, 2)
    assert await _count(core) == 3


async def test_xlsx_with_other_headers_gives_same_result(sqlite_url, make_core):
    core = make_core(sqlite_url)
    header = ["Số quyết định", "Ngày công nhận", "Tên SP", "Tỉnh/thành phố", "Nhóm", "Xếp hạng", "Điện thoại"]
    rows = [[g[7], date(2024, 3, 5), g[0], g[4], g[5], int(g[6][0]), g[2]] for g in GOOD]
    r = await _run(core, xlsx_bytes(rows, header), "ds.xlsx")
    assert (r.created, r.invalid) == (3, 0)


async def test_invalid_rows_are_reported_and_nothing_is_written(db_url, make_core):
    core = make_core(db_url)
    r = await _run(core, csv_bytes(GOOD + BAD))
    reasons = {e.line: e.message for e in r.errors}
    assert r.invalid == 7 and not r.written
    assert "tháng 2/2024 không có ngày 31" in reasons[5]
    assert "không nhận ra tỉnh" in reasons[6]
    assert "số sao «6»" in reasons[7]
    assert "Đồ chơi" in reasons[8] and "6 nhóm" in reasons[8]
    assert "tương lai" in reasons[9]
    assert "trùng với dòng 10" in reasons[11]
    assert "số điện thoại" in reasons[12]
    assert 10 not in reasons
    assert await _count(core) == 0


async def test_skip_invalid_writes_the_valid_rows(sqlite_url, make_core):
    core = make_core(sqlite_url)
    r = await _run(core, csv_bytes(GOOD + BAD), skip_invalid=True)
    assert r.written and r.created == 4 and r.invalid == 7
    assert await _count(core) == 4


async def test_dry_run_writes_nothing(sqlite_url, make_core):
    core = make_core(sqlite_url)
    r = await _run(core, csv_bytes(GOOD), dry_run=True)
    assert r.created == 3 and not r.written
    assert await _count(core) == 0
