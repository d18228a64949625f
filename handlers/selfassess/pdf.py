"""PDF draft of the self-assessment report (Mẫu số 02, Phụ lục III, QĐ 26/2026/QĐ-TTg), with fpdf2.

Reuses the dossier PDF's font lookup (DejaVu Sans, flows/pdf.py); every text comes from
content/vi/selfassess/mau02.yml. Part III is filled with the producer's self-scored answers.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import yaml
from fpdf import FPDF

from core.config import ROOT
from flows.pdf import FONT_NAME, find_fonts
from handlers.selfassess import rules
from handlers.selfassess.view import option_label, texts

MAU02 = ROOT / "content" / "vi" / "selfassess" / "mau02.yml"


@lru_cache(maxsize=1)
def layout() -> dict:
    return yaml.safe_load(MAU02.read_text(encoding="utf-8"))


class _Report(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_NAME, "", 7.5)
        self.set_text_color(120)
        self.cell(0, 5, layout()["footer"].format(page=self.page_no()), align="C")
        self.set_text_color(0)


def _para(pdf: FPDF, text: str, size: float = 10, style: str = "", h: float = 5.2, align: str = "L") -> None:
    pdf.set_font(FONT_NAME, style, size)
    pdf.multi_cell(pdf.epw, h, text, new_x="LMARGIN", new_y="NEXT", align=align)


def _blank(pdf: FPDF, n: int = 1) -> None:
    for _ in range(n):
        _para(pdf, layout()["blank"], 9, h=6)


def _free_part(pdf: FPDF, part: dict) -> None:
    """A part of the form the producer writes: its title, the guidance lines, room to write."""
    _para(pdf, part["title"], 11, "B", 6)
    for line in part["lines"]:
        _para(pdf, line, 9.5)
    _blank(pdf, 3)


def build(result: rules.Result, group_name: str, today: date) -> bytes:
    """A4 draft: Parts I–IV of Mẫu 02; Part III lists every criterion with the chosen level and points."""
    L = layout()
    regular, bold = find_fonts()
    sheet = result.sheet
    pdf = _Report(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 18)
    pdf.add_font(FONT_NAME, "", str(regular))
    pdf.add_font(FONT_NAME, "B", str(bold))
    pdf.set_title(L["title"])
    pdf.add_page()

    _para(pdf, L["title"], 14, "B", 7, "C")
    _para(pdf, L["subtitle"], 10, "", 5, "C")
    pdf.ln(1)
    pdf.set_text_color(150, 0, 0)
    _para(pdf, L["draft"].format(date=f"{today:%d/%m/%Y}"), 8.5, h=4.2)
    pdf.set_text_color(0)
    pdf.ln(2)

    p1 = L["part1"]
    _para(pdf, p1["title"], 11, "B", 6)
    for line in p1["lines"]:
        _para(pdf, line)
        _blank(pdf)
    _para(pdf, p1["product"])
    _para(pdf, p1["product_group"].format(group=group_name, sub=sheet.title, sheet=sheet.number), 10, "B")
    _blank(pdf)
    _para(pdf, p1["ticks_title"])
    for line in p1["ticks"]:
        _para(pdf, f"☐ {line}", 9.5)
    for line in p1["after"]:
        _para(pdf, line)
        _blank(pdf, 2)
    pdf.ln(2)

    _free_part(pdf, L["part2"])
    pdf.ln(2)

    p3 = L["part3"]
    _para(pdf, p3["title"], 11, "B", 6)
    _para(pdf, p3["intro"], 9.5)
    _para(pdf, p3["sheet"].format(source=sheet.source, title=sheet.title, version=sheet.version), 9.5, "B")
    pdf.ln(1)
    who = texts()["assessed_by"]
    for part in result.parts:
        pdf.set_font(FONT_NAME, "B", 9)
        with pdf.table(col_widths=(48, 72, 16, 44), text_align="LEFT", line_height=4.3,
                       first_row_as_headings=True) as table:
            head = table.row()
            for col in p3["columns"]:
                head.cell(col)
            pdf.set_font(FONT_NAME, "", 8.5)
            for s in (s for s in result.scored if s.criterion.part == part.id):
                c = s.criterion
                row = table.row()
                row.cell(f"{c.id}. {c.title} (tối đa {c.max})")
                if s.index is None:
                    row.cell(p3["not_applicable"])
                else:
                    label = option_label(c, s.index)
                    if c.provisional:
                        label += " " + p3["provisional"].format(who=who[c.assessed_by])
                    row.cell(label)
                row.cell(str(s.points))
                row.cell("")
        _para(pdf, p3["subtotal"].format(part=f"Phần {part.id} ({part.title})", points=part.points, max=part.max),
              9.5, "B")
        pdf.ln(1.5)
    _para(pdf, p3["total"].format(total=result.total, band=result.band, low=result.low, high=result.high), 10, "B")
    for level in (3, 4, 5):
        ms = result.missed(level)
        if ms:
            _para(pdf, p3["missed"].format(level=level, items="; ".join(f"{m.criterion.id} {m.criterion.title}"
                                                                        for m in ms)), 9)
    _para(pdf, p3["estimate"], 9, h=4.6)
    pdf.ln(1)
    _para(pdf, p3["evidence_title"], 9.5, "B")
    for line in p3["evidence"]:
        _para(pdf, f"- {line}", 8.5, h=4.4)
    _para(pdf, p3["reeval"], 8.5, h=4.4)
    pdf.ln(2)

    _free_part(pdf, L["part4"])
    pdf.ln(4)
    for i, line in enumerate(L["signature"]):
        _para(pdf, line, 10, "B" if i == 1 else "", 5.5, "R")
    return bytes(pdf.output())
