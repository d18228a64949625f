"""Query/document normalisation: fold, tokenise, fix typos, expand abbreviations and synonyms.

Vietnamese is written in syllables, so a token is a folded syllable ("giay", "chung", "nhan").
Unknown tokens of a query are repaired first (Telex leftovers like "chuwng" -> "chung", then a
rapidfuzz nearest word of the vocabulary), then abbreviations are expanded ("gcn" ->
"giay chung nhan") by a greedy longest match over the table in content/vi/faq/_synonyms.yml.
"""
from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.faq.content import MatchData
from core.text import fold

_STAR = re.compile(r"(\d)\s*(?:\*|★|⭐)")
_NUM_SEP = re.compile(r"(?<=\d)[.,](?=\d{3}\b)")        # 17.316 -> 17316
_TOKEN = re.compile(r"[a-z0-9]+")
_TELEX_PAIRS = (("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"), ("dd", "d"))
MIN_FIX_LEN = 3


def raw_tokens(text: str) -> list[str]:
    """Folded syllables of `text`; numbers lose thousands separators and leading zeros."""
    t = _STAR.sub(r"\1 sao ", fold(text).replace("đ", "d"))
    t = _NUM_SEP.sub("", t)
    out = []
    for tok in _TOKEN.findall(t):
        if tok.isdigit():
            tok = tok.lstrip("0") or "0"
        out.append(tok)
    return out


class Normalizer:
    def __init__(self, data: MatchData):
        self.data = data
        self.keys: dict[tuple[str, ...], list[list[str]]] = {}
        for key, meanings in data.abbreviations.items():
            toks = tuple(raw_tokens(key)) or (key,)
            self.keys[toks] = [m.split() for m in meanings]
        self.single_keys = {k[0] for k in self.keys if len(k) == 1}
        self.max_key = max((len(k) for k in self.keys), default=1)
        self.vocab: frozenset[str] = frozenset()
        self._vocab_list: list[str] = []

    def set_vocab(self, vocab: set[str]) -> None:
        """Known words: typo correction only maps unknown query tokens onto these."""
        self.vocab = frozenset(vocab | self.single_keys)
        words = sorted(w for w in self.vocab if len(w) >= 3 and not w.isdigit())
        self._by_initial: dict[str, list[str]] = {}
        for w in words:
            self._by_initial.setdefault(w[0], []).append(w)
        self._vocab_list = words
        self._correct.cache_clear()
        self.query_words.cache_clear()

    def clear_caches(self) -> None:
        """Forget corrected words and normalised questions (the bench measures the cold path)."""
        self._correct.cache_clear()
        self.query_words.cache_clear()

    # ----------------------------------------------------------------------------------------
    def expand(self, tokens: list[str]) -> list[str]:
        """Greedy longest-match expansion of abbreviations; ambiguous keys give every meaning."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_key, len(tokens) - i), 0, -1):
                meanings = self.keys.get(tuple(tokens[i:i + n]))
                if meanings is not None:
                    for m in meanings:
                        out.extend(m)
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def content(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t not in self.data.stopwords]

    def doc_tokens(self, text: str) -> list[str]:
        """Tokens of an indexed text (question, paraphrase, answer)."""
        return self.content(self.expand(raw_tokens(text)))

    def query_tokens(self, text: str) -> tuple[list[str], set[str]]:
        """Tokens of a user question and the words that typo correction produced (less certain)."""
        full, guessed = self.query_words(text)
        return self.content(full), guessed

    @lru_cache(maxsize=1024)
    def query_words(self, text: str) -> tuple[list[str], set[str]]:
        """Like query_tokens but keeping filler words (for phrase checks such as off-topic terms).
        Memoised: the calculators, the matcher and its guards all ask for the same question. Do not
        mutate the result."""
        fixed, guessed = [], set()
        for tok in raw_tokens(text):
            new, fuzzy = self._correct(tok)
            if fuzzy:
                guessed.add(new)
            fixed.append(new)
        return self.expand(fixed), guessed

    @lru_cache(maxsize=8192)
    def _correct(self, tok: str) -> tuple[str, bool]:
        """(word, whether it is a fuzzy guess) for one query syllable."""
        if (tok in self.vocab or tok in self.data.stopwords or tok in self.data.known_words or tok.isdigit()
                or len(tok) < 3
                or not self._vocab_list):
            return tok, False
        telex = tok
        for a, b in _TELEX_PAIRS:
            telex = telex.replace(a, b)
        vni = re.sub(r"\d", "", tok) if not tok.isalpha() else ""      # VNI typing: "gia6y" -> "giay"
        for cand in (telex, telex[:-1] if telex[-1:] in "sfrxj" else "", telex.replace("w", ""), vni):
            if cand and cand in self.vocab:
                return cand, False
        # one edit (insert, drop, change, swap) for 3-6 letters, two for longer; same first letter
        max_edits = 0 if len(tok) < MIN_FIX_LEN else 1 if len(tok) <= 6 else 2
        pool = self._by_initial.get(tok[0], ())
        hit = process.extractOne(tok, pool, scorer=OSA.distance, score_cutoff=max_edits) if max_edits else None
        return (hit[0], True) if hit else (tok, False)
