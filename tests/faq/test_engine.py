"""Engine behaviour: typos, Telex leftovers, small talk, out-of-scope guard, suggestions, provinces."""
import pytest

from core.faq import get_renderer
from core.faq.normalize import raw_tokens
from core.text import html_to_plain


@pytest.fixture(scope="module")
def r():
    return get_renderer()


def test_tokens_fold_numbers_and_stars():
    assert raw_tokens("Sản phẩm 5* có 17.316 SP, ngày 07/5/2018") == \
        ["san", "pham", "5", "sao", "co", "17316", "sp", "ngay", "7", "5", "2018"]


def test_abbreviations_expand(r):
    toks, _ = r.engine.norm.query_tokens("hs dkkd cua htx ko dc")
    assert "ho so dang ky kinh doanh hop tac xa khong duoc" in " ".join(toks)


@pytest.mark.parametrize("q, expected", [
    ("giay chng nhan ocop co thoi han bao lau", "thoi_han_gcn"),       # dropped letter
    ("giay chuwng nhaanj ocop hieu luc bao lau", "thoi_han_gcn"),      # Telex leftovers
    ("ho so ocpo gom nhung gi", "ho_so_gom_gi"),                        # swapped letters
    ("thu hoii gcn khi nao", "thu_hoi_gcn"),
])
def test_typos_are_tolerated(r, q, expected):
    assert r.respond(q).faq_id == expected


@pytest.mark.parametrize("q, kind", [("chào", "greet"), ("xin chào ad", "greet"), ("Cảm ơn bạn nhiều nhé", "thanks"),
                                     ("thanks", "thanks"), ("ok", "ack"), ("tạm biệt", "bye"), ("ok cam on ad", "thanks"),
                                     ("ad ơi", "greet"), ("tôi muốn liên hệ cán bộ", "contact"),
                                     ("bot làm được gì", "help")])
def test_small_talk_is_not_an_faq_entry(r, q, kind):
    a = r.respond(q)
    assert a.outcome == "smalltalk" and a.faq_id is None
    assert r.engine.match(q).smalltalk == kind


@pytest.mark.parametrize("q", ["gia6y chu7ng nha65n ocop co thoi han bao lau",     # VNI typing
                               "giaays chuwngs nhaanj ocop cos thowif hanj bao lau"])  # Telex typing
def test_unconverted_vietnamese_keyboards(r, q):
    assert r.respond(q).faq_id == "thoi_han_gcn"


def test_greeting_with_a_question_answers_the_question(r):
    assert r.respond("chào ad, gcn ocop có hiệu lực bao lâu").faq_id == "thoi_han_gcn"


@pytest.mark.parametrize("q", ["thời tiết mai thế nào", "giá lúa hôm nay bao nhiêu", "cách nấu phở bò",
                               "kết quả bóng đá", "máy tính bị chậm phải làm sao", "", "???"])
def test_out_of_scope_falls_back(r, q):
    assert r.respond(q).fallback


def test_vague_question_gets_suggestions(r):
    a = r.respond("ho so")
    assert a.outcome == "suggest" and 2 <= len(a.suggestions) <= 3
    assert "Có phải bạn muốn hỏi" in a.text and "ho_so_gom_gi" in [i for i, _ in a.suggestions]


def test_every_answer_ends_with_its_legal_basis(r):
    for eid in r.engine.entries:
        text = r.entry_html(eid)
        assert text.rstrip().endswith("</i>") and "Căn cứ: " in text.splitlines()[-1]


def test_old_province_name_is_mapped_in_the_answer(r):
    a = r.respond("tien giang gio thuoc tinh nao")
    assert a.faq_id == "calc_province" and "Tiền Giang nay thuộc tỉnh Đồng Tháp" in html_to_plain(a.text)


@pytest.mark.parametrize("q, note", [("quang nam nay thuoc dau", "Quảng Nam nay thuộc thành phố Đà Nẵng"),
                                     ("Hậu Giang", "Hậu Giang nay thuộc thành phố Cần Thơ"),
                                     ("ha giang sap nhap voi tinh nao", "Hà Giang nay thuộc tỉnh Tuyên Quang")])
def test_old_province_questions(r, q, note):
    a = r.respond(q)
    assert a.faq_id == "calc_province" and note in html_to_plain(a.text)


def test_a_province_name_alone_does_not_make_a_question_in_scope(r):
    assert r.respond("thoi tiet tien giang ngay mai").fallback


def test_unverified_points_are_hedged(r):
    # QĐ 26/2026 settled district certificates (Điều 12.1), samples (6.2d) and the re-evaluation
    # window (7.6a): those entries now state the rule; what stays open (fees, credit, support) is hedged.
    for eid in ("le_phi_danh_gia", "vay_von", "chinh_sach_ho_tro", "ha_noi_ho_tro_nhan_hieu"):
        assert "chưa" in r.entry_html(eid) and ("tỉnh" in r.entry_html(eid) or "xã" in r.entry_html(eid))


@pytest.mark.parametrize("q", [
    "cho em hoi lam giay chung nhan quyen su dung dat o dau a",   # land certificate, not the OCOP one
    "ubnd xa lam viec may gio",                                    # office hours
    "ho kinh doanh dong thue bao nhieu phan tram",                 # tax
    "ocop hay vietgap tot hon",                                    # another certification
    "gia ban sp ocop bao nhieu",                                   # market prices: no fact
])
def test_off_topic_terms_absent_from_the_entry_fall_back(r, q):
    assert r.respond(q).fallback


def test_off_topic_term_used_by_the_entry_does_not_block_it(r):
    m = r.engine.match("vay von lai suat thap cho htx ocop")
    assert m.outcome == "answer" and m.faq_id == "vay_von"


def test_off_topic_term_with_parts_needs_all_of_them(r):
    assert r.respond("gia sau rieng hom nay the nao").fallback
    assert r.respond("hom nay nop ho so ocop o dau").faq_id == "nop_ho_so_o_dau"


def test_long_message_is_answered_from_its_question_clause(r):
    q = ("da em chao ad, em nuoi ong o xa, nam 2022 em duoc cong nhan 3 sao cho sp mat ong, "
         "gio em nghe noi gcn chi co thoi han, vay cho em hoi gcn co thoi han bao lau a")
    assert r.respond(q).faq_id == "thoi_han_gcn"


def test_abbreviation_keys_longer_than_four_words_expand(r):
    toks, _ = r.engine.norm.query_tokens("mot xa mot san pham la gi")
    assert "ocop" in toks
