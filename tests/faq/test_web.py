"""«FAQ» /quantri/faq with aiohttp's test client: misses, entries, officers' edits with history and revert."""
from __future__ import annotations

import html
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, insert, select

import core.faq as faq
from core.faq.check import check_content
from core.faq.content import load_entries
from handlers.faq import cli as faq_cli
from handlers.faq import repo
from storage.models import AuditLog, FaqEdit, FaqLog, Feedback, OfficerQuestion, User
from tests.helpers import msg, texts

ROOT = Path(__file__).resolve().parents[2]

ENTRY = "thoi_han_gcn"
ASK = "giay chung nhan ocop co thoi han bao lau"            # one of the entry's paraphrases
NEW_ANSWER = "Bản sửa thử: giấy chứng nhận có giá trị <b>ba mươi sáu tháng</b>."
NEW_ID = "ban_tren_tau_hoa"
NEW_ASK = "san pham ocop ban tren tau hoa duoc khong"
NEW_PARAS = [NEW_ASK, "co duoc ban ocop tren tau hoa", "ban hang ocop tren chuyen tau", "tau hoa co nhan ban ocop",
             "dua san pham ocop len tau hoa", "ocop tren toa tau", "ban dac san ocop o ga tau hoa",
             "duong sat co ban san pham ocop khong"]


def form_of(entry, **changes) -> dict:
    data = {"question": entry.question, "paraphrases": "\n".join(entry.paraphrases), "answer": entry.answer,
            "basis": entry.basis, "sources": "\n".join(entry.sources)}
    return {**data, **changes}


def new_form(**changes) -> dict:
    data = {"id": NEW_ID, "file": "chuong_trinh.yml", "question": "Sản phẩm OCOP có được bán trên tàu hỏa không?",
            "paraphrases": "\n".join(NEW_PARAS), "answer": "Bản thử: liên hệ <b>đơn vị vận tải đường sắt</b>.",
            "basis": "QĐ 26/2026/QĐ-TTg", "sources": "https://vanban.chinhphu.vn/?pageid=27160&docid=218267"}
    return {**data, **changes}


async def count(core, model) -> int:
    async with core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def answer_text(core, question: str = ASK, user: str = "u1") -> str:
    return texts(await core.handle(msg(question, user=user)))


async def test_scope_and_role_matrix(sqlite_console):
    c = sqlite_console
    base = repo.base_entry(ENTRY)
    for kind, status in (("officer", 403), ("national", 303), ("admin", 303)):
        await c.as_(kind, "cao_bang")
        r = await c.get("/quantri/faq")
        body = await r.text()
        assert r.status == 200 and base.question in body and 'href="/quantri/faq"' in body
        assert kind != "officer" or "Tạo mục mới" not in body
        page = await (await c.get(f"/quantri/faq/{ENTRY}")).text()
        assert ('name="answer"' in page) == (kind != "officer")
        before = await count(c.core, FaqEdit)
        r = await c.post(f"/quantri/faq/{ENTRY}", form_of(base, answer=NEW_ANSWER + kind))
        assert r.status == status, await r.text()
        assert await count(c.core, FaqEdit) == before + (status == 303)
        if kind == "officer":
            assert "Chỉ quản trị viên và cán bộ toàn quốc" in await r.text()
            for path in ("/quantri/faq/moi", f"/quantri/faq/{ENTRY}/hoan-tac"):
                r = await c.post(path, new_form())
                assert r.status == 403
            assert (await c.get("/quantri/faq/moi")).status == 403
            assert NEW_ANSWER not in await answer_text(c.core)
    await c.as_("none")
    assert (await c.get("/quantri/faq")).status in (401, 403)


async def test_csrf_and_origin_are_checked(sqlite_console):
    c = sqlite_console
    await c.as_("national")
    form = form_of(repo.base_entry(ENTRY), answer=NEW_ANSWER)
    r = await c.post(f"/quantri/faq/{ENTRY}", {**form, "csrf": "wrong"})
    assert r.status == 403
    r = await c.post(f"/quantri/faq/{ENTRY}", form, headers={"Origin": "http://evil.example"})
    assert r.status == 403
    assert await count(c.core, FaqEdit) == 0 and NEW_ANSWER not in await answer_text(c.core)


