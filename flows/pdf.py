"""The printable dossier checklist: A4 PDF with tick boxes, rendered with fpdf2 and DejaVu Sans.

DejaVu Sans (package fonts-dejavu-core, /usr/share/fonts/truetype/dejavu/) covers every
Vietnamese letter with its diacritics; the core PDF fonts do not.
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from fpdf import FPDF

from rules.dossier import HAVE, Checklist

FONT_ENV = "OCOP_PDF_FONT_DIR"       # optional: a directory holding DejaVuSans.ttf + DejaVuSans-Bold.ttf
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
             "/usr/share/fonts/truetype", "/usr/local/share/fonts", "/Library/Fonts")
FONT_NAME = "DejaVuSans"


class FontMissing(RuntimeError):
    """No Unicode TTF found for Vietnamese text."""


def find_fonts() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans files; a clear error when the fonts are not installed."""
    dirs = [os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else []
    dirs += list(FONT_DIRS)
    for d in dirs:
        base = Path(d)
        for regular in [base / f"{FONT_NAME}.ttf", *sorted(base.glob(f"**/{FONT_NAME}.ttf"))][:2]:
            if regular.is_file():
                bold = regular.with_name(f"{FONT_NAME}-Bold.ttf")
                return regular, (bold if bold.is_file() else regular)
    raise FontMissing(f"{FONT_NAME}.ttf not found in {', '.join(dirs)}; install the OS package "
                      f"fonts-dejavu-core (apt-get install fonts-dejavu-core) or set {FONT_ENV}")


class _Doc(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_NAME, "", 8)
        self.set_text_color(120)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}} · Mẫu số 01, 02: Phụ lục III QĐ 26/2026/QĐ-TTg", align="C")


def _tick_box(pdf: FPDF, ticked: bool) -> None:
    x, y = pdf.get_x(), pdf.get_y() + 0.8
    pdf.set_draw_color(0)
    pdf.rect(x, y, 4.2, 4.2)
    if ticked:
        pdf.set_line_width(0.5)
        pdf.line(x + 0.8, y + 2.2, x + 1.8, y + 3.3)
        pdf.line(x + 1.8, y + 3.3, x + 3.6, y + 0.9)
        pdf.set_line_width(0.2)


def build_pdf(answers: list[tuple[str, str]], checklist: Checklist, today: date) -> bytes:
    """A4 checklist: the producer's answers, each document with a tick box, where to get it, sources."""
    regular, bold = find_fonts()
    pdf = _Doc(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 18)
    pdf.add_font(FONT_NAME, "", str(regular))
    pdf.add_font(FONT_NAME, "B", str(bold))
    pdf.set_title("Danh mục hồ sơ OCOP")
    pdf.add_page()
    w = pdf.epw

    pdf.set_font(FONT_NAME, "B", 16)
    pdf.multi_cell(w, 8, "Danh mục hồ sơ OCOP", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT_NAME, "", 10)
    pdf.multi_cell(w, 5, f"Lập ngày {today:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    for t, v in answers:
        pdf.multi_cell(w, 5.5, f"{t}: {v}", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1)
    pdf.set_font(FONT_NAME, "B", 11)
    pdf.multi_cell(w, 6, f"Giấy tờ bắt buộc đã sẵn sàng: {checklist.required_ready}/{checklist.required_total}",
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(3)

    for n, item in enumerate(checklist.items, 1):
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        status = {HAVE: "Đã có"}.get(item.status, "Chưa có" if item.status else "Chưa trả lời")
        kind = "bắt buộc" if item.required else "nên có"
        _tick_box(pdf, item.status == HAVE)
        pdf.set_x(pdf.l_margin + 7)
        pdf.set_font(FONT_NAME, "B", 10.5)
        pdf.multi_cell(w - 7, 5.5, f"{n}. {item.doc.name} ({kind}) - {status}", new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font(FONT_NAME, "", 9.5)
        for line in (item.doc.description, f"Lấy ở đâu: {item.doc.issuer}"):
            pdf.set_x(pdf.l_margin + 7)
            pdf.multi_cell(w - 7, 4.8, line, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(100)
        pdf.set_font(FONT_NAME, "", 8)
        pdf.set_x(pdf.l_margin + 7)
        pdf.multi_cell(w - 7, 4, f"Nguồn: {item.doc.source} {item.doc.url}".strip(), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(0)
        pdf.ln(2.5)

    if pdf.get_y() > pdf.h - 50:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT_NAME, "B", 11)
    pdf.multi_cell(w, 6, "Bước tiếp theo", new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT_NAME, "", 10)
    pdf.multi_cell(w, 5.5, "Nộp tại UBND xã/phường nơi sản xuất: 01 bộ hồ sơ giấy và 01 bộ hồ sơ điện tử, kèm 05 "
                   "sản phẩm mẫu (trừ dịch vụ du lịch); nơi tỉnh dùng phần mềm chấm điểm thì tự tải hồ sơ lên. "
                   "Xã có 15 ngày làm việc để gửi tỉnh. Tỉnh đánh giá ít nhất 2 đợt/năm: trước 30/6 (hồ sơ xã gửi "
                   "trước 30/4) và trước 30/12 (xã gửi trước 30/10); lịch cụ thể hỏi UBND xã/phường.",
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    pdf.set_font(FONT_NAME, "", 8)
    pdf.set_text_color(100)
    pdf.multi_cell(w, 4, "Căn cứ: QĐ 26/2026/QĐ-TTg ngày 22/5/2026 (Bộ tiêu chí và quy trình đánh giá, phân hạng "
                   "sản phẩm OCOP), Điều 5.1, 6, 7.1, 7.2; mẫu biểu ở Phụ lục III. Danh mục minh chứng là hướng dẫn, "
                   "không thay thế văn bản của tỉnh.", new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())
