"""The content check: passes on the real content, catches each kind of broken entry."""
import re
from pathlib import Path

import pytest

from core.faq.check import check_content, html_problems
from core.faq.content import FAQ_DIR, load_entries

GOOD = """
entries:
  - id: {id}
    question: "{q}"
    paraphrases: [{paras}]
    answer: "{answer}"
    basis: "{basis}"
    sources: [{sources}]
    reviewed: 2026-11-22
"""


def write_entry(tmp: Path, name: str, **kw):
    base = dict(id="mot", q="Câu hỏi một?", paras=", ".join(f'"cau mot so {i}"' for i in range(8)),
                answer="Trả lời <b>một</b>.", basis="QĐ 148/QĐ-TTg ngày 24/02/2023", sources='"seed:000"')
    base.update(kw)
    (tmp / name).write_text(GOOD.format(**base), encoding="utf-8")


@pytest.fixture
def faq_dir(tmp_path):
    synonyms = (FAQ_DIR / "_synonyms.yml").read_text(encoding="utf-8")
    synonyms = re.sub(r"(?m)^province_entry:.*$", 'province_entry: ""', synonyms)
    (tmp_path / "_synonyms.yml").write_text(synonyms, encoding="utf-8")
    return tmp_path


def test_unknown_province_entry_fails(faq_dir):
    write_entry(faq_dir, "a.yml")
    path = faq_dir / "_synonyms.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('province_entry: ""', "province_entry: khong_co"),
                    encoding="utf-8")
    assert any("province_entry" in p for p in check_content(faq_dir))


def test_real_content_passes_and_covers_enough():
    assert check_content() == []
    entries = load_entries()
    assert len(entries) >= 60
    assert all(8 <= len(e.paraphrases) <= 15 for e in entries)


def test_a_clean_file_passes(faq_dir):
    write_entry(faq_dir, "a.yml")
    assert check_content(faq_dir) == []


@pytest.mark.parametrize("change, expected", [
    (dict(sources=""), "missing sources"),
    (dict(basis=""), "missing basis"),
    (dict(answer=""), "missing answer"),
    (dict(id="Bad-Id"), "snake_case"),
    (dict(paras='"mot hai"'), "paraphrases"),
])
def test_each_missing_field_fails(faq_dir, change, expected):
    write_entry(faq_dir, "a.yml", **change)
    problems = check_content(faq_dir)
    assert any(expected in p for p in problems), problems


def test_duplicate_id_fails(faq_dir):
    write_entry(faq_dir, "a.yml")
    write_entry(faq_dir, "b.yml", paras=", ".join(f'"cau khac {i}"' for i in range(8)), q="Câu khác?")
    assert any("duplicate id" in p for p in check_content(faq_dir))


def test_paraphrase_shared_with_another_entry_fails(faq_dir):
    write_entry(faq_dir, "a.yml")
    # same words with other diacritics/case still counts as the same paraphrase
    write_entry(faq_dir, "b.yml", id="hai", q="Câu hai?",
                paras='"CÂU MỘT SỐ 3", ' + ", ".join(f'"cau hai {i}"' for i in range(8)))
    assert any("is also in entry mot" in p for p in check_content(faq_dir))


def test_template_error_fails(faq_dir):
    write_entry(faq_dir, "a.yml", answer="Xin chào {{ khong_co_bien }}")
    assert any("does not render" in p for p in check_content(faq_dir))


def test_template_syntax_error_fails(faq_dir):
    write_entry(faq_dir, "a.yml", answer="{% if %}")
    assert any("template" in p for p in check_content(faq_dir))


def test_html_outside_the_telegram_subset_fails(faq_dir):
    write_entry(faq_dir, "a.yml", answer="Xem <u>đây</u> nhé")
    assert any("<u>" in p for p in check_content(faq_dir))
    assert html_problems("a < b") and html_problems("<b>x") and not html_problems("<b>x</b> &amp; y")


def test_bare_ampersand_is_escaped_for_officers(faq_dir):
    write_entry(faq_dir, "a.yml", answer="Bộ NN&PTNT")
    assert check_content(faq_dir) == []