async def test_bad_input_gets_a_vietnamese_reason_and_changes_nothing(sqlite_console):
    c = sqlite_console
    await c.as_("admin")
    base = repo.base_entry(ENTRY)
    cases = [
        (f"/quantri/faq/{ENTRY}", form_of(base, answer=NEW_ANSWER, sources=""), "thiếu nguồn"),
        (f"/quantri/faq/{ENTRY}", form_of(base, answer="Lỗi {% if %} mẫu"), "mẫu câu trả lời (Jinja2)"),
        (f"/quantri/faq/{ENTRY}", form_of(base, answer="Xin chào {{ ten_khong_co }}"), "mẫu câu trả lời (Jinja2)"),
        (f"/quantri/faq/{ENTRY}", form_of(base, answer="<script>x</script>"), "không được dùng"),
        (f"/quantri/faq/{ENTRY}", form_of(base, paraphrases="mot\nhai"), "cần ít nhất 8"),
        ("/quantri/faq/moi", new_form(id=ENTRY), "mã mục này đã có"),
        ("/quantri/faq/moi", new_form(id="Sai Mã!"), "mã mục chỉ gồm chữ thường"),
        ("/quantri/faq/moi", new_form(file="khac.yml"), "chọn một chủ đề"),
        ("/quantri/faq/moi", new_form(paraphrases="\n".join(NEW_PARAS[:7] + list(base.paraphrases[:1]))),
         f"đã thuộc mục {ENTRY}"),
    ]
    for path, form, reason in cases:
        r = await c.post(path, form)
        body = await r.text()
        assert r.status == 400 and reason in body and "Chưa lưu được" in body, (reason, body[-3000:])
        assert "Traceback" not in body
    assert await count(c.core, FaqEdit) == 0
    assert faq.installed_version() is None and repo.in_force(NEW_ID) is None
    assert base.answer.split("<")[0][:30] in await answer_text(c.core)


async def test_edit_takes_effect_at_once_with_history_and_revert(console):
    c = console
    uid = await c.as_("national")
    old = await answer_text(c.core)
    base = repo.base_entry(ENTRY)
    r = await c.post(f"/quantri/faq/{ENTRY}", form_of(base, answer=NEW_ANSWER))
    assert r.status == 303 and r.headers["Location"].startswith(f"/quantri/faq/{ENTRY}")
    assert "ba mươi sáu tháng" in await answer_text(c.core)          # no restart
    async with c.core.sessionmaker() as s:
        [row] = list(await s.scalars(select(FaqEdit)))
        assert (row.faq_id, row.action, row.user_id) == (ENTRY, "edit", uid)
        assert row.before["answer"] == base.answer and row.after["answer"] == NEW_ANSWER
        assert row.after["reviewed"] == c.core.today().isoformat() and row.created_at is not None
        assert await s.scalar(select(AuditLog.action).where(AuditLog.action == "faq.edit")) == "faq.edit"
    page = await (await c.get(r.headers["Location"])).text()
    assert 'id="history"' in page and "Cán bộ A" in page and "hoan-tac" in page and "Đã lưu" in page
    assert "08:00 22/11/2026" in page and "<summary>Câu trả lời</summary>" in page and "<summary>Nguồn" not in page
    listing = await (await c.get("/quantri/faq")).text()
    assert f'id="e-{ENTRY}"' in listing and "đã sửa trên web" in listing
    r = await c.post(f"/quantri/faq/{ENTRY}/hoan-tac", {})
    assert r.status == 303
    assert await answer_text(c.core) == old
    async with c.core.sessionmaker() as s:
        rows = list(await s.scalars(select(FaqEdit).order_by(FaqEdit.id)))
    assert [x.action for x in rows] == ["edit", "revert"]
    assert rows[1].before["answer"] == NEW_ANSWER and rows[1].after["answer"] == base.answer
    r = await c.post(f"/quantri/faq/{ENTRY}/hoan-tac", {})
    assert r.status == 400 and "Không có gì để hoàn tác" in await r.text()


