"""FAQ engine: content loading, normalisation, BM25 + fuzzy matching, rendering.

    from core.faq import get_renderer
    answer = get_renderer().respond("gcn ocop co thoi han bao lau")

The YAML of content/vi/faq/ is the base. Officers' edits (database rows, handlers/faq/repo.py) are an
overlay: `build_renderer(merged_entries(overrides))` then `install(renderer, version)`; `install(None, v)`
returns to the base. `get_renderer()` is whichever is installed.
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
def base_renderer() -> Renderer:
    """The engine + compiled answers of the repository's YAML, built once on first use."""
    return Renderer(load_engine())


_installed: dict = {"renderer": None, "version": None}


def get_renderer() -> Renderer:
    """The process-wide renderer: the base, or the base with the officers' edits installed."""
    return _installed["renderer"] or base_renderer()


def merged_entries(overrides: dict[str, Entry]) -> list[Entry]:
    """Base entries in file order with overridden ones replaced; new ids appended."""
    base = base_renderer().engine.order
    entries = base_renderer().engine.entries
    out = [overrides.get(i, entries[i]) for i in base]
    return out + [e for i, e in overrides.items() if i not in entries]


def build_renderer(entries: list[Entry]) -> Renderer:
    """A renderer over these entries with the base matching data (raises on a broken template)."""
    return Renderer(FaqEngine(entries, base_renderer().engine.data))


def install(renderer: Renderer | None, version: int | None) -> None:
    """Make `renderer` (None = the base) the one get_renderer() returns; `version` = the edits it reflects."""
    _installed["renderer"], _installed["version"] = renderer, version


def installed_version() -> int | None:
    return _installed["version"]


__all__ = ["Answer", "Entry", "FaqEngine", "Match", "MatchData", "Params", "Renderer", "base_renderer",
           "build_renderer", "get_renderer", "install", "installed_version", "load_engine", "load_entries",
           "load_match_data", "merged_entries"]
