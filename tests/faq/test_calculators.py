"""Calculators: product -> group, old name -> province, score -> stars, date -> expiry, and their answers."""
from datetime import date

import pytest
import yaml

from core.faq import expiry, get_renderer, places, products, stars
from core.reference import DATA, all_provinces, group_by_id
from core.text import fold, html_to_plain


@pytest.fixture(scope="module")
def r():
    return get_renderer()


def plain(answer) -> str:
    return fold(html_to_plain(answer.text))


# --- product gazetteer ------------------------------------------------------------------------
def test_gazetteer_is_big_and_uses_known_sub_groups():
    g = products.gazetteer()
    assert len(g.products) >= 300
    subs = products.subgroups()
    assert {p.subgroup for p in g.products} == set(subs)          # every sub-group has products
    assert all(group_by_id(p.group) for p in g.products)


def test_every_product_and_spelling_resolves_to_its_group():
    g = products.gazetteer()
    clashing = {c[0] for c in g.clashes}        # "quat" = quạt / quất: only diacritics tell them apart
    for p in g.products:
        for name in p.names:
            for typed in (name, fold(name)):                       # with and without diacritics
                hits = products.lookup(f"{typed} thuộc nhóm nào")
                assert hits, typed
                if typed == fold(name) and fold(name) in clashing:
                    continue
                assert hits[0].product.group == p.group, (typed, hits[0].product, p)


def test_names_told_apart_only_by_diacritics_are_few():
    assert len(products.gazetteer().clashes) <= 3
    assert products.lookup("quất cảnh")[0].product.group == "sinh_vat_canh"
    assert products.lookup("quạt tre")[0].product.group == "thu_cong"


@pytest.mark.parametrize("text, sub", [
    ("lạp xưởng tươi", "che_bien_thit"), ("kho ca loc 1 nang", "che_bien_thit"), ("trứng vịt muối", "che_bien_thit"),
    ("cao xoa bop", "thuc_pham_chuc_nang"), ("xa bong thao duoc", "my_pham"), ("vai tho cam", "vai_may_mac"),
    ("nuoc mam phu quoc", "nuoc_mam"), ("mắm tép", "nuoc_mam"), ("chè Thái Nguyên", "che"), ("ca phe rang xay", "ca_phe_ca_cao"),
    ("tra gung tui loc", "tra_thuc_vat"), ("homestay", "du_lich"), ("lan hồ điệp", "hoa"), ("cá koi", "dong_vat_canh"),
])
def test_known_products(text, sub):
    assert products.lookup(text)[0].product.subgroup == sub


@pytest.mark.parametrize("text", ["thực phẩm chế biến", "cho em hỏi", "sản phẩm của em", "kiểm tra hồ sơ",
                                  "hợp tác xã", "đánh giá lần đầu", "ad ơi", "chứng nhận"])
def test_ordinary_words_are_not_products(text):
    assert products.lookup(text) == []


def test_one_syllable_names_need_the_same_diacritics():
    assert products.lookup("chè")[0].product.subgroup == "che"
    assert products.lookup("che")[0].product.subgroup == "che"
    assert products.lookup("chế") == []


# --- old names -> provinces ---------------------------------------------------------------------
def test_every_old_unit_resolves_to_its_new_province():
    for p in all_provinces():
        for old in (*p.formed_from, p.name):
            for typed in (old, fold(old)):
                hit = places.find(typed)
                assert hit is not None and hit.province.id == p.id, typed


@pytest.mark.parametrize("typed, pid", [("BRVT", "ho_chi_minh"), ("TT-Huế", "hue"), ("tp hcm", "ho_chi_minh"),
                                        ("Mỹ Tho", "dong_thap"), ("phu quoc", "an_giang"), ("dak nong", "lam_dong"),
                                        ("Thủ Dầu Một", "ho_chi_minh"), ("Phan Rang", "khanh_hoa")])
def test_abbreviations_and_old_cities(typed, pid):
    assert places.find(typed).province.id == pid


def test_old_places_data_names_real_old_units():
    raw = yaml.safe_load((DATA / "old_places.yml").read_text(encoding="utf-8"))
    olds = {fold(o) for p in all_provinces() for o in (*p.formed_from, p.name)}
    assert all(fold(o) in olds for o in raw["old_provinces"])
    assert all(fold(o) in olds for o in raw["old_cities"].values())


# --- stars ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("points, expected, who", [
    (0, 1, "none"), (29, 1, "none"), (29.5, 1, "none"), (30, 2, "none"), (49, 2, "none"), (49.9, 2, "none"),
    (50, 3, "province"), (69, 3, "province"), (70, 4, "province"), (89, 4, "province"), (89.5, 4, "province"),
    (90, 5, "ministry"), (100, 5, "ministry")])
def test_star_bands(points, expected, who):
    b = stars.band(points)
    assert (b.stars, b.certified_by) == (expected, who)


@pytest.mark.parametrize("bad", [-1, 100.5, 150])
def test_star_band_rejects_impossible_points(bad):
    with pytest.raises(ValueError):
        stars.band(bad)


# --- expiry ------------------------------------------------------------------------------------
def test_expiry_and_filing_window():
    w = expiry.from_recognition(date(2023, 3, 5))
    assert w.expires_on == date(2026, 3, 5)
    assert (w.expires_on - w.opens).days == 180 and (w.expires_on - w.closes).days == 120
    assert w.status(date(2025, 9, 1)) == "before" and w.status(w.opens) == "open" and w.status(w.closes) == "open"
    assert w.status(date.fromordinal(w.closes.toordinal() + 1)) == "late"
    assert w.status(date(2026, 3, 6)) == "expired"


