"""FAQ content as data: entries from content/vi/faq/*.yml and matching data from _synonyms.yml."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from core.config import ROOT
from core.text import fold

FAQ_DIR = ROOT / "content" / "vi" / "faq"
SYNONYMS_FILE = "_synonyms.yml"
KNOWN_WORDS_FILE = "_known_words.txt"
GUARDS_FILE = "_guards.yml"
ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    paraphrases: tuple[str, ...]
    answer: str              # Jinja2 source (Telegram-HTML subset), rendered with autoescape
    basis: str
    sources: tuple[str, ...]
    reviewed: date | None
    file: str = ""


@dataclass
class MatchData:
    abbreviations: dict[str, list[str]] = field(default_factory=dict)   # folded key -> folded meanings
    stopwords: frozenset[str] = frozenset()
    domain_terms: tuple[str, ...] = ()
    strong_terms: tuple[str, ...] = ()
    off_topic_terms: tuple[str, ...] = ()          # words of other domains (land, vehicles, tax…)
    light_words: frozenset[str] = frozenset()      # question/function words: weigh little in coverage
    known_words: frozenset[str] = frozenset()      # ordinary words: never "corrected" as typos
    province_entry: str = ""                        # entry for "old province X is now in …?"
    province_intent: tuple[str, ...] = ()
    smalltalk: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> folded phrases
    negative: dict[str, tuple[str, ...]] = field(default_factory=dict)   # entry id -> phrases it never answers
    subjects: tuple[str, ...] = ()                  # phrases that, in a question, its entry's questions must use
    identifier_words: tuple[str, ...] = ()          # "mẫu 03", "QĐ 148": the number after these is the subject
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)   # entry id -> topic anchors (one needed)


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def load_entries(directory: Path = FAQ_DIR) -> list[Entry]:
    """Every entry of every topic file, in file order (files sorted by name)."""
    out: list[Entry] = []
    for path in sorted(directory.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in raw.get("entries") or []:
            out.append(Entry(
                id=str(item.get("id", "")).strip(),
                question=str(item.get("question", "")).strip(),
                paraphrases=tuple(str(p).strip() for p in item.get("paraphrases") or []),
                answer=str(item.get("answer") or "").strip(),
                basis=str(item.get("basis") or "").strip(),
                sources=tuple(str(s).strip() for s in item.get("sources") or []),
                reviewed=_as_date(item.get("reviewed")),
                file=path.name,
            ))
    return out


def load_match_data(directory: Path = FAQ_DIR) -> MatchData:
    raw = yaml.safe_load((directory / SYNONYMS_FILE).read_text(encoding="utf-8")) or {}
    abbr: dict[str, list[str]] = {}
    for key, value in (raw.get("abbreviations") or {}).items():
        meanings = [fold(m) for m in str(value or "").split("|")]
        abbr[fold(str(key))] = [m for m in meanings if m] or [""]
    words_file = directory / KNOWN_WORDS_FILE
    known = frozenset()
    if words_file.exists():
        known = frozenset(fold(w) for w in words_file.read_text(encoding="utf-8").split()
                          if not w.startswith("#") and w.isalpha())
    guards_path = directory / GUARDS_FILE
    guards = (yaml.safe_load(guards_path.read_text(encoding="utf-8")) or {}) if guards_path.exists() else {}
    return MatchData(
        negative={str(k): tuple(fold(str(t)) for t in v or []) for k, v in (guards.get("negative") or {}).items()},
        identifier_words=tuple(fold(str(t)) for t in guards.get("identifier_words") or []),
        requires={str(k): tuple(fold(str(t)) for t in v or []) for k, v in (guards.get("requires") or {}).items()},
        subjects=tuple(fold(str(t)) for t in guards.get("subjects") or []),
        known_words=known,
        abbreviations=abbr,
        stopwords=frozenset(fold(str(w)) for w in raw.get("stopwords") or []),
        domain_terms=tuple(fold(str(t)) for t in raw.get("domain_terms") or []),
        strong_terms=tuple(fold(str(t)) for t in raw.get("strong_terms") or []),
        off_topic_terms=tuple(fold(str(t)) for t in raw.get("off_topic_terms") or []),
        light_words=frozenset(fold(str(t)) for t in raw.get("light_words") or []),
        province_entry=str(raw.get("province_entry") or ""),
        province_intent=tuple(fold(str(t)) for t in raw.get("province_intent") or []),
        smalltalk={kind: tuple(fold(str(p)) for p in phrases or [])
                   for kind, phrases in (raw.get("smalltalk") or {}).items()},
    )
