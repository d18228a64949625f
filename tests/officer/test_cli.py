"""CLI: import-fairs (all-or-nothing, --skip-invalid, XLSX), export-questions, broadcast --dry-run and a
console broadcast, grant-officer."""
import asyncio
import json

import openpyxl
import pytest
from sqlalchemy import select

import bot
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditLog, Broadcast, Delivery, Fair, Identity, OfficerQuestion, Role, User, utcnow

HEADER = "Tên hội chợ,Tỉnh,Ngày bắt đầu,Ngày kết thúc,Hạn đăng ký,Nhóm sản phẩm,Đường dẫn\n"


@pytest.fixture
def env(sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("ZALO_MODE", "")
    return sqlite_url


def _query(url, fn):
    async def go():
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as s, s.begin():
                return await fn(s)
        finally:
            await engine.dispose()
    return asyncio.run(go())


def _all(url, model):
    async def fn(s):
        return list(await s.scalars(select(model)))
    return _query(url, fn)


def test_import_fairs_all_or_nothing(env, tmp_path, capsys):
    f = tmp_path / "hoi-cho.csv"
    f.write_text(HEADER + "Hội chợ A,Tiền Giang,10/12/2026,12/12/2026,1/12/2026,thực phẩm,https://a.vn\n"
                 "Hội chợ B,Atlantis,32/12/2026,,,,ftp://b\n", encoding="utf-8")
    assert bot.main(["import-fairs", str(f)]) == 1
    out = capsys.readouterr()
    assert "Dòng 3" in out.err and "Atlantis" in out.err and "ngày 32" in out.err and "written=no" in out.out
    assert _all(env, Fair) == []
    assert bot.main(["import-fairs", str(f), "--skip-invalid"]) == 0
    fairs = _all(env, Fair)
    assert [(x.name, x.province, x.target_groups) for x in fairs] == [("Hội chợ A", "dong_thap", ["thuc_pham"])]
    assert "Tiền Giang nay thuộc tỉnh Đồng Tháp" in capsys.readouterr().out
    assert [a.action for a in _all(env, AuditLog)] == ["fair.import"]


def test_import_fairs_xlsx_and_update(env, tmp_path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tên hội chợ", "Tỉnh", "Ngày bắt đầu", "Địa điểm"])
    from datetime import date
    ws.append(["Hội chợ X", "Huế", date(2027, 3, 1), "Cung An Định"])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    assert bot.main(["import-fairs", str(path)]) == 0
    ws["D2"] = "Nhà Văn hoá"
    wb.save(path)
    assert bot.main(["import-fairs", str(path)]) == 0
    assert "updated=1" in capsys.readouterr().out
    assert [(x.place, x.end_date) for x in _all(env, Fair)] == [("Nhà Văn hoá", date(2027, 3, 1))]
    bad = tmp_path / "x.csv"
    bad.write_text("", encoding="utf-8")
    assert bot.main(["import-fairs", str(bad)]) == 2


def test_export_questions(env, tmp_path, capsys):
    bot.main(["migrate"])

    async def seed(s):
        u = User(display_name="A")
        s.add(u)
        await s.flush()
        s.add(OfficerQuestion(user_id=u.id, province="dong_thap", question="Hỏi 1", answer="Đáp 1",
                              status="answered", faq_candidate=True, answered_at=utcnow()))
        s.add(OfficerQuestion(user_id=u.id, province="hue", question="Hỏi 2", answer="Đáp 2", status="answered"))
        s.add(OfficerQuestion(user_id=u.id, question="Hỏi 3"))
    _query(env, seed)
    out = tmp_path / "faq.json"
    assert bot.main(["export-questions", "--out", str(out)]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["question"], r["answer"], r["province"]) for r in rows] == [("Hỏi 1", "Đáp 1", "Đồng Tháp")]
    capsys.readouterr()
    assert bot.main(["export-questions", "--all"]) == 0
    csv_out = capsys.readouterr().out
    assert csv_out.startswith("id,province,question") and "Hỏi 2" in csv_out and "Hỏi 3" not in csv_out


def test_broadcast_dry_run_then_console_delivery(env, capsys):
    bot.main(["migrate"])

    async def seed(s):
        for i, (prov, opted) in enumerate([("dong_thap", False), ("hue", False), ("dong_thap", True)]):
            u = User(display_name=f"Người {i}", province=prov, opted_out=opted)
            s.add(u)
            await s.flush()
            s.add(Identity(user_id=u.id, channel="console", external_id=f"c{i}", chat_id=f"c{i}"))
    _query(env, seed)
    capsys.readouterr()
    assert bot.main(["broadcast", "--text", "Chào {{ ten }}", "--province", "Tiền Giang", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Số người nhận: 1" in out and "Chào Người 0" in out and "/huydangky" in out
    assert _all(env, Broadcast) == []
    assert bot.main(["broadcast", "--text", "Chào {{ ho }}"]) == 1
    assert "Không có chỗ điền" in capsys.readouterr().err
    assert bot.main(["broadcast", "--text", "Tin cho mọi người"]) == 0       # no filter: all not opted out
    out = capsys.readouterr()
    assert "2 người nhận" in out.out and "sent=2 blocked=0 failed=0 pending=0 total=2 unknown=0" in out.out
    assert out.err.count("Tin cho mọi người") == 2                            # console sender prints
    assert _all(env, Broadcast)[0].status == "done"
    assert {d.status for d in _all(env, Delivery)} == {"sent"}


def test_grant_officer(env, capsys):
    bot.main(["migrate"])

    async def seed(s):
        u = User(display_name="B")
        s.add(u)
        await s.flush()
        s.add(Identity(user_id=u.id, channel="telegram", external_id="555", chat_id="555"))
    _query(env, seed)
    assert bot.main(["grant-officer", "555", "--province", "Bình Dương"]) == 0
    assert "Hồ Chí Minh" in capsys.readouterr().out
    assert [(r.province, r.user_id) for r in _all(env, Role)] == [("ho_chi_minh", 1)]
    assert bot.main(["grant-officer", "999", "--national"]) == 1