async def test_misses_grouped_by_folded_text_within_scope_and_a_new_entry_from_one(sqlite_console):
    c = sqlite_console
    t0 = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    async with c.core.sessionmaker() as s:
        cb, dt = User(display_name="A", province="cao_bang"), User(display_name="B", province="dong_thap")
        s.add_all([cb, dt])
        await s.flush()
        for i, (uid, q) in enumerate([(cb.id, "Phí đánh giá OCOP bao nhiêu?"), (cb.id, "phi danh gia ocop  bao nhieu?"),
                                      (dt.id, "PHÍ ĐÁNH GIÁ OCOP BAO NHIÊU?"), (dt.id, "Xoài Đồng Tháp giá bao nhiêu")]):
            s.add(FaqLog(user_id=uid, question=q, outcome="fallback", score=0.1, created_at=t0.replace(day=20 + i)))
        s.add(FaqLog(user_id=cb.id, question="gcn ocop het han khi nao", outcome="answer", faq_id=ENTRY, score=1))
        s.add(Feedback(user_id=cb.id, faq_id=ENTRY, vote=-1, question="GCN OCOP hết hạn khi nào", created_at=t0))
        await s.commit()
    await c.as_("national")
    async with c.core.sessionmaker() as s:
        groups = {m.key: m for m in await repo.misses(s)}
        local = {m.key: m for m in await repo.misses(s, frozenset({"cao_bang"}))}
    fee = groups["phi danh gia ocop bao nhieu?"]
    assert (fee.count, fee.last.day, fee.question) == (3, 22, "PHÍ ĐÁNH GIÁ OCOP BAO NHIÊU?")
    assert groups["gcn ocop het han khi nao"].downvotes == 1 and groups["gcn ocop het han khi nao"].closest == ENTRY
    assert local["phi danh gia ocop bao nhieu?"].count == 2 and not any("xoai" in k for k in local)
    body = await (await c.get("/quantri/faq")).text()
    assert "PHÍ ĐÁNH GIÁ OCOP BAO NHIÊU?" in body and "Tạo mục mới" in body
    await c.as_("officer", "cao_bang")
    body = await (await c.get("/quantri/faq")).text()
    assert "Xoài Đồng Tháp" not in body and "Tạo mục mới" not in body
    # a new entry from the miss
    await c.as_("admin")
    form = await (await c.get("/quantri/faq/moi?q=Ph%C3%AD%20%C4%91%C3%A1nh%20gi%C3%A1")).text()
    assert 'value="phi_danh_gia"' in form and "Phí đánh giá" in form
    r = await c.post("/quantri/faq/moi", new_form())
    assert r.status == 303, await r.text()
    assert "đơn vị vận tải đường sắt" in await answer_text(c.core, NEW_ASK, user="u9")
    async with c.core.sessionmaker() as s:
        [row] = list(await s.scalars(select(FaqEdit)))
    assert (row.action, row.before, row.after["file"]) == ("create", None, "chuong_trinh.yml")
    r = await c.post(f"/quantri/faq/{NEW_ID}/hoan-tac", {})          # revert a created entry: it is gone
    assert r.status == 303 and r.headers["Location"] == "/quantri/faq" and repo.in_force(NEW_ID) is None
    assert (await c.get(f"/quantri/faq/{NEW_ID}")).status == 404


