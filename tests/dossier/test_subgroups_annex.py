"""content/data/subgroups.yml against the text of Decision 26/2026/QĐ-TTg, Phụ lục I (names, order, ministries)."""
import re

import yaml

from core.config import ROOT
from core.faq.evaluate import shared_dir

TEXT = shared_dir() / "reference" / "qd26" / "qd26-2026-text.txt"
DATA = yaml.safe_load((ROOT / "content" / "data" / "subgroups.yml").read_text(encoding="utf-8"))


def annex_one_lines() -> list[tuple[str, str, list[str]]]:
    """(level, name, ministries) for every Nhóm / Phân nhóm row of Phụ lục I, in order."""
    text = TEXT.read_text(encoding="utf-8")
    block = text[text.index("PHỤ LỤC I\n"):text.index("PHỤ LỤC II\n")]
    cells = [" ".join(c.split()) for c in block.split("|")]
    rows = []
    for i, c in enumerate(cells):
        m = re.match(r"(Phân nhóm|Nhóm): (.*)", c)
        if m:
            ministries = [x.strip() for x in cells[i + 1].split(";") if x.strip()] if i + 1 < len(cells) else []
            rows.append((m.group(1), m.group(2), ministries))
    return rows


def test_text_of_the_decision_is_present():
    assert TEXT.exists(), f"{TEXT} missing (set OCOP_SHARED to the shared folder)"


def test_sub_groups_match_annex_one_in_order_with_their_ministries():
    names = DATA["ministries"]
    leaves, category = [], None
    for level, name, ministries in annex_one_lines():
        if level == "Nhóm":
            category = name
            if ministries:                     # a nhóm without phân nhóm is itself a line of the list
                leaves.append((name, name, ministries))
        else:
            leaves.append((category, name, ministries))
    assert len(leaves) == len(DATA["subgroups"]) == 26
    for (category, name, ministries), sub in zip(leaves, DATA["subgroups"]):
        assert sub["name"] == name, (sub["id"], name)
        assert sub["category"] == category, (sub["id"], category)
        assert [names[m] for m in sub["ministry"]] == ministries, (sub["id"], ministries)
    assert [s["sheet"] for s in DATA["subgroups"]] == list(range(1, 27))


def test_tea_coffee_and_fish_sauce_are_food():
    by_id = {s["id"]: s for s in DATA["subgroups"]}
    assert {by_id[i]["group"] for i in ("che", "tra_thuc_vat", "ca_phe_ca_cao", "nuoc_mam")} == {"thuc_pham"}
    assert by_id["nuoc_mam"]["category"] == "Gia vị"
