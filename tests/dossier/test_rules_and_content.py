"""Dossier flow definition, rules and content: nodes render, everything is reachable, checklists."""
from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pypdf
import pytest

from core.reference import all_groups
from flows import content, mermaid, pdf
from flows import dossier as flow
from flows import dossier_view as view
from rules import dossier as rules


def walk_to(profile_answers: dict[str, str], docs: str | None = "co") -> dict[str, str]:
    """Answers for a profile plus (optionally) the same answer to every applicable document."""
    answers = dict(profile_answers)
    if docs:
        answers.update({flow.DOC + d: docs for d in flow.document_ids(answers)})
    return answers


def applicable(**profile) -> set[str]:
    return set(flow.document_ids(profile))


# --- the flow ----------------------------------------------------------------------------------
def test_group_options_are_the_six_reference_groups():
    assert flow.NODES["group"].options == tuple(g.id for g in all_groups())


def test_every_node_is_reachable_and_every_next_node_exists():
    edges, profiles = flow.explore()
    targets = {nxt for _, _, nxt in edges}
    assert set(flow.NODES) - {flow.START} <= targets
    assert all(flow.known(t) or t == flow.RESULT for t in targets)
    # every option of every question leads somewhere
    assert {(n, o) for n, o, _ in edges} >= {(n, o) for n, node in flow.NODES.items() for o in node.options
                                           if not (n == "stars" and o == "5")}
    assert len(profiles) > 100


def test_every_document_is_reachable_by_some_path():
    _, profiles = flow.explore()
    reached = set().union(*(flow.document_ids(p) for p in profiles))
    assert reached == {d.id for d in content.documents()}


def test_every_node_renders_with_its_buttons():
    _, profiles = flow.explore()
    rendered = set()
    for prof in profiles:
        answers = walk_to(prof)
        full = flow.replay(answers)
        assert full.done
        if set(full.path) <= rendered:
            continue
        for i in range(len(full.path)):
            partial = {n: answers[n] for n in full.path[:i]}
            w = flow.replay(partial)
            if w.current in rendered:
                continue
            reply = view.node_reply(w, partial)
            assert reply.text and "Bước" in reply.text
            data = [b.data for row in reply.buttons for b in row]
            assert all(d.startswith("d:") and len(d.encode()) <= 64 for d in data)
            assert any(d.startswith(f"d:a:{w.current}:") for d in data)
            rendered.add(w.current)
        out = view.outcome_reply(full)
        assert "UBND xã/phường" in out.text and "d:pdf" in [b.data for r in out.buttons for b in r]
    assert rendered == set(flow.NODES) | {flow.DOC + d.id for d in content.documents()}


def test_replay_stops_at_first_unanswered_and_ignores_answers_off_the_path():
    answers = {"goal": "lan_dau", "stars": "4", "producer": "htx", "group": "du_lich", "category": "che_bien"}
    w = flow.replay(answers)
    assert w.current == flow.DOC + "phieu_dang_ky"
    assert "stars" not in w.given and "category" not in w.given
    assert flow.replay({"goal": "bogus"}).current == "goal"
    assert flow.replay({"goal": "nang_hang", "stars": "5"}).current == "stars"   # no upgrade from 5★


def test_progress_counts_steps_on_the_expected_path():
    answers = {"goal": "lan_dau", "producer": "htx", "group": "thuc_pham"}
    step, total = flow.progress(answers)
    assert step == 4
    # expected path: category and sub-group are asked for food (first options as the prediction)
    assert total == 5 + len(applicable(goal="lan_dau", producer="htx", group="thuc_pham", category="tuoi_song",
                                       subgroup="rau_qua_tuoi"))
    full = walk_to({**answers, "category": "che_bien", "subgroup": "do_an_nhanh"})
    assert flow.progress(full)[0] == flow.progress(full)[1]


# --- rules: representative checklists (documents per QĐ 26/2026/QĐ-TTg, Điều 6.1) ----------------
COMMON = {"phieu_dang_ky", "bao_cao_tu_danh_gia", "minh_chung", "giay_dkkd", "so_huu_tri_tue",
          "ho_so_moi_truong", "cau_chuyen_san_pham", "ke_toan", "thi_truong_quang_ba"}
