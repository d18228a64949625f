"""Rebuild the 26 score sheets (NN.yml) from the parsed Annex II and the decision's text.

    python content/data/qd26_sheets/build.py [--json PATH] [--text PATH] [--check]

Input: phuluc2-sheets.json (Annex II of QĐ 26/2026/QĐ-TTg parsed into 26 sheets) and
qd26-2026-text.txt (the decision's text), both in ../shared/reference/qd26/. The committed YAML
files are what the bot reads; this script only documents how they were made, and applies the
corrections listed in FIXES (each is also written into the sheet's `fixes:` list so officers see it).
--check compares the committed files with a fresh build and exits 1 when they differ.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REF = next((d / "shared" / "reference" / "qd26" for d in (ROOT.parent, ROOT.parent.parent)
            if (d / "shared" / "reference" / "qd26").is_dir()), ROOT.parent / "shared" / "reference" / "qd26")
VERSION = "QĐ 26/2026/QĐ-TTg ngày 22/5/2026"

# (sheet, criterion id, option index) -> corrected points, with the reason shown to officers
POINT_FIXES = {
    (4, "7", 2): (3, "Văn bản in 13 điểm cho mức \"Có trên 2 chỉ tiêu\" (thang điểm 3): sửa thành 3."),
    (11, "6.1.1", 1): (1, "Văn bản in 11 điểm cho mức giữa (thang điểm 2): sửa thành 1."),
}
MAX_FIXES = {
    (23, "9"): (4, "Ô thang điểm ghi \"4 1\": thang điểm là 4 (các mức 2 và 4; tổng Phần C = 35)."),
}
# criteria printed without options: one point for bilingual labels, a yes/no choice
YES_NO = ("Không", "Có")
# Điều 7.2a: what the UBND xã assesses
COMMUNE = ("nguồn gốc sản phẩm", "nguồn nguyên liệu", "nguồn gốc nguyên liệu", "nguyên liệu địa phương",
           "lao động địa phương", "nguồn gốc ý tưởng", "bản sắc")
# judged by the provincial council: sensory indicators, uniqueness, packaging/design, product story
COUNCIL = ("cảm quan", "độc đáo", "bao bì", "đóng gói", "thiết kế", "câu chuyện", "ngoại hình", "nước pha",
           "hình dáng", "hình dạng", "màu sắc", "mùi", "kiểu dáng", "tạo hình", "kích thước",
           "kiến trúc", "chất lượng phục vụ", "chất lượng sản phẩm dịch vụ", "tạp chất", "thể chất")


def cid(label: str) -> str | None:
    m = re.match(r"\s*(\d+(?:\.\d+)*)\.?\s", label)
    return m.group(1) if m else None


def clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def split_title(label: str, ident: str) -> tuple[str, str]:
    """'7. TÍNH ĐỘC ĐÁO (Chất lượng: …)' -> ('Tính độc đáo', 'Chất lượng: …')."""
    rest = clean(label[label.index(ident) + len(ident):].lstrip(". "))
    hint = ""
    m = re.match(r"^(.*?)\s*(Yêu cầu:.*)$", rest)
    if m:
        rest, hint = m.group(1), m.group(2)
    m = re.match(r"^([^(]*?)\s*\((.*)\)\s*$", rest)
    if m and m.group(1):
        rest, hint = m.group(1), clean(f"{m.group(2)} {hint}")
    else:
        words = rest.split(" ")
        upper = [w for w in words[:next((i for i, w in enumerate(words) if w != w.upper()), len(words))]]
        if upper and len(upper) < len(words):
            rest, hint = " ".join(upper), clean(" ".join(words[len(upper):]) + " " + hint)
    if rest == rest.upper():
        rest = rest.capitalize()
    return rest.rstrip(":"), hint


def assessed_by(title: str, hint: str, part: str, sheet: int) -> str:
    t = title.lower()
    if any(k in t for k in COMMUNE) and part in ("A", "B"):
        return "commune"
    if part == "C" and sheet != 26 and not any(k in t for k in ("công bố", "đảm bảo", "hướng dẫn", "cơ hội",
                                                                   "dinh dưỡng", "kiểm tra", "an toàn",
                                                                   "hiệu quả")):
        return "council"
    if any(k in t for k in COUNCIL) and not t.startswith("phong cách"):
        return "council"
    return "producer"


def sheet_texts(text: str) -> list[str]:
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if 908 <= i < len(lines)
              and re.match(r"^\s*(\d+\.\s*)?Bộ sản phẩm:|^\s*\d+\.\s*Sản phẩm (trà|cà phê)", ln)]
    end = next(i for i, ln in enumerate(lines) if ln.strip() == "PHỤ LỤC III" and i > starts[0])
    starts.append(end)
    return ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:])]


def header(block: str) -> tuple[str, list[str]]:
    """(scope "Sản phẩm: … Nhóm: …", knock-out conditions) from the sheet's heading."""
    flat = clean(block.split("Các tiêu chí")[0])
    scope = re.search(r"\((Sản phẩm:[^)]*)\)", flat)
    ko = re.search(r"(?:Hồ sơ )?[Bb]ị loại khi:\s*(.*?)(?=Hồ sơ bị loại khi:|$)", flat)
    return (scope.group(1) if scope else ""), ([clean(ko.group(1))] if ko else [])


