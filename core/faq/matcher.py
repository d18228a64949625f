"""The FAQ engine: BM25 (question + paraphrases, and whole entries) + fuzzy re-rank + guards.

Outcomes: "answer" (confident), "suggest" (up to 3 close entries), "fallback" (out of scope or
unsure) and "smalltalk" (greetings, thanks). Thresholds were chosen on measurement
(bench/faq.py): leave-one-out over the paraphrases, the shared dev set and a tuning list of
off-topic questions; the held-out tests/faq/cases.yml is only reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.process import extractOne

from core.faq.content import Entry, MatchData
from core.faq.index import BM25, features
from core.faq.normalize import Normalizer, raw_tokens
from core.text import fold

SMALLTALK_FILLERS = frozenset(
    "ad admin ban nhieu rat qua a nhe nha oi ne ha em anh chi toi minh muon voi cho xin duoc khong".split())
SMALLTALK_PRIORITY = ("contact", "help", "thanks", "bye", "greet", "ack")
# A long message is split into clauses (punctuation, "cho em hỏi"…); the question is the last clause
# with a question word. Context clauses ("em nuôi ong ở xã…") then cannot pull the match away.
CLAUSE_SPLIT = re.compile(r"[,.;:!?\n]+|\b(?:cho (?:em |e |minh |toi |chau |con )?hoi|xin hoi|em muon hoi)\b")
QUESTION_WORDS = frozenset("gi j nao dau ai khong ko k hok chua lau ntn nhieu".split())
LONG_QUESTION = 12          # tokens (after normalising) from which clause focus is tried
YES_NO_START = re.compile(r"^(?:có|không|được|chưa)\s*[.!,:]", re.I)   # a bare yes/no first word
# Function syllables that carry no topic in a question. Unlike the content's light_words, this leaves out
# syllables with a common content reading once the marks are gone (chung/chứng, minh/mình, ban/bạn/bán).
FUNCTION_WORDS = frozenset(
    "gi j nao dau ai khong ko k hok chua lau ntn nhieu bao sao vay roi thi la duoc dc co lam nhu the khi da se "
    "dang can phai muon cho de ma va hay hoac nua con nay do bay gio hien toi em anh chi ad a ha nhe nha oi "
    "ve o thoi".split())
POSITIVE_EMOJI = ("👍", "👌", "🙏", "❤", "😊", "🙂", "🥰", "😀", "😁")    # a reply of only these is an "ok / thanks"


@dataclass(frozen=True)
class Params:
    w_var: float = 0.30         # best single question/paraphrase (BM25, normalised)
    w_ent: float = 0.45         # whole entry incl. a little of the answer (BM25, normalised)
    w_fuzz: float = 0.25        # rapidfuzz token_set_ratio against the best variant
    answer_repeat: int = 1      # how much of the answer goes into the whole-entry document
    answer_pairs: bool = True   # …and whether its word pairs count too
    k1: float = 1.2
    b: float = 0.5
    answer_min: float = 0.35    # answer at or above this…
    margin: float = 0.0         # …when the runner-up is at least this far behind
    answer_sure: float = 0.5    # (or at or above this whatever the runner-up)
    exact_bonus: float = 0.15    # added when the normalised question equals a known variant
    margin_short: float = 0.08   # a one- or two-word question must beat the runner-up clearly
    answer_min_no_anchor: float = 0.45  # answering a question without any OCOP term needs more
    suggest_min: float = 0.28   # suggestions between suggest_min and answer_min
    suggest_gap: float = 0.12   # a suggestion may be at most this far behind the best entry
    cov_min: float = 0.55       # share of the question's words (idf-weighted) the entry knows
    cov_min_strong: float = 0.20  # …when the question has a term that only OCOP talk uses
    cov_no_anchor: float = 0.75  # …when the question has no OCOP term at all
    light_weight: float = 0.4     # weight factor of a question/function word in coverage
    pair_cov_min: float = 0.25    # share of the question's word pairs the entry knows (no strong term)
    unknown_weight: float = 1.0  # weight of an unknown word, as a multiple of the highest idf
    unknown_number_weight: float = 0.3  # …of an unknown number (a year, a score)
    subject_idf: float = 0.0     # a question word this specific (idf / highest idf) that the entry lacks
                                 # means the entry is not about the question: no direct answer (0 = off)
    yes_no_cov: float = 0.0      # an entry whose answer starts "Có." / "Không." needs this coverage (0 = off)
    yes_no_margin: float = 0.0   # …and this lead over the runner-up


@dataclass
class Match:
    outcome: str                          # answer | suggest | fallback | smalltalk | unclear
    faq_id: str | None = None
    score: float = 0.0
    suggestions: list[str] = field(default_factory=list)
    smalltalk: str = ""
    coverage: float = 0.0
    anchored: bool = False
    ranked: list[tuple[str, float]] = field(default_factory=list)


class FaqEngine:
    def __init__(self, entries: list[Entry], data: MatchData, params: Params | None = None,
                 skip_variants: frozenset[tuple[str, int]] = frozenset()):
        self.params = p = params or Params()
        self.entries = {e.id: e for e in entries}
        self.order = [e.id for e in entries]
        self.data = data
        self.norm = Normalizer(data)
        var_docs, self.var_entry, self.var_text = [], [], []
        self.entry_vars: dict[str, list[int]] = {}
        ent_docs, self.ent_vocab, self.ent_pairs = [], [], []
        self.ent_text: dict[str, str] = {}       # expanded words of an entry (variants | answer), fillers kept
        for e in entries:
            all_toks: list[str] = []
            for k, text in enumerate((e.question,) + e.paraphrases):
                if (e.id, k) in skip_variants:
                    continue
                toks = self.norm.doc_tokens(text)
                self.entry_vars.setdefault(e.id, []).append(len(var_docs))
                var_docs.append(features(toks))
                self.var_entry.append(e.id)
                self.var_text.append(" ".join(toks))
                all_toks.extend(toks)
            answer_toks = self.norm.doc_tokens(_strip_markup(e.answer))
            ent_docs.append(features(all_toks) + (features(answer_toks) if p.answer_pairs else answer_toks) * p.answer_repeat)
            self.ent_vocab.append(frozenset(all_toks) | frozenset(answer_toks))
            self.ent_text[e.id] = " | ".join(" ".join(self.norm.expand(raw_tokens(t)))
                                             for t in (e.question,) + e.paraphrases + (_strip_markup(e.answer),))
            self.ent_pairs.append(frozenset(features(all_toks)[len(all_toks):])
                                  | frozenset(features(answer_toks)[len(answer_toks):]))
        # each entry's variants are consecutive documents of var_index: (first, end) per entry of self.order
        self.var_span = [(v[0], v[-1] + 1) if (v := self.entry_vars.get(eid)) else (0, 0) for eid in self.order]
        assert all(self.entry_vars[eid] == list(range(a, b)) for eid, (a, b) in zip(self.order, self.var_span) if b)
        # per entry of self.order: its variants' texts (fuzzy re-rank) and the slice of their scores
        self._texts_of = [[self.var_text[i] for i in self.entry_vars.get(eid, ())] for eid in self.order]
        self._var_slices = [slice(a, b) for a, b in self.var_span]
        self.vocab_of = dict(zip(self.order, self.ent_vocab))
        self.pairs_of = dict(zip(self.order, self.ent_pairs))
        self.exact: dict[str, str] = {}          # normalised question/paraphrase -> entry id
        for text, eid in zip(self.var_text, self.var_entry):
            self.exact.setdefault(text, eid)
        self.var_index = BM25(var_docs, p.k1, p.b)
        self.ent_index = BM25(ent_docs, p.k1, p.b)
        self.norm.set_vocab(set().union(*self.ent_vocab) if self.ent_vocab else set())
        self.smalltalk_of: dict[tuple[str, ...], str] = {}     # small-talk phrase (no fillers) -> its first kind
        for kind, phrases in data.smalltalk.items():
            for ph in phrases:
                if key := tuple(t for t in ph.split() if t not in SMALLTALK_FILLERS):
                    self.smalltalk_of.setdefault(key, kind)
        self.anchors = [f" {t} " for t in data.domain_terms]
        self.strong = [f" {t} " for t in data.strong_terms]
        self.off_topic = sorted({tuple(f" {' '.join(self.norm.expand(raw_tokens(part)))} " for part in t.split("+"))
                                 for t in data.off_topic_terms} - {("  ",)})
        self.places = _place_words()
        self.ent_text_padded = {eid: f" {t} " for eid, t in self.ent_text.items()}
        self._off_cache: dict[str, list[tuple[str, ...]]] = {}
        self._off_by_word: dict[str, list[int]] = {}   # first word of a term -> its positions in off_topic
        for k, t in enumerate(self.off_topic):
            self._off_by_word.setdefault(t[0].split()[0] if t[0].split() else "", []).append(k)
        self.negative = {eid: [tuple(f" {' '.join(self.norm.expand(raw_tokens(part)))} " for part in t.split("+"))
                               for t in terms] for eid, terms in data.negative.items()}
        self.requires = {eid: [f" {' '.join(self.norm.expand(raw_tokens(t)))} " for t in terms]
                         for eid, terms in data.requires.items()}
        self.yes_no = {e.id for e in entries if YES_NO_START.match(_strip_markup(e.answer).strip())}
        self.subjects = sorted({f" {' '.join(self.norm.expand(raw_tokens(t)))} " for t in data.subjects} - {"  "})
        self.var_words: dict[str, str] = {}      # expanded words of an entry's question + paraphrases only
        for e in entries:
            self.var_words[e.id] = " | ".join(" ".join(self.norm.expand(raw_tokens(t))) for t in (e.question,) + e.paraphrases)
        self.var_vocab = {eid: frozenset(self.var_words[eid].split()) - {"|"} for eid in self.var_words}
        self.canonical = {e.id: f" {' '.join(raw_tokens(e.question))} " for e in entries}   # what a bare yes/no answers
        self.ident = [re.compile(re.escape(f" {' '.join(self.norm.expand(raw_tokens(t)))} ") + r"(\d+) ")
                      for t in data.identifier_words]

    # ----------------------------------------------------------------------------------------
    def match(self, text: str) -> Match:
        if not any(ch.isalnum() for ch in text):       # only emoji, punctuation, symbols
            return (Match("smalltalk", smalltalk="ack", score=1.0) if any(e in text for e in POSITIVE_EMOJI)
                    else Match("unclear"))
        kind = self.smalltalk_kind(text)
        if kind:
            return Match("smalltalk", smalltalk=kind, score=1.0)
        if len(self.norm.query_tokens(text)[0]) >= LONG_QUESTION:
            clause = self.question_clause(text)
            if clause:                          # the question clause first; the whole message if it fails
                mc = self._match(clause)
                if mc.outcome == "answer" and self.fits_context(text, mc.faq_id):
                    return mc
        return self._match(text)

    def _match(self, text: str) -> Match:
        words, guessed = self.norm.query_words(text)
        q = self.norm.content(words)
        ranked = self.rank(q) if q else []
        if not ranked:
            return Match("fallback")
        if self.off_anchor(words, ranked[0][0]):
            # the best entry is about a concept OCOP shares with other services and the question is
            # about something else: the next entries only share the same stray words
            return Match("fallback", score=round(ranked[0][1], 4), ranked=ranked[:5])
        ranked = [r for r in ranked if not self.negative_hit(words, r[0])] or [("", 0.0)]
        if not ranked[0][0]:
            return Match("fallback")
        subj = self.subject_terms(words)
        if subj:
            # "mã số mã vạch", "giải thể": the entry's own questions must be about it (an answer that
            # only mentions it in passing is another topic): the best of the top 3 that is, else none
            fit = [r for r in ranked[:3] if self.covers_subject(subj, r[0])]
            if not fit:
                return Match("fallback", score=round(ranked[0][1], 4), ranked=ranked[:5])
            ranked = fit + [r for r in ranked if r not in fit]
        idents = self.identifiers(q)
        if idents:          # "QĐ 1489", "mẫu 03": prefer an entry of the top 3 whose questions name it, else its answer
            # an entry whose own question names it first ("148 có gì mới" is not "26/2026 khác gì 148")
            named = [r for r in ranked[:3] if all(f" {n} " in self.canonical[r[0]] for n in idents)]
            own = named or [r for r in ranked[:3] if all(f" {n} " in f" {self.var_words[r[0]]} " for n in idents)]
            fit = own or [r for r in ranked[:3] if idents <= self.vocab_of[r[0]]]
            if fit:
                ranked = fit + [r for r in ranked if r not in fit]
        if self.foreign_topic(words, ranked[0][0]):
            # the word may still be one a close entry uses (VietGAP as evidence): decide on that one
            fit = next((r for r in ranked[1:3] if not self.foreign_topic(words, r[0])), None)
            if fit is None:
                return Match("fallback", score=round(ranked[0][1], 4), ranked=ranked[:5])
            ranked = [fit] + [r for r in ranked if r is not fit]
        return self.decide(q, guessed, ranked, words)

    def question_clause(self, text: str) -> str:
        """The last clause of a long message that has a question word ('' when there is one clause)."""
        clauses = [c.strip() for c in CLAUSE_SPLIT.split(fold(text)) if c and c.strip()]
        if len(clauses) < 2:
            return ""
        asking = [c for c in clauses if QUESTION_WORDS & set(c.split())]
        return asking[-1] if asking else ""

    def rank(self, q: list[str]) -> list[tuple[str, float]]:
        """Entries by combined score: BM25 on variants and on entries, then a fuzzy re-rank of the top 8."""
        p = self.params
        qf = features(q)
        terms = set(qf)
        var_ceil = self.var_index.ceiling(terms) or 1.0
        ent_ceil = self.ent_index.ceiling(terms) or 1.0
        var, ent = self.var_index.scores(terms), self.ent_index.scores(terms)
        best = [max(var[s], default=0.0) for s in self._var_slices]     # each entry's best variant
        w_var, w_ent = p.w_var, p.w_ent
        pre_score = {k: w_var * (v / var_ceil) + w_ent * (e / ent_ceil)
                     for k, (v, e) in enumerate(zip(best, ent)) if v or e}
        # sorted() is stable: among equal scores the lower entry position comes first, as before
        top = sorted(pre_score, key=pre_score.__getitem__, reverse=True)[:8]
        qtext = " ".join(q)
        w_fuzz, ratio, texts_of, order = p.w_fuzz, fuzz.token_set_ratio, self._texts_of, self.order
        final = {}
        for k in top:
            # the best fuzzy ratio of the entry's variants (extractOne: the plain maximum, in C)
            hit = extractOne(qtext, texts_of[k], scorer=ratio)
            # w_var * s_var + w_ent * s_ent (= pre_score) + w_fuzz * that ratio
            final[order[k]] = pre_score[k] + w_fuzz * (hit[1] if hit else 0.0) / 100
        exact = self.exact.get(qtext)
        if exact is not None:                   # the question is (after normalising) a known one
            final[exact] = final.get(exact, 0.0) + p.exact_bonus
        return sorted(final.items(), key=lambda kv: -kv[1])

    def decide(self, q: list[str], guessed: set[str], ranked: list[tuple[str, float]],
               words: list[str] | None = None) -> Match:
        """Out-of-scope guard first, then answer / suggestions / fallback by score."""
        p = self.params
        top_id, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        cov = self.coverage(q, top_id, guessed)
        anchored = self.has_anchor(q)
        strong = self.has_anchor(q, self.strong)
        m = Match("fallback", None, round(top, 4), coverage=round(cov, 3), anchored=anchored, ranked=ranked[:5])
        pairs = set(features(q)[len(q):])
        pair_cov = len(pairs & self.pairs_of[top_id]) / len(pairs) if len(pairs) >= 3 else 1.0
        if (cov < (p.cov_min_strong if strong else p.cov_min) or (not anchored and cov < p.cov_no_anchor)
                or (not strong and pair_cov < p.pair_cov_min)):
            return m
        answer_min = p.answer_min if anchored else p.answer_min_no_anchor
        short = len(set(q)) <= 2
        margin = p.margin_short if short else p.margin
        if top >= answer_min and (top - second >= margin or (not short and top >= p.answer_sure)):
            m.outcome, m.faq_id = "answer", top_id
            if not self.about(q, guessed, top_id, cov, top - second, words):
                m.outcome, m.faq_id = "fallback", None
                if anchored and top >= p.suggest_min:
                    m.suggestions = self.close_suggestions(ranked, words)
                    m.outcome = "suggest" if m.suggestions else "fallback"
                return m
        elif top >= p.suggest_min and anchored:
            m.suggestions = self.close_suggestions(ranked, words)
            m.outcome = "suggest" if m.suggestions else "fallback"
        return m

    def close_suggestions(self, ranked: list[tuple[str, float]], words: list[str] | None = None) -> list[str]:
        """At most 3 entries close to the best one: never one far behind it, nor one the question's
        off-topic words, subject phrases or the entry's negative phrases rule out."""
        p = self.params
        top = ranked[0][1]
        out = []
        for e, s in ranked[:3]:
            if s < p.suggest_min or s < top - p.suggest_gap:
                continue
            if words is not None and (self.negative_hit(words, e) or self.off_anchor(words, e) or self.foreign_topic(words, e)
                                      or not self.covers_subject(self.subject_terms(words), e)):
                continue
            out.append(e)
        return out

    def about(self, q: list[str], guessed: set[str], entry_id: str, cov: float, lead: float,
              words: list[str] | None = None) -> bool:
        """Is the entry about what the question asks? (subject words and identifiers covered; a
        yes/no answer only for a close match.)"""
        p = self.params
        vocab = self.vocab_of[entry_id]
        idents = self.identifiers(q)
        if not idents <= vocab:                   # "mẫu 03", "quyết định 148": that number is the subject
            return False
        if idents and entry_id in self.yes_no and \
                not all(f" {n} " in self.canonical[entry_id] for n in idents):
            return False    # the bare "Không." of "QĐ 1048 còn áp dụng không?" is no answer to "QĐ 148 còn hiệu lực?"
        if p.subject_idf:
            idf, top = self.ent_index.idf, self.ent_index.max_idf
            skip = self.data.light_words | self.places | self.product_words(words or q)
            for t in set(q):
                if t in vocab or t in skip or t in guessed or t.isdigit():
                    continue
                if idf.get(t, top) / top >= p.subject_idf:
                    return False
        if p.yes_no_cov and entry_id in self.yes_no and (cov < p.yes_no_cov or lead < p.yes_no_margin):
            return False
        return True

    def product_words(self, words: list[str]) -> frozenset[str]:
        """Words of product names in the question (a product is a detail, not the topic)."""
        from core.faq.products import lookup
        out = set()
        for m in lookup(" ".join(words)):
            out.update(m.typed.split())
        return frozenset(fold(w) for w in out)

    def identifiers(self, q: list[str]) -> set[str]:
        """Numbers that name a document or form: "quyết định 1489", "mẫu 03" -> {"1489", "3"}."""
        if not any(t.isdigit() for t in q):
            return set()
        text = f" {' '.join(q)} "
        return {m.group(1) for pattern in self.ident for m in pattern.finditer(text)}

    def fits_context(self, text: str, entry_id: str) -> bool:
        """An answer found for the question clause must still fit the whole message (its subject
        terms, off-topic words and the entry's negative phrases)."""
        words = self.norm.query_words(text)[0]
        return (not self.negative_hit(words, entry_id) and not self.off_anchor(words, entry_id)
                and self.covers_subject(self.subject_terms(words), entry_id)
                and not self.foreign_topic(words, entry_id))

    def subject_terms(self, words: list[str]) -> list[str]:
        text = f" {' '.join(words)} "
        return [t for t in self.subjects if t in text]

    def covers_subject(self, subjects: list[str], entry_id: str) -> bool:
        own = f" {self.var_words.get(entry_id, '')} "
        return all(t in own for t in subjects)

    def negative_hit(self, words: list[str], entry_id: str) -> bool:
        """The question uses a phrase the entry is known not to answer (content/vi/faq/_guards.yml)."""
        terms = self.negative.get(entry_id)
        if not terms:
            return False
        text = f" {' '.join(words)} "
        return any(all(part in text for part in t) for t in terms)

    def off_anchor(self, words: list[str], entry_id: str) -> bool:
        """The entry is about a concept OCOP shares with other services (expiry, the commune's
        office…) and the question names something else: none of the entry's topic anchors
        (content/vi/faq/_guards.yml `requires`) and a content word its own questions never use
        ("chứng minh nhân dân hết hạn", "lịch họp của UBND xã")."""
        anchors = self.requires.get(entry_id)
        if not anchors:
            return False
        text = f" {' '.join(words)} "
        if any(a in text for a in anchors):
            return False
        own, skip = self.var_vocab[entry_id], FUNCTION_WORDS | self.data.stopwords | self.places
        products = None
        for t in words:
            if t in own or t in skip or t.isdigit():
                continue
            if products is None:
                products = self.product_words(words)
            if t not in products:
                return True
        return False

    # ----------------------------------------------------------------------------------------
    def coverage(self, q: list[str], entry_id: str, guessed: set[str] = frozenset()) -> float:
        """Idf-weighted share of the question's words found in the entry (unknown words weigh most;
        a word that typo correction guessed counts half)."""
        vocab = self.vocab_of[entry_id]
        idf, top = self.ent_index.idf, self.ent_index.max_idf * self.params.unknown_weight
        top_num = self.ent_index.max_idf * self.params.unknown_number_weight
        light = self.data.light_words
        products = self.product_words(q)      # a product named is a detail, like a place
        total = hit = 0.0
        for t in set(q):
            w = idf.get(t, top_num if t.isdigit() else top)
            if t.isdigit() and t not in vocab:   # a score, year or amount the entry lacks: a detail
                w = min(w, top_num)
            if t in light or t in self.places or t in products:
                w *= self.params.light_weight
            total += w
            hit += (0.5 * w if t in guessed else w) if t in vocab else 0.0
        return hit / total if total else 0.0

    def foreign_topic(self, words: list[str], entry_id: str) -> str:
        """An off-topic term (land, vehicles, tax, weather…) of the question that the entry never uses.
        A term "a + b" needs all its parts in the question; the entry must lack one of them."""
        entry = self.ent_text_padded[entry_id]
        hit = next((t for t in self._off_topic_in(" ".join(words)) if not all(p in entry for p in t)), ())
        return "+".join(p.strip() for p in hit)

    def _off_topic_in(self, joined: str) -> list[tuple[str, ...]]:
        """The off-topic terms a question's words contain (memoised per question)."""
        hits = self._off_cache.get(joined)
        if hits is None:
            text, by_word, terms = f" {joined} ", self._off_by_word, self.off_topic
            found = sorted({k for w in {"", *joined.split()} for k in by_word.get(w, ())})
            hits = [terms[k] for k in found if all(p in text for p in terms[k])]
            if len(self._off_cache) > 4096:
                self._off_cache.clear()
            self._off_cache[joined] = hits
        return hits

    def has_anchor(self, q: list[str], anchors: list[str] | None = None) -> bool:
        text = f" {' '.join(q)} "
        return any(a in text for a in (self.anchors if anchors is None else anchors))

    def smalltalk_kind(self, text: str) -> str:
        """'greet' / 'thanks' / 'ack' / 'bye' when the whole message is small talk, else ''."""
        raw = raw_tokens(text)
        toks = [t for t in raw if t not in SMALLTALK_FILLERS]
        if raw and not toks and len(raw) <= 3:         # "ad ơi", "bạn ơi": someone calling
            return "greet"
        if not toks or len(toks) > 6:
            return ""
        found, i = set(), 0
        while i < len(toks):
            for n in range(min(4, len(toks) - i), 0, -1):
                kind = self.smalltalk_of.get(tuple(toks[i:i + n]))
                if kind:
                    found.add(kind)
                    i += n
                    break
            else:
                return ""
        return next((k for k in SMALLTALK_PRIORITY if k in found), "")


def _place_words() -> frozenset[str]:
    """Syllables of province names, old and new: naming a place says nothing about the topic."""
    from core.reference import all_provinces
    words = set()
    for p in all_provinces():
        for name in (p.name, *p.formed_from):
            words.update(raw_tokens(name))
    return frozenset(words)


def _strip_markup(source: str) -> str:
    import re
    return re.sub(r"\{[{%#].*?[}%#]\}|<[^>]+>", " ", source)