GOODS = {"san_pham_mau", "cong_bo_tieu_chuan", "he_thong_chat_luong", "nhan_hang_hoa", "truy_xuat",
         "nguon_goc_nguyen_lieu"}
FOOD_SAFETY = {"attp", "phieu_kiem_nghiem"}
PROCESSED = {"goal": "lan_dau", "producer": "htx", "group": "thuc_pham", "category": "che_bien",
             "subgroup": "che_bien_rau_qua"}


def test_processed_food_by_a_cooperative():
    assert applicable(**PROCESSED) == COMMON | GOODS | FOOD_SAFETY | {"kiem_soat_chat_luong"}
    cl = flow.checklist(flow.replay(walk_to(PROCESSED, docs=None)))
    # required = the components of Điều 6: Mẫu 01, Mẫu 02 and the 05 samples (Điều 6.2d); the rest is guidance
    assert {i.doc.id for i in cl.items if i.required} == {"phieu_dang_ky", "bao_cao_tu_danh_gia", "san_pham_mau"}


def test_upgrade_must_show_the_changes_with_evidence():
    prof = {**PROCESSED, "goal": "nang_hang", "stars": "3"}
    docs = applicable(**prof)
    assert {"thay_doi_nang_hang", "giay_chung_nhan_hien_tai", "bao_cao_tu_danh_gia"} <= docs
    cl = flow.checklist(flow.replay(walk_to(prof, docs=None)))
    assert "thay_doi_nang_hang" in {i.doc.id for i in cl.items if i.required}


def test_fresh_food_has_no_processing_control_plan():
    fresh = applicable(goal="lan_dau", producer="htx", group="thuc_pham", category="tuoi_song",
                       subgroup="rau_qua_tuoi")
    assert "kiem_soat_chat_luong" not in fresh and "attp" in fresh


def test_homestay_by_a_household_business():
    prof = {"goal": "lan_dau", "producer": "hkd", "group": "du_lich"}
    assert applicable(**prof) == COMMON | {"tham_dinh_thuc_dia"}
    assert "san_pham_mau" not in applicable(**prof)      # Điều 6.2d: no samples for tourism


def test_re_evaluation_of_a_four_star_drink():
    """Điều 6.1c: Mẫu 01 + Mẫu 02 updated with the results since recognition + renewed legal papers."""
    prof = {"goal": "danh_gia_lai", "stars": "4", "producer": "dn", "group": "do_uong", "category": "co_con",
            "subgroup": "ruou_trang"}
    expected = (COMMON | GOODS | FOOD_SAFETY
                | {"bao_cao_3_nam", "giay_to_co_thoi_han", "giay_chung_nhan_hien_tai", "kiem_soat_chat_luong",
                   "giay_phep_ruou"})
    assert applicable(**prof) == expected
    assert applicable(**{**prof, "category": "khong_con", "subgroup": "nuoc_khoang"}) == expected - {"giay_phep_ruou"}
    answers = walk_to(prof, docs=None)
    answers.update({flow.DOC + "phieu_dang_ky": "co", flow.DOC + "bao_cao_3_nam": "chua"})
    cl = flow.checklist(flow.replay(answers))
    required = {i.doc.id for i in cl.items if i.required}
    assert required == {"phieu_dang_ky", "bao_cao_tu_danh_gia", "bao_cao_3_nam", "giay_to_co_thoi_han", "san_pham_mau"}
    assert (cl.required_ready, cl.required_total) == (1, 5)
    # the evidence checklist stays, as guidance ("nên có"), also for re-evaluation (issue 15)
    assert "minh_chung" in cl.ids() and "minh_chung" not in required


def test_classification_follows_annex_one():
    """group → nhóm → phân nhóm exactly as content/data/subgroups.yml (Phụ lục I)."""
    assert flow.options("category", {"group": "thuc_pham"}) == ("tuoi_song", "so_che", "che_bien", "gia_vi", "che",
                                                                 "ca_phe")
    assert flow.options("subgroup", {"group": "thuc_pham", "category": "gia_vi"}) == ("nuoc_mam", "gia_vi_khac")
    # a nhóm without phân nhóm is not asked again; the score sheet is still known
    w = flow.replay({"goal": "lan_dau", "producer": "htx", "group": "thuc_pham", "category": "ca_phe"})
    assert flow.is_document(w.current) and flow.profile(w.given)["subgroup"] == "ca_phe_ca_cao"
    w = flow.replay({"goal": "lan_dau", "producer": "htx", "group": "du_lich"})
    assert flow.is_document(w.current) and flow.profile(w.given)["subgroup"] == "du_lich"
    # the gazetteer hook: "mắm tép" → Gia vị / Tương, nước mắm… (lookup plugged in by another module)
    assert flow.answers_for_subgroup("nuoc_mam") == {"group": "thuc_pham", "category": "gia_vi",
                                                     "subgroup": "nuoc_mam"}


