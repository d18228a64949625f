"""Decision 26/2026/QĐ-TTg (in force 22/5/2026): every newly settled rule is answered, and the answer's
"Căn cứ" line cites "26/2026" with the article the rule comes from (issue 13 §1)."""
import re

import pytest

from core.faq import get_renderer
from core.text import fold

# (question as a producer types it, facts the answer must state (folded), article the basis must cite)
RULES = [
    ("hien nay danh gia ocop theo quyet dinh nao", ["26/2026", "22/5/2026"], "Điều 11"),
    ("qd 148 con hieu luc khong", ["het hieu luc", "21/7/2026"], "Điều 11.2"),
    ("gcn cap truoc 22/5/2026 con gia tri khong", ["den het thoi han", "180 ngay"], "Điều 12"),
    ("ai duoc dang ky tham gia ocop", ["trang trai", "hop tac xa", "dang ky kinh doanh"], "Điều 2.3"),
    ("mau so 01 ocop o dau", ["mau so 01", "mau so 02", "phu luc iii"], "Phụ lục III"),
    ("ho so ocop gom nhung gi", ["mau so 01", "mau so 02", "1 bo giay"], "Điều 6.1"),
    ("gio nop ho so ocop o dau", ["ubnd xa", "01 bo ho so giay", "dien tu", "phan mem"], "Điều 7.1"),
    ("can nop bao nhieu mau san pham", ["05 san pham mau", "du lich"], "Điều 6.2d"),
    ("ubnd xa lam gi trong danh gia ocop", ["15 ngay lam viec", "mau 03", "lao dong dia phuong"], "Điều 7.2"),
    ("hoi dong cap tinh gom nhung ai", ["so cong thuong", "so y te", "so khoa hoc va cong nghe"], "Điều 7.3"),
    ("mot nam co may dot danh gia ocop", ["30/6", "30/12", "30/4", "30/10"], "Điều 5.1"),
    ("khi nao nop ho so danh gia lai", ["180 ngay", "120 ngay"], "Điều 7.6a"),
    ("lo han nop ho so danh gia lai thi sao", ["khong qua 180 ngay"], "Điều 12.3"),
    ("khi nao bi thu hoi giay chung nhan ocop", ["gia mao", "ghi nhan", "15 ngay", "chu tich ubnd tinh"], "Điều 8"),
    ("tra, ca phe thuoc nhom ocop nao", ["thuc pham", "che", "ca phe"], "Phụ lục I"),
    ("nuoc mam la do uong hay thuc pham", ["gia vi", "nuoc mam"], "Phụ lục I"),
    ("phan nhom ocop do bo nao quan ly", ["bo y te", "bo cong thuong", "bo van hoa"], "Phụ lục I"),
    ("san pham ocop chia lam bao nhieu phan nhom", ["26 phan nhom"], "Phụ lục I"),
    ("thang diem sao ocop", ["90", "70", "50"], "Điều 3.3"),
    ("phan a phan b phan c bao nhieu diem", ["40", "25", "35"], "Điều 3.1"),
    ("3 sao ocop nghia la gi", ["dac thu", "tiem nang"], "Điều 3.3"),
    ("muon len 5 sao thi lam the nao", ["90 diem", "30/9", "30/3"], "Điều 5.2"),
    ("gcn ocop hieu luc bao lau", ["36 thang"], "Điều 4.3"),
    ("sau khi dat ocop co bi kiem tra khong", ["hau kiem"], "Điều 9"),
    ("nang hang sao can ho so gi", ["thay doi", "minh chung"], "Điều 6.1b"),
    ("ho so danh gia lai gom nhung gi", ["cap nhat", "phieu kiem nghiem", "doanh thu"], "Điều 6.1c"),
]


@pytest.mark.parametrize("question, facts, article", RULES)
def test_each_new_rule_is_answered_with_its_article(question, facts, article):
    a = get_renderer().respond(question)
    assert not a.fallback and a.faq_id, question
    text = fold(re.sub(r"<[^>]+>", "", a.text))
    basis = a.text.rsplit("Căn cứ:", 1)[-1]
    for fact in facts:
        assert fact in text, (question, a.faq_id, fact)
    assert "26/2026" in basis and article in basis, (question, a.faq_id, basis)


def test_history_stays_history():
    r = get_renderer()
    for q, old in (("qd 1048 con hieu luc ko", "1048"), ("qd 1489 thay doi gi", "1489"), ("qd 490 la gi", "490")):
        text = fold(r.respond(q).text)
        assert old in text and "26/2026" in text, q


def test_no_entry_presents_the_lapsed_decisions_as_current():
    from core.faq.content import load_entries
    for e in load_entries():
        basis = e.basis
        if "148/QĐ-TTg" in basis or "1489/QĐ-TTg" in basis:
            assert "26/2026" in basis or "hết hiệu lực" in basis, (e.id, basis)
        assert "hiện nay là <b>quyết định 148" not in e.answer.lower(), e.id


def test_fees_and_support_levels_stay_hedged():
    r = get_renderer()
    for eid in ("le_phi_danh_gia", "chinh_sach_ho_tro", "thong_tu_53", "ha_noi_ho_tro_nhan_hieu"):
        assert "chưa xác nhận được" in r.entry_html(eid), eid
