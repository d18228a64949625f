"""FAQ engine: content loading, normalisation, BM25 + fuzzy matching, rendering.

    from core.faq import get_renderer
    answer = get_renderer().respond("gcn ocop co thoi han bao lau")
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from core.faq.content import FAQ_DIR, Entry, MatchData, load_entries, load_match_data
from core.faq.matcher import FaqEngine, Match, Params
from core.faq.respond import Answer, Renderer


def load_engine(directory: Path = FAQ_DIR, params: Params | None = None) -> FaqEngine:
    return FaqEngine(load_entries(directory), load_match_data(directory), params)


@lru_cache(maxsize=1)
def get_renderer() -> Renderer:
    """The process-wide engine + compiled answers, built once on first use."""
    return Renderer(load_engine())


__all__ = ["Answer", "Entry", "FaqEngine", "Match", "MatchData", "Params", "Renderer", "get_renderer",
           "load_engine", "load_entries", "load_match_data"]
