"""Content check for the FAQ: run after every edit of content/vi/faq/.

    .venv/bin/python -m core.faq.check          # prints problems, exit 1 if any

Fails on: bad or duplicate id, missing question/answer/basis/sources/reviewed date, too few
paraphrases, a paraphrase equal (after folding) to another entry's question or paraphrase, an
answer template that does not render, HTML outside <b>/<i>/<a href>, unknown ids in _menu.yml,
an unreadable _synonyms.yml; for the calculators: an unknown entry id in _guards.yml, a product
of content/data/products.yml with an unknown sub-group, old_places.yml naming no old unit, a
calculator answer that does not render or lacks "Căn cứ:".
"""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

from core.faq.content import FAQ_DIR, ID_RE, load_entries, load_match_data
from core.faq.normalize import raw_tokens

MIN_PARAPHRASES = 8
MAX_ID = 40                 # "fq:up:<id>" must stay within Telegram's 64-byte callback data
MAX_ANSWER = 3500
ALLOWED_TAGS = {"b", "i", "a"}


class _TagCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> not allowed")
        elif tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def html_problems(html: str) -> list[str]:
    if re.search(r"<(?![/a-zA-Z])", html) or re.search(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)", html):
        return ["bare '<' or '&' (write &lt; / &amp;)"]
    parser = _TagCheck()
    parser.feed(html)
    return parser.problems + [f"unclosed <{t}>" for t in parser.stack]


def check_content(directory: Path = FAQ_DIR) -> list[str]:
    try:
        entries = load_entries(directory)
        data = load_match_data(directory)
    except Exception as exc:     # YAML syntax errors and the like
        return [f"cannot load FAQ content: {exc}"]
    return check_entries(entries, data, directory)[0]


def check_entries(entries: list, data, directory: Path = FAQ_DIR) -> tuple[list[str], object]:
    """The check of `check_content` on entries already loaded (the YAML, or the YAML with officers'
    edits): (problems, the renderer built over them — None when there are problems)."""
    problems: list[str] = []
    from core.faq.matcher import FaqEngine
    from core.faq.respond import Renderer
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    for e in entries:
        where = f"{e.file}:{e.id or '?'}"
        if not ID_RE.match(e.id) or len(e.id) > MAX_ID:
            problems.append(f"{where}: id must be snake_case ASCII, at most {MAX_ID} characters")
        if e.id in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(e.id)
        for name in ("question", "answer", "basis"):
            if not getattr(e, name):
                problems.append(f"{where}: missing {name}")
        if not e.sources or not all(e.sources):
            problems.append(f"{where}: missing sources")
        if e.reviewed is None:
            problems.append(f"{where}: missing or bad 'reviewed' date (YYYY-MM-DD)")
        if len(e.paraphrases) < MIN_PARAPHRASES:
            problems.append(f"{where}: only {len(e.paraphrases)} paraphrases (need {MIN_PARAPHRASES})")
        if len(e.answer) > MAX_ANSWER:
            problems.append(f"{where}: answer longer than {MAX_ANSWER} characters")
        for text in (e.question,) + e.paraphrases:
            key = " ".join(raw_tokens(text))
            if not key:
                problems.append(f"{where}: empty paraphrase")
            elif owner.setdefault(key, e.id) != e.id:
                problems.append(f"{where}: paraphrase {text!r} is also in entry {owner[key]}")
    if problems:
        return problems, None
    try:
        renderer = Renderer(FaqEngine(entries, data))
    except Exception as exc:
        return [f"answer template error: {exc}"], None
    for e in entries:
        for question in ("", "Tiền Giang nay thuộc tỉnh nào"):
            try:
                html = renderer.entry_html(e.id, question)
            except Exception as exc:
                problems.append(f"{e.file}:{e.id}: answer does not render: {exc}")
                break
            if "Căn cứ:" not in html:
                problems.append(f"{e.file}:{e.id}: rendered answer lacks 'Căn cứ:'")
            problems += [f"{e.file}:{e.id}: {p}" for p in html_problems(html)]
    province_entry = data.province_entry
    if province_entry and province_entry not in seen_ids:
        problems.append(f"_synonyms.yml: province_entry {province_entry!r} is not an entry id")
    problems += [f"_guards.yml: unknown entry id {i!r}" for i in (*data.negative, *data.requires) if i not in seen_ids]
    problems += [f"_guards.yml: requires of {i!r} is empty" for i, anchors in data.requires.items() if not anchors]
    problems += calculator_problems(renderer)
    menu = directory / "_menu.yml"
    if menu.exists():
        popular = (yaml.safe_load(menu.read_text(encoding="utf-8")) or {}).get("popular") or []
        problems += [f"_menu.yml: unknown entry id {i!r}" for i in popular if i not in seen_ids]
    problems = sorted(set(problems))
    return problems, None if problems else renderer


CALC_SAMPLES = ("lạp xưởng thuộc nhóm nào", "homestay có làm OCOP được không", "bánh xèo giòn thuộc nhóm nào",
                "chấm 92 điểm được mấy sao", "chấm 45 điểm được mấy sao", "công nhận 5/3/2024 khi nào hết hạn",
                "công nhận tháng 7/2023 khi nào hết hạn", "BRVT giờ thuộc tỉnh nào", "Mỹ Tho nay thuộc tỉnh nào",
                "tỉnh tôi có bao nhiêu sản phẩm OCOP", "sản phẩm của tôi còn hạn không")


def calculator_problems(renderer) -> list[str]:
    """The gazetteer and place data load; every calculator answers its sample and renders cleanly."""
    from core.faq import places, products
    try:
        products.gazetteer()
        places.find("")
    except Exception as exc:
        return [f"calculator data: {exc}"]
    out = []
    for q in CALC_SAMPLES:
        try:
            a = renderer.respond(q)
        except Exception as exc:
            out.append(f"calculator {q!r}: {exc}")
            continue
        if a.calc is None:
            out.append(f"calculator {q!r}: no calculator answered")
        elif a.outcome == "answer" and "Căn cứ:" not in a.text:
            out.append(f"calculator {q!r}: answer lacks 'Căn cứ:'")
        out += [f"calculator {q!r}: {p}" for p in html_problems(a.text)]
    return out


def main() -> int:
    problems = check_content()
    for p in problems:
        print(p)
    n = len(load_entries())
    print(f"{n} entries, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