def test_required_when_makes_a_document_required_only_in_listed_cases():
    doc = rules.Document("x", "X", "d", "w", "i", "s", required_when={"goal": ("lan_dau",)})
    assert rules.is_required(doc, {"goal": "lan_dau"}) and not rules.is_required(doc, {"goal": "nang_hang"})
    cl = rules.checklist([doc], {"goal": "lan_dau"}, {"x": "co"})
    assert (cl.required_ready, cl.required_total, cl.complete) == (1, 1, True)


# --- content -------------------------------------------------------------------------------------
def test_documents_content_is_complete_and_consistent():
    docs = content.documents()
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids))
    values = {"goal": set(flow.NODES["goal"].options), "producer": set(flow.NODES["producer"].options),
              "group": set(flow.NODES["group"].options),
              "sub": set(flow.NODES["category"].options), "subgroup": {s.id for s in content.subgroups()}}
    for d in docs:
        assert re.fullmatch(r"[a-z0-9_]+", d.id) and len(f"d:a:{flow.DOC}{d.id}:chua") <= 64
        assert d.name and d.description and d.why and d.issuer and d.source, d.id
        assert d.url.startswith("http"), d.id
        for conds in (d.when, d.unless, d.required_when):
            for key, allowed in conds.items():
                assert set(allowed) <= values[key], (d.id, key)


def test_unverified_details_are_hedged_not_invented():
    text = " ".join(f"{d.name} {d.description} {d.why} {d.issuer} {d.more}" for d in content.documents())
    assert "theo hướng dẫn của tỉnh" in content.document("san_pham_mau").description
    assert not re.search(r"[Bb]iểu số|\d+\.\d{3}\s*đồng|lệ phí", text)


def test_labels_exist_for_every_option():
    for n, node in flow.NODES.items():
        assert content.title(n)
        for o in node.options:
            assert content.label(n, o)


# --- outputs -------------------------------------------------------------------------------------
def test_pdf_has_vietnamese_names_and_answers():
    prof = {"goal": "lan_dau", "producer": "hkd", "group": "du_lich"}
    answers = walk_to(prof, docs="chua")
    answers[flow.DOC + "phieu_dang_ky"] = "co"
    w = flow.replay(answers)
    data = pdf.build_pdf(view.answer_summary(w), flow.checklist(w), date(2026, 11, 22))
    reader = pypdf.PdfReader(BytesIO(data))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)      # A4
    text = " ".join(p.extract_text() for p in reader.pages)
    for s in ("Phiếu đăng ký đánh giá, phân hạng (Mẫu số 01)", "Giấy đăng ký kinh doanh", "Hộ kinh doanh (đã đăng ký)",
              "Giấy tờ bắt buộc đã sẵn sàng: 1/2", "Nguồn", "UBND xã/phường", "22/11/2026", "26/2026"):
        assert s in text


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(pdf.FONT_ENV, str(tmp_path))
    monkeypatch.setattr(pdf, "FONT_DIRS", ())
    with pytest.raises(pdf.FontMissing, match="fonts-dejavu-core"):
        pdf.find_fonts()


def test_flow_diagram_is_generated_from_the_definition(tmp_path):
    import bot
    text = mermaid.diagram()
    assert text.startswith("flowchart TD")
    for n in flow.NODES:
        assert f"\n  {n}" in text
    out = tmp_path / "d.mmd"
    assert bot.main(["flow-diagram", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text
    from core.config import ROOT
    assert (ROOT / "docs" / "dossier-flow.mmd").read_text(encoding="utf-8") == text, \
        "docs/dossier-flow.mmd is stale: run python bot.py flow-diagram --out docs/dossier-flow.mmd"