async def test_a_miss_older_than_the_latest_5000_rows_still_counts(console):
    """Grouped in SQL over every row; the key is filled by an executemany insert (the group commit's way)."""
    t0 = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
    async with console.core.sessionmaker() as s:
        cb = User(display_name="A", province="cao_bang")
        s.add(cb)
        await s.flush()
        s.add(FaqLog(user_id=cb.id, question="Chợ phiên Đồng Văn có bán OCOP không?", outcome="fallback", score=0.1,
                     created_at=t0))
        await s.execute(insert(FaqLog), [dict(user_id=cb.id, question=f"Câu hỏi mới số {i}", outcome="fallback",
                                              score=0.1, created_at=t0.replace(month=6)) for i in range(5000)])
        await s.execute(insert(FaqLog), [dict(user_id=cb.id, question="Chè Shan tuyết bán ở đâu", outcome="fallback",
                                              score=0.1, created_at=t0.replace(month=m)) for m in (7, 8, 9)])
        await s.commit()
        assert await s.scalar(select(FaqLog.question_key).where(FaqLog.id == 2)) == "cau hoi moi so 0"
        groups = {m.key: m for m in await repo.misses(s, limit=10_000)}
        local = {m.key: m for m in await repo.misses(s, frozenset({"cao_bang"}), limit=10_000)}
        top = await repo.misses(s, limit=1)
    old = groups["cho phien dong van co ban ocop khong?"]
    assert (old.count, old.last, old.question) == (1, t0, "Chợ phiên Đồng Văn có bán OCOP không?")
    assert len(groups) == 5002 and local.keys() == groups.keys()
    assert [(m.key, m.count, m.last.month) for m in top] == [("che shan tuyet ban o dau", 3, 9)]


async def test_a_miss_also_sent_to_officers_links_to_those_questions_within_scope(sqlite_console):
    c = sqlite_console
    t0 = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    async with c.core.sessionmaker() as s:
        cb, dt = User(display_name="A", province="cao_bang"), User(display_name="B", province="dong_thap")
        s.add_all([cb, dt])
        await s.flush()
        s.add_all([FaqLog(user_id=u, question=q, outcome="fallback", score=0.1, created_at=t0) for u, q in
                   [(cb.id, "Bán OCOP trên sàn Shopee được không?"), (dt.id, "ban ocop tren san shopee duoc khong?")]])
        mine = OfficerQuestion(user_id=cb.id, province="cao_bang", question="Bán OCOP trên sàn Shopee được không?")
        theirs = OfficerQuestion(user_id=dt.id, province="dong_thap", question="BÁN OCOP TRÊN SÀN SHOPEE ĐƯỢC KHÔNG?",
                                 status="answered", answer="Được, theo quy định của sàn.")
        other = OfficerQuestion(user_id=cb.id, province="cao_bang", question="Hội chợ tháng 12 ở đâu?")
        s.add_all([mine, theirs, other])
        await s.commit()
        [national] = await repo.misses(s)
        [local] = await repo.misses(s, frozenset({"cao_bang"}))
    assert (national.sent, national.sent_open, local.sent, local.sent_open) == (2, 1, 1, 1)
    link = f"/quantri/cau-hoi?tt=tat-ca&hoi={quote(national.key)}"
    await c.as_("national")
    body = await (await c.get("/quantri/faq")).text()
    assert 'data-sent="2"' in body and html.escape(link) in body
    body = await (await c.get(link)).text()
    assert f'id="q{mine.id}"' in body and f'id="q{theirs.id}"' in body and f'id="q{other.id}"' not in body
    assert 'id="loc-cau-hoi"' in body
    await c.as_("officer", "cao_bang")
    assert 'data-sent="1"' in await (await c.get("/quantri/faq")).text()
    body = await (await c.get(link)).text()
    assert f'id="q{mine.id}"' in body and f'id="q{theirs.id}"' not in body and f'id="q{other.id}"' not in body


async def test_entries_not_reviewed_for_12_months_are_flagged(sqlite_console, today):
    c = sqlite_console
    newest = max(e.reviewed for e in repo.faq.get_renderer().engine.entries.values())
    today.value = date(newest.year + 1, newest.month, newest.day)
    await c.as_("officer")
    body = await (await c.get("/quantri/faq")).text()
    assert body.count('data-stale="1"') == len(repo.faq.get_renderer().engine.entries)
    today.value = newest
    await c.as_("officer")
    body = await (await c.get("/quantri/faq")).text()
    assert 'data-stale="1"' not in body


