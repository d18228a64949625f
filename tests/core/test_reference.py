from core.reference import all_groups, all_provinces, match_group, match_province


def test_34_provinces_and_old_names_map():
    assert len(all_provinces()) == 34
    m = match_province("tien giang")
    assert m.province.name == "Đồng Tháp" and m.note == "Tiền Giang nay thuộc tỉnh Đồng Tháp"
    assert match_province("TP HCM").province.name == "Hồ Chí Minh"
    assert match_province("brvt").province.name == "Hồ Chí Minh"
    assert match_province("Bà Rịa - Vũng Tàu").province.name == "Hồ Chí Minh"
    assert match_province("daklak").province.name == "Đắk Lắk"
    assert match_province("Tỉnh Quảng Bình").province.name == "Quảng Trị"
    assert match_province("tt hue").province.name == "Huế"
    assert match_province("Thừa Thiên Huế").note == "Thừa Thiên Huế nay thuộc thành phố Huế"
    assert match_province("Đồng Tháp").note == ""
    assert match_province("Atlantis") is None
    old = {"Hà Giang", "Yên Bái", "Bắc Kạn", "Vĩnh Phúc", "Hòa Bình", "Bắc Giang", "Thái Bình", "Hải Dương",
           "Hà Nam", "Nam Định", "Quảng Bình", "Quảng Nam", "Kon Tum", "Bình Định", "Ninh Thuận", "Đắk Nông",
           "Bình Thuận", "Phú Yên", "Bình Dương", "Bình Phước", "Long An", "Sóc Trăng", "Hậu Giang", "Bến Tre",
           "Trà Vinh", "Tiền Giang", "Bạc Liêu", "Kiên Giang"}
    for name in old:
        assert match_province(name).typed_old_name == name, name


def test_six_groups():
    assert [g.id for g in all_groups()] == ["thuc_pham", "do_uong", "duoc_lieu", "thu_cong", "sinh_vat_canh", "du_lich"]
    assert match_group("do uong").id == "do_uong"
    assert match_group("3").id == "duoc_lieu"
    assert match_group("homestay").id == "du_lich"


def test_one_subgroup_loader_serves_dossier_and_self_assessment():
    from core.reference import all_subgroups, ministry_name, subgroup_by_id
    from flows import content
    subs = all_subgroups()
    assert len(subs) == 26 and {s.group for s in subs} == {g.id for g in all_groups()}
    assert content.subgroups() is subs
    sub = subgroup_by_id("nuoc_mam")
    assert sub.sheet == 9 and content.ministries("nuoc_mam") == [ministry_name(m) for m in sub.ministry]
    assert subgroup_by_id("khong_co") is None


def test_base_url_falls_back_to_the_webhook_origin_then_this_machine(make_settings):
    url = "sqlite+aiosqlite:///:memory:"
    local = make_settings(url, http_port=8099)
    assert local.base_url == "http://127.0.0.1:8099" and not local.has_public_url
    hook = make_settings(url, webhook_url="https://bot.example.vn/telegram")
    assert hook.base_url == "https://bot.example.vn" and hook.has_public_url
    pub = make_settings(url, public_url="https://ocop.example.gov.vn/", webhook_url="https://bot.example.vn/t")
    assert pub.base_url == "https://ocop.example.gov.vn" and pub.has_public_url
