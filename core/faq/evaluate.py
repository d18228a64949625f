"""Scoring of FAQ question sets exactly as ../shared/eval/README.md describes.

In-scope case {"q", "must": [[alternatives], …]}: passes when the reply is not a fallback and,
for every inner list, the folded reply contains one of its (folded) strings. Out-of-scope case
{"q", "fallback": true}: passes when the reply is a fallback.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.config import ROOT
from core.faq.respond import Answer, Renderer
from core.text import fold, html_to_plain

HELDOUT = ROOT / "tests" / "faq" / "cases.yml"


def shared_dir() -> Path:
    """The shared folder: $OCOP_SHARED, else <repo>/../shared."""
    env = os.environ.get("OCOP_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def dev_set_path() -> Path:
    return shared_dir() / "eval" / "faq_dev.jsonl"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_heldout(path: Path = HELDOUT) -> list[dict]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(raw["in_scope"]) + [{"q": q, "fallback": True} for q in raw["out_of_scope"]]


def passes(answer: Answer, case: dict) -> bool:
    if case.get("fallback"):
        return answer.fallback
    if answer.fallback:
        return False
    text = fold(html_to_plain(answer.text))
    return all(any(fold(alt) in text for alt in group) for group in case["must"])


@dataclass
class Score:
    in_total: int = 0
    in_ok: int = 0
    out_total: int = 0
    out_ok: int = 0
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)   # (q, outcome, faq_id)

    @property
    def in_scope(self) -> float:
        return self.in_ok / self.in_total if self.in_total else 1.0

    @property
    def out_scope(self) -> float:
        return self.out_ok / self.out_total if self.out_total else 1.0


def score(renderer: Renderer, cases: list[dict]) -> Score:
    s = Score()
    for case in cases:
        answer = renderer.respond(case["q"])
        ok = passes(answer, case)
        if case.get("fallback"):
            s.out_total += 1
            s.out_ok += ok
        else:
            s.in_total += 1
            s.in_ok += ok
        if not ok:
            s.failures.append((case["q"], answer.outcome, answer.faq_id))
    return s