def convert(n: int, raw: dict, block: str) -> dict:
    scope, knockout = header(block)
    fixes: list[str] = []
    title = clean(re.sub(r"^\d+\.\s*(Bộ sản phẩm:\s*)?", "", raw["title"]))
    parts, headings, criteria = [], [], []
    part = None
    items = raw["criteria"]
    ids = [cid(c["criterion"]) for c in items]
    cases: dict[int, list[str]] = {}
    for k, c in enumerate(items):
        label = clean(c["criterion"])
        m = re.match(r"Ph[ầẦ]n\s+([ABC])\b:?\s*(.*?)\s*\((\d+) [Đđ]iểm\)", label, re.I)
        if m:
            part = m.group(1).upper()
            ptitle = m.group(2).capitalize()
            mx = int(c["max"])
            if int(m.group(3)) != mx:
                fixes.append(f"Phần {part}: tiêu đề ghi {m.group(3)} điểm, thang điểm và tổng các tiêu chí là {mx}.")
            parts.append({"id": part, "title": ptitle, "max": mx})
            continue
        ident = ids[k]
        notes = [clean(x) for x in c.get("notes", []) if not x.startswith(("TỔNG CỘNG", " [...", "[..."))]
        restart_c = [x for x in notes if re.match(r"PHẦN C", x)]
        notes = [x for x in notes if x not in restart_c]
        has_child = any(j and j.startswith(ident + ".") for j in ids[k + 1:])
        mx = MAX_FIXES.get((n, ident), (None,))[0]
        if mx is not None:
            fixes.append(f"Tiêu chí {ident}: {MAX_FIXES[(n, ident)][1]}")
        else:
            mx = int(c["max"])
        ctitle, hint = split_title(label, ident)
        if has_child:
            headings.append({"id": ident, "part": part, "title": ctitle, "max": mx})
        else:
            options = []
            case_notes = [x for x in notes if re.match(r"[ab]\. Trường hợp", x)]
            notes = [x for x in notes if x not in case_notes and not x.startswith("Lựa chọn một trong hai")]
            for i, o in enumerate(c["options"]):
                pts = o["points"].strip()
                if (n, ident, i) in POINT_FIXES:
                    new, why = POINT_FIXES[(n, ident, i)]
                    fixes.append(f"Tiêu chí {ident}: {why}")
                    pts = str(new)
                elif pts == "":
                    fixes.append(f"Tiêu chí {ident}: mức \"{clean(o['label'])[:40]}\" không in điểm; ghi 0.")
                    pts = "0"
                opt = {"label": clean(o["label"]), "points": int(pts)}
                if o.get("min_for"):
                    opt["min_for"] = int(o["min_for"][0])
                if case_notes:
                    opt["case"] = 1 if i < len(c["options"]) // 2 else 2
                options.append(opt)
            for x in case_notes:
                num = 1 if x.startswith("a.") else 2
                text = re.sub(r"^[ab]\. Trường hợp \d:\s*", "", x)
                if text not in cases.setdefault(num, []):
                    cases[num].append(text)
            if not options:
                options = [{"label": YES_NO[0], "points": 0}, {"label": YES_NO[1], "points": mx}]
                fixes.append(f"Tiêu chí {ident}: văn bản không in các mức; bot hỏi Có ({mx} điểm) / Không (0).")
            entry = {"id": ident, "part": part, "title": ctitle}
            if hint:
                entry["hint"] = hint
            entry.update({"max": mx, "assessed_by": assessed_by(ctitle, hint, part, n)})
            if any(x.startswith("Chỉ áp dụng khi có câu chuyện") for x in notes):
                story = next(c2["id"] for c2 in reversed(criteria) if "câu chuyện" in c2["title"].lower())
                entry["requires"] = story          # scored only when that criterion has points
            ko = [x for x in notes if re.search(r"bị loại|không đánh giá các bước tiếp theo|không xem xét|"
                                                 r"không đánh giá các chỉ tiêu", x, re.I)]
            rest = [x for x in notes if x not in ko]
            if rest:
                entry["notes"] = rest
            if ko:
                entry["knockout"] = ko
            entry["options"] = options
            criteria.append(entry)
        if restart_c:                     # sheet 26: "PHẦN C … (35 Điểm)" was swallowed as a note
            part = "C"
            parts.append({"id": "C", "title": "Chất lượng sản phẩm", "max": 35})
            fixes.append("Phần C (tiêu chí 6–17) bị mất tiêu đề khi tách văn bản; dựng lại theo văn bản "
                         "(Phần C: Chất lượng sản phẩm, 35 điểm).")
    if n == 26 and not knockout:
        fixes.append("Phiếu này không ghi điều kiện \"Hồ sơ bị loại khi\".")
    out = {
        "sheet": n, "title": title, "scope": scope, "version": VERSION,
        "source": f"QĐ 26/2026/QĐ-TTg, Phụ lục II, phiếu số {n}",
        "knockout": knockout,
    }
    if cases:
        out["cases"] = {k: "; ".join(cases[k]) for k in sorted(cases)}
    out.update({"fixes": fixes, "parts": parts, "headings": headings, "criteria": criteria})
    return out


def build(json_path: Path, text_path: Path) -> dict[str, str]:
    raw = json.loads(json_path.read_text(encoding="utf-8"))
    blocks = sheet_texts(text_path.read_text(encoding="utf-8"))
    assert len(raw) == len(blocks) == 26, (len(raw), len(blocks))
    files = {}
    for n, (sheet, block) in enumerate(zip(raw, blocks), 1):
        data = convert(n, sheet, block)
        head = (f"# Phiếu số {n}, Phụ lục II, {VERSION} — generated by build.py from the decision's text;\n"
                f"# edit here and keep `pytest tests/selfassess` green (totals 40/25/35 = 100).\n")
        files[f"{n:02d}.yml"] = head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=REF / "phuluc2-sheets.json")
    ap.add_argument("--text", type=Path, default=REF / "qd26-2026-text.txt")
    ap.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = ap.parse_args(argv)
    files = build(args.json, args.text)
    stale = [name for name, body in files.items()
             if not (HERE / name).is_file() or (HERE / name).read_text(encoding="utf-8") != body]
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    for name, body in files.items():
        (HERE / name).write_text(body, encoding="utf-8")
    print(f"wrote {len(files)} sheets to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
