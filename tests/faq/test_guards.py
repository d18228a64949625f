"""No wrong direct answers (issue 15 §4, §5): questions that share words with an entry but ask something else."""
import pytest

from core.faq import get_renderer
from core.text import fold, html_to_plain


@pytest.fixture(scope="module")
def r():
    return get_renderer()


@pytest.mark.parametrize("q", [
    "thủ tục giải thể HTX",                                   # not "các bước tham gia OCOP"
    "tiêu chí xã nông thôn mới nâng cao",                     # not the OCOP criteria
    "xa em dat nong thon moi kieu mau chua",
    "giấy chứng nhận bị mất xin cấp lại thế nào",             # not the re-evaluation dossier
    "gcn ocop bi mat thi lam sao",
    "dang ky ma so ma vach cho sp o dau, phi bao nhieu",      # a long message's clause must fit the whole
    "dang ky ho kinh doanh le phi bao nhieu",
    "ho so vay von ngan hang nong nghiep gom nhung gi",
    "cach livestream tren tiktok cho dong nguoi xem",
    "danh gia 5 sao cho shop tren shopee the nao",
])
def test_questions_about_something_else_get_no_direct_answer(r, q):
    a = r.respond(q)
    assert a.outcome != "answer", (q, a.faq_id)


def test_a_bare_no_of_another_question_is_not_given(r):
    """'QĐ 148 còn hiệu lực không' (typed with Telex leftovers) must not get the 'Không.' about QĐ 1048."""
    a = r.respond("quyeets ddinhj 148 conf hieeuj lucj khoong")
    assert not (a.outcome == "answer" and fold(html_to_plain(a.text)).startswith("khong."))
    assert a.faq_id != "qd_1048_781_het_hieu_luc"


def test_identifier_picks_the_entry_that_names_it(r):
    e = r.engine
    assert e.identifiers(e.norm.query_tokens("mau 03 la cua ai lam")[0]) == {"3"}
    assert e.identifiers(e.norm.query_tokens("qd 1489 thay doi gi")[0]) == {"1489"}


def test_negative_phrases_exclude_an_entry(r):
    words = r.engine.norm.query_words("thu tuc giai the htx")[0]
    assert r.engine.negative_hit(words, "cac_buoc_tham_gia")
    assert not r.engine.negative_hit(r.engine.norm.query_words("cac buoc tham gia ocop")[0], "cac_buoc_tham_gia")


def test_suggestions_are_few_and_close(r):
    for q in ("ho so", "gcn", "sao ocop", "nhan hieu", "danh gia lai"):
        a = r.respond(q)
        if a.outcome == "suggest":
            assert 1 <= len(a.suggestions) <= 3
            m = r.engine.match(q)
            scores = dict(m.ranked)
            top = m.ranked[0][1]
            assert all(scores[i] >= top - r.engine.params.suggest_gap for i, _ in a.suggestions)


def test_guard_files_name_real_entries(r):
    assert set(r.engine.data.negative) <= set(r.engine.entries)


@pytest.mark.parametrize("q", [
    "chứng minh nhân dân hết hạn",                            # not the certificate's expiry notice
    "lịch nghỉ tết của UBND xã",                              # not the commune's role in OCOP
    "lich hop cua ubnd xa tuan nay",
    "chủ tịch UBND xã là ai",
    "giấy phép kinh doanh hết hạn thì làm sao",               # not "no business registration yet"
    "the bao hiem y te het han",
])
def test_other_services_words_get_the_fallback(r, q):
    """Expiry, the commune's office, business registration: shared with other services. A question that
    names none of the entry's topic anchors and something its questions never mention is not that entry."""
    a = r.respond(q)
    assert a.outcome == "fallback", (q, a.outcome, a.faq_id)


@pytest.mark.parametrize("q, fid", [
    ("het han gcn roi thi sao", None),                        # no other subject: the certificate is meant
    ("sap het han gcn co ai bao ko", "thong_bao_30_ngay"),
    ("ubnd xa lam gi trong ocop", "vai_tro_ubnd_xa"),
    ("ubnd phuong co vai tro gi", "vai_tro_ubnd_xa"),         # a ward is a commune-level unit too
    ("chua co dkkd co lam ocop duoc khong", "ho_chua_dang_ky_kinh_doanh"),
])
def test_topic_anchors_keep_the_entries_own_questions(r, q, fid):
    a = r.respond(q)
    assert a.outcome == "answer" and (fid is None or a.faq_id == fid), (q, a.outcome, a.faq_id)


def test_topic_anchor_guard(r):
    e = r.engine
    words = e.norm.query_words("chung minh nhan dan het han")[0]
    assert e.off_anchor(words, "thong_bao_30_ngay")
    assert not e.off_anchor(e.norm.query_words("gcn het han co ai bao")[0], "thong_bao_30_ngay")
    assert not e.off_anchor(words, "thoi_han_gcn")           # an entry without anchors is never ruled out here
    assert set(e.data.requires) <= set(e.entries)


def test_an_identifier_prefers_the_entry_whose_question_names_it(r):
    """'148 có gì mới' is about 148's changes, not 26/2026's (whose paraphrases only compare with 148)."""
    assert r.respond("qd 148 co gi moi so voi truoc").faq_id == "diem_moi_148"


def test_a_product_named_is_a_detail(r):
    """'bánh kẹo' in a question about business registration must not sink its coverage."""
    assert r.respond("nong dan tu lam banh keo tai nha ko co dkkd thi sao").faq_id == "ho_chua_dang_ky_kinh_doanh"
    assert r.respond("ad cho e hoi 1 sp dat bao nhieu diem moi duoc 3 sao a").faq_id == "thang_diem_sao"