async def test_another_instance_sees_the_edit_through_the_version(sqlite_console):
    c = sqlite_console
    base = repo.base_entry(ENTRY)
    async with c.core.sessionmaker() as s:                           # an edit written by another process
        s.add(FaqEdit(faq_id=ENTRY, action="edit", user_id=None, before=repo.as_dict(base),
                      after={**repo.as_dict(base), "answer": NEW_ANSWER}))
        await s.commit()
    assert "ba mươi sáu tháng" in await answer_text(c.core)
    async with c.core.sessionmaker() as s:
        assert faq.installed_version() == await repo.version(s)
        s.add(FaqEdit(faq_id=ENTRY, action="revert", before=None, after=repo.as_dict(base)))
        await s.commit()
    repo.forget_sync()                                               # (the CHECK_EVERY interval has passed)
    assert "ba mươi sáu tháng" not in await answer_text(c.core)


async def test_export_faq_round_trip(sqlite_console, tmp_path):
    c = sqlite_console
    await c.as_("admin")
    base = repo.base_entry(ENTRY)
    assert (await c.post(f"/quantri/faq/{ENTRY}", form_of(base, answer=NEW_ANSWER + "\nDòng hai."))).status == 303
    assert (await c.post("/quantri/faq/moi", new_form())).status == 303
    out = tmp_path / "faq"
    env = dict(os.environ, TELEGRAM_BOT_TOKEN="", DATABASE_URL=c.core.settings.database_url)
    p = subprocess.run([sys.executable, "bot.py", "export-faq", "--out", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert p.returncode == 0, p.stderr
    assert "giay_chung_nhan.yml" in p.stdout and "chuong_trinh.yml" in p.stdout
    assert check_content(out) == []
    exported = {e.id: e for e in load_entries(out)}
    merged = {e.id: e for e in faq.merged_entries(await _overrides(c.core))}
    assert exported.keys() == merged.keys()
    for i, e in merged.items():
        assert exported[i] == e, i
    assert exported[ENTRY].answer == NEW_ANSWER + "\nDòng hai." and exported[NEW_ID].file == "chuong_trinh.yml"
    untouched = [p.name for p in out.iterdir() if p.name not in ("giay_chung_nhan.yml", "chuong_trinh.yml")]
    src = faq_cli.FAQ_DIR
    assert all((out / n).read_bytes() == (src / n).read_bytes() for n in untouched)


async def _overrides(core):
    async with core.sessionmaker() as s:
        return await repo.overrides(s)


async def test_a_thumbs_down_from_the_bot_is_a_miss_with_its_question(sqlite_console):
    c = sqlite_console
    from handlers.faq import NS
    await c.core.handle(msg("GCN OCOP có thời hạn bao lâu vậy?", user="p1"))
    await c.core.handle(msg(callback=f"{NS}:dn:{ENTRY}", user="p1"))
    await c.core.handle(msg("gcn ocop co thoi han bao lau vay?", user="p2"))
    await c.core.handle(msg(callback=f"{NS}:dn:{ENTRY}", user="p2"))
    await c.core.handle(msg(callback=f"{NS}:up:{ENTRY}", user="p2"))            # changed its mind: not a miss
    async with c.core.sessionmaker() as s:
        assert sorted(await s.scalars(select(Feedback.question))) == [
            "GCN OCOP có thời hạn bao lâu vậy?", "gcn ocop co thoi han bao lau vay?"]
        [m] = await repo.misses(s)
    assert (m.key, m.count, m.downvotes, m.closest) == ("gcn ocop co thoi han bao lau vay?", 1, 1, ENTRY)
    await c.as_("national")
    body = await (await c.get("/quantri/faq")).text()
    assert "GCN OCOP có thời hạn bao lâu vậy?" in body and "👎 1" in body
