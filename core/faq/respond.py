"""Turn a Match into what a user sees: the answer (ends with "Căn cứ: …"), suggestions or fallback."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

from core.faq.calculators import CalcResult, Calculators
from core.faq.matcher import FaqEngine, Match
from core.faq.normalize import raw_tokens
from core.reference import all_provinces, match_province
from core.templates import environment, render

_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")


@dataclass
class Answer:
    text: str                                   # Telegram-HTML subset
    outcome: str                                # answer | suggest | fallback | smalltalk | unclear
    faq_id: str | None = None
    score: float = 0.0
    suggestions: list[tuple[str, str]] = field(default_factory=list)   # (id, canonical question)
    kind: str = ""                              # small-talk kind (greet, thanks…) or calculator kind (product, stars…)
    data: dict = field(default_factory=dict)    # a calculator's inputs (live figures are filled in by the handler)
    calc: CalcResult | None = None              # the calculator that answered, if one did

    @property
    def fallback(self) -> bool:
        """The bot did not answer (no entry fits, or the message has no words at all)."""
        return self.outcome in ("fallback", "unclear")


class Renderer:
    """Compiles every entry's answer template once."""

    def __init__(self, engine: FaqEngine):
        self.engine = engine
        env = environment()
        self.templates = {eid: env.from_string(_BARE_AMP.sub("&amp;", e.answer))
                          for eid, e in engine.entries.items()}
        self.wants_province = {eid for eid, e in engine.entries.items() if "province_note" in e.answer}
        self._html: dict[tuple[str, str], str] = {}    # (entry id, province note) -> entry_html
        self.old_names = old_province_notes()
        self.calculators = Calculators(lambda text: engine.norm.query_words(text)[0])

    def asks_province(self, question: str) -> bool:
        """An old province name plus "thuộc / sáp nhập / tỉnh nào…" (or nothing else)."""
        data = self.engine.data
        if data.province_entry not in self.engine.entries or not province_note(question, self.old_names):
            return False
        text = f" {' '.join(raw_tokens(question))} "
        if any(f" {w} " in text for w in data.province_intent):
            return True
        places = self.engine.places
        return all(t in places or t in data.light_words or t in data.stopwords for t in raw_tokens(question))

    def entry_html(self, entry_id: str, question: str = "") -> str:
        """The entry's answer with its legal basis (and the note on an old province name the question
        uses): rendered once per entry and note, as the content is fixed for this renderer (an edit
        installs a new one)."""
        note = province_note(question, self.old_names) if entry_id in self.wants_province else ""
        html = self._html.get((entry_id, note))
        if html is None:
            body = self.templates[entry_id].render(province_note=note).strip()
            html = render("faq/answer", body=Markup(body), basis=self.engine.entries[entry_id].basis)
            if len(self._html) < 10_000:
                self._html[(entry_id, note)] = html
        return html

    def calc_html(self, calc: CalcResult, **extra) -> str:
        body = render(calc.template, **(calc.ctx | extra))
        return render("faq/answer", body=Markup(body), basis=calc.basis)

    def calc_answer(self, calc: CalcResult) -> Answer:
        if calc.kind.startswith("live_"):       # no database here: a pointer; handlers/faq.py fills in figures
            extra = {"count": None, "label": ""} if calc.kind == "live_count" else {"items": None}
            return Answer(self.calc_html(calc, **extra), "answer", calc.faq_id, 1.0, kind=calc.kind, data=calc.ctx,
                          calc=calc)
        if not calc.direct:
            return Answer(render(calc.template, **calc.ctx), "fallback", None, 0.0, kind=calc.kind, calc=calc)
        return Answer(self.calc_html(calc), "answer", calc.faq_id, 1.0, kind=calc.kind, data=calc.ctx, calc=calc)

    def respond(self, question: str) -> Answer:
        calc = self.calculators.detect(question) if any(ch.isalnum() for ch in question) else None
        if calc is not None and calc.kind == "live_count":
            # the register may be empty for that province: keep the entry's answer (seed figures) if
            # one fits; handlers/faq.py replaces it with the register's figures when there are any
            entry = self.entry_answer(question)
            if entry.outcome == "answer":
                entry.kind, entry.data, entry.calc = calc.kind, calc.ctx, calc
                return entry
        if calc is not None:
            return self.calc_answer(calc)
        return self.entry_answer(question)

    def entry_answer(self, question: str) -> Answer:
        """The FAQ entries only (no calculator)."""
        m: Match = self.engine.match(question)
        if m.outcome in ("fallback", "suggest") and self.asks_province(question):
            m = Match("answer", self.engine.data.province_entry, 0.5)
        if m.outcome == "answer":
            return Answer(self.entry_html(m.faq_id, question), "answer", m.faq_id, m.score)
        if m.outcome == "suggest":
            pairs = [(eid, self.engine.entries[eid].question) for eid in m.suggestions]
            text = render("faq/suggest", questions=[q for _, q in pairs])
            return Answer(text, "suggest", None, m.score, pairs)
        if m.outcome == "smalltalk":
            return Answer(render("faq/smalltalk", kind=m.smalltalk), "smalltalk", None, 1.0, kind=m.smalltalk)
        if m.outcome == "unclear":
            return Answer(render("faq/unclear"), "unclear")
        return Answer(render("faq/fallback"), "fallback", None, m.score)


def old_province_notes() -> dict[str, str]:
    """Folded old unit name -> 'Tiền Giang nay thuộc tỉnh Đồng Tháp' (from core.reference)."""
    notes = {}
    for p in all_provinces():
        for old in p.formed_from:
            hit = match_province(old)
            if hit is not None and hit.note:
                notes[" ".join(raw_tokens(old))] = hit.note
    return notes


def province_note(question: str, notes: dict[str, str]) -> str:
    """The note for the first old province named in the question, else ''."""
    toks = raw_tokens(question)
    for n in (4, 3, 2):
        for i in range(len(toks) - n + 1):
            note = notes.get(" ".join(toks[i:i + n]))
            if note:
                return note
    return ""
