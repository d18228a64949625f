"""A small BM25 index over folded syllables and syllable bigrams (inverted lists, pure Python)."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from itertools import repeat


def features(tokens: list[str]) -> list[str]:
    """Unigrams plus adjacent bigrams ("giay", "giay_chung", …)."""
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.5):
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.lengths = [len(d) for d in docs]
        self.avgdl = (sum(self.lengths) / self.n) if self.n else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings[term].append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        # precomputed term weight per (term, doc): scoring a query is then a sum of lookups
        self.weights: dict[str, list[tuple[int, float]]] = {}
        for term, plist in self.postings.items():
            idf = self.idf[term]
            self.weights[term] = [
                (i, idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * self.lengths[i] / self.avgdl))) for i, tf in plist]

    def scores(self, terms: set[str]) -> list[float]:
        """BM25 score of every document for the set of a query's terms, 0.0 without any of them."""
        out = [0.0] * self.n
        get = self.weights.get
        for term in terms:
            for i, w in get(term, ()):
                out[i] += w
        return out

    def ceiling(self, terms: set[str]) -> float:
        """Upper bound of a score for this set of query terms (every known term matched, tf saturated)."""
        return sum(map(self.idf.get, terms, repeat(0.0))) * (self.k1 + 1)
