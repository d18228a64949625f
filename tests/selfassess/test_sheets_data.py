"""The 26 score sheets as committed YAML: totals, option points, minimum markers, sources, sub-groups."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core import reference
from handlers.selfassess import sheets as data

ROOT = Path(__file__).resolve().parents[2]
PARTS = {"A": 40, "B": 25, "C": 35}
TEXT = ROOT.parent / "shared" / "reference" / "qd26" / "qd26-2026-text.txt"
if not TEXT.is_file():
    TEXT = ROOT.parent.parent / "shared" / "reference" / "qd26" / "qd26-2026-text.txt"
ALL = sorted(data.sheets())


def test_there_are_26_sheets_numbered_1_to_26():
    assert ALL == list(range(1, 27))


@pytest.mark.parametrize("n", ALL)
def test_parts_sum_to_40_25_35_and_100(n):
    sheet = data.sheet(n)
    assert {p.id: p.max for p in sheet.parts} == PARTS
    for pid, mx in PARTS.items():
        assert sum(c.max for c in sheet.criteria if c.part == pid) == mx, (n, pid)
    assert sum(c.max for c in sheet.criteria) == 100


@pytest.mark.parametrize("n", ALL)
def test_headings_sum_to_their_criteria(n):
    sheet = data.sheet(n)
    for h in sheet.headings:
        under = [c for c in sheet.criteria if c.id.startswith(h.id + ".")]
        assert under and sum(c.max for c in under) == h.max, (n, h.id)
        assert all(c.part == h.part for c in under)


@pytest.mark.parametrize("n", ALL)
def test_options_fit_their_criterion(n):
    sheet = data.sheet(n)
    ids = [c.id for c in sheet.criteria]
    assert len(ids) == len(set(ids))
    for c in sheet.criteria:
        assert c.options and c.assessed_by in data.ASSESSORS, (n, c.id)
        for case in (sorted(sheet.cases) if any(o.case for o in c.options) else [None]):
            pts = [o.points for _, o in c.choices(case)]
            assert all(0 <= p <= c.max for p in pts), (n, c.id, pts)
            assert max(pts) == c.max, (n, c.id, case, pts)        # the top level earns the full points
        for o in c.options:
            assert o.label.strip() and o.min_for in (None, 3, 4, 5), (n, c.id, o)
            assert o.case in (None, *sheet.cases), (n, c.id, o)
        if c.requires:
            assert c.requires in ids[:ids.index(c.id)]


@pytest.mark.parametrize("n", ALL)
def test_minimum_markers_are_consistent(n):
    """A higher star never asks for less than a lower star on the same criterion."""
    for c in data.sheet(n).criteria:
        marked = sorted((o.min_for, o.points) for o in c.options if o.min_for)
        assert [p for _, p in marked] == sorted(p for _, p in marked), (n, c.id, marked)


def test_each_sheet_carries_version_article_and_knockout():
    for n in ALL:
        s = data.sheet(n)
        assert s.version == "QĐ 26/2026/QĐ-TTg ngày 22/5/2026"
        assert s.source == f"QĐ 26/2026/QĐ-TTg, Phụ lục II, phiếu số {n}"
        assert s.title and (s.knockout or n == 26)


def test_known_parse_defects_are_fixed():
    s4, s11, s26 = data.sheet(4), data.sheet(11), data.sheet(26)
    assert [o.points for o in s4.criterion("7").options] == [0, 1, 3]                 # 13 for 3
    assert [o.points for o in s11.criterion("6.1.1").options] == [0, 1, 2]             # 11 for 1
    assert data.sheet(23).criterion("9").max == 4                                      # "4 1"
    assert [c.id for c in s26.criteria if c.part == "C"] == [str(i) for i in range(6, 18)]
    assert s26.cases and {o.case for o in s26.criterion("8").options} == {1, 2}
    assert all(s.fixes for s in (s4, s11, s26))
    assert [o.label for o in data.sheet(1).criterion("2.4").options] == ["Không", "Có"]


def test_story_structure_applies_only_with_a_story():
    assert data.sheet(1).criterion("5.2").requires == "5.1"


def test_commune_and_council_criteria_are_marked():
    s = data.sheet(1)
    assert {c.id for c in s.criteria if c.assessed_by == "commune"} == {"1.1", "2.1", "3.3", "5.3"}
    council = {c.id for c in s.criteria if c.assessed_by == "council"}
    assert {"2.2", "5.1", "6.1", "6.2", "6.3", "8"} <= council and "9" not in council


MINISTRIES = {"Bộ Nông nghiệp và Môi trường": "BNNMT", "Bộ Công Thương": "BCT", "Bộ Y tế": "BYT",
              "Bộ Văn hóa, Thể thao và Du lịch": "BVHTTDL"}


def annex_i() -> list[tuple[str, list[str]]]:
    """(name, ministries) of the 26 entries of Phụ lục I, in order: each "Phân nhóm", or a "Nhóm" without."""
    text = TEXT.read_text(encoding="utf-8")
    block = text[text.index("PHỤ LỤC I\n"):text.index("PHỤ LỤC II\n")].split("___")[0]
    cells = [re.sub(r"\s+", " ", c).strip() for c in block.split("|")]
    out, pending = [], None
    for c in cells:
        m = re.match(r"^(Phân nhóm|Nhóm): (.*)$", c)
        if m:
            pending = m.group(2)
            if m.group(1) == "Nhóm" and out and out[-1][1] is None:
                out.pop()                                   # a "Nhóm" heading whose sub-groups follow
            out.append((pending, None))
        elif pending and c.startswith("Bộ"):
            out[-1] = (out[-1][0], [MINISTRIES[x.strip()] for x in c.split(";")])
            pending = None
    return [(n, m) for n, m in out if m is not None]


def test_subgroups_map_the_26_sheets_and_match_annex_i():
    subs = sorted(reference.all_subgroups(), key=lambda s: s.sheet)
    assert [s.sheet for s in subs] == list(range(1, 27))
    assert {s.group for s in subs} == {g.id for g in reference.all_groups()}
    entries = annex_i()
    assert len(entries) == 26
    raw = yaml.safe_load((ROOT / "content/data/subgroups.yml").read_text(encoding="utf-8"))
    titles = {x["id"]: x["sheet_title"] for x in raw["subgroups"]}
    for s, (name, ministries) in zip(subs, entries):
        words = [w for w in re.split(r"[ ,()….]+", name.lower()) if len(w) > 1][:2]
        assert all(w in s.name.lower() for w in words), (s.id, name)
        assert list(s.ministry) == ministries, (s.id, s.ministry, ministries)
        head = [w for w in re.split(r"[ ,()….]+", data.sheet(s.sheet).title.lower().removeprefix("sản phẩm ")) if len(w) > 1][:2]
        sheet_title = titles[s.id].lower()          # Phụ lục II's title may differ from Phụ lục I's name (chè/trà)
        assert all(w in sheet_title for w in head), (s.id, data.sheet(s.sheet).title)


def test_committed_yaml_is_what_the_converter_builds():
    out = subprocess.run([sys.executable, str(ROOT / "content/data/qd26_sheets/build.py"), "--check",
                          "--text", str(TEXT), "--json", str(TEXT.with_name("phuluc2-sheets.json"))],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_yaml_files_parse_with_safe_load():
    for path in sorted((ROOT / "content/data/qd26_sheets").glob("*.yml")):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["sheet"] == int(path.stem)