def test_expiry_clamps_like_the_register():
    assert expiry.from_recognition(date(2024, 2, 29)).expires_on == date(2027, 2, 28)


def test_transition_when_the_window_closed_before_decision_26():
    assert expiry.from_expiry(date(2026, 9, 12)).transition
    assert not expiry.from_expiry(date(2027, 6, 18)).transition


# --- answers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("q, must", [
    ("lap xuong tuoi thuoc nhom nao", ["thuc pham", "phieu cham so 8"]),
    ("nuoc mam truyen thong thuoc nhom nao", ["gia vi"]),
    ("che (tra) thuoc nhom do uong hay thuc pham", ["thuc pham", "khong thuoc do uong"]),
    ("homestay co lam ocop dc ko", ["du lich", "dang ky kinh doanh"]),
    ("muoi tom voi mi an lien thi moi cai thuoc nhom nao", ["gia vi", "do an nhanh"]),
])
def test_product_group_answers(r, q, must):
    a = r.respond(q)
    assert a.outcome == "answer" and a.faq_id == "calc_product"
    assert all(m in plain(a) for m in must) and "can cu: qd 26/2026" in plain(a)


def test_unknown_product_gets_the_six_groups_and_an_officer(r):
    a = r.respond("banh xeo gion thuoc nhom nao")
    assert a.fallback and a.kind == "product_unknown"
    assert all(fold(g) in plain(a) for g in ("Thực phẩm", "Sinh vật cảnh", "Đồ uống")) and "can bo" in plain(a)


@pytest.mark.parametrize("q, must", [
    ("chấm 72 điểm được mấy sao", ["4 sao"]),
    ("92 diem sao chua duoc 5 sao", ["chua phai la 5 sao", "bo nong nghiep"]),
    ("49 diem thi sao ad, co gcn ko", ["2 sao", "khong duoc cong nhan"]),
    ("trung uong cham sp em dc 85 diem thi sao", ["4 sao", "khong duoc cong nhan 5 sao"]),
])
def test_score_answers(r, q, must):
    a = r.respond(q)
    assert a.faq_id == "calc_stars" and all(m in plain(a) for m in must)


def test_questions_about_the_score_parts_are_not_the_calculator(r):
    assert r.respond("phan a bao nhieu diem").faq_id != "calc_stars"
    assert r.respond("bao nhieu diem thi dat 4 sao").faq_id != "calc_stars"


def test_date_answers(r, today):
    today.value = date(2026, 11, 22)
    a = r.respond("cong nhan 5/3/2023 khi nao het han, khi nao nop hs danh gia lai")
    assert a.faq_id == "calc_expiry"
    assert "05/03/2026" in plain(a) and "06/09/2025" in plain(a) and "05/11/2025" in plain(a)
    assert "da het han" in plain(a) and "truoc khi qd 26/2026 co hieu luc" in plain(a)
    a = r.respond("gcn het han 18/6/2027 thi nop hs danh gia lai trong khoang nao")
    assert "20/12/2026" in plain(a) and "18/02/2027" in plain(a) and "chua toi thoi han nop" in plain(a)
    a = r.respond("cong nhan 3 sao thang 7/2023 thi thang may nam nao het han")
    assert "07/2026" in plain(a)


def test_province_answers(r):
    a = r.respond("brvt gio thuoc tinh nao")
    assert a.faq_id == "calc_province" and "thanh pho ho chi minh" in plain(a)
    a = r.respond("nha em o Ben Tre lam keo dua, gio nop ocop thi tinh nao cham")
    assert "vinh long" in plain(a) and "ubnd tinh vinh long" in plain(a)
    assert "giu nguyen" in plain(r.respond("ha noi co sap nhap khong"))
    assert r.respond("thoi tiet tien giang ngay mai").fallback


def test_live_questions_without_a_database_point_to_sanpham(r):
    a = r.respond("tinh toi co bao nhieu san pham ocop")
    assert a.kind == "live_count" and a.outcome == "answer"
    a = r.respond("san pham cua toi con han khong")
    assert a.kind == "live_mine" and "/sanpham" in a.text


def test_register_group_cell_accepts_a_product_name():
    assert products.group_of("Thực phẩm").id == "thuc_pham"
    assert products.group_of("nuoc mam").id == "thuc_pham"
    assert products.group_of("Rượu nếp").id == "do_uong"
    assert products.group_of("xe máy") is None


def test_certificate_import_takes_a_product_name_in_the_group_column():
    from types import SimpleNamespace

    from handlers.products.importer import validate_row
    row = SimpleNamespace(values={"product": "Nước mắm Nam Ô", "province": "Đà Nẵng", "group": "nước mắm",
                                  "stars": "4", "decision_no": "9/QĐ-UBND", "recognized_on": "5/3/2024"}, line=2)
    cert, errs = validate_row(row, date(2026, 11, 22), [])
    assert errs == [] and cert.group == "thuc_pham"
    row.values["group"] = "xe máy"
    assert validate_row(row, date(2026, 11, 22), [])[0] is None


def test_sub_group_for_the_dossier_walk():
    assert products.subgroup_of("nước mắm Phú Quốc") == "nuoc_mam"
    assert products.subgroup_of("muối tôm và mì ăn liền") is None      # two products: the producer chooses
    assert products.subgroup_of("xe máy") is None
