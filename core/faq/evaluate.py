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
    """The shared folder: $OCOP_SHARED, else <repo>/../shared (or ../../shared from a worktree)."""
    env = os.environ.get("OCOP_SHARED")
    if env:
        return Path(env)
    near = ROOT.parent / "shared"
    return near if near.exists() or not (ROOT.parent.parent / "shared").exists() else ROOT.parent.parent / "shared"


BLIND2026 = ROOT / "tests" / "faq" / "cases_blind2026.jsonl"


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
    return has_must(answer, case)


def has_must(answer: Answer, case: dict) -> bool:
    text = fold(html_to_plain(answer.text))
    return all(any(fold(alt) in text for alt in group) for group in case.get("must") or [])


def wrong_direct(answer: Answer, case: dict) -> bool:
    """A direct answer (not a fallback, not suggestions) to a question it does not answer: an
    out-of-scope question answered, or an in-scope answer that lacks the required facts."""
    if answer.outcome != "answer":
        return False
    return bool(case.get("fallback")) or not has_must(answer, case)


@dataclass
class Score:
    in_total: int = 0
    in_ok: int = 0
    out_total: int = 0
    out_ok: int = 0
    wrong_direct: int = 0               # direct answers that answer another question (see wrong_direct)
    wrong: list[tuple[str, str | None]] = field(default_factory=list)
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)   # (q, outcome, faq_id)

    @property
    def in_scope(self) -> float:
        return self.in_ok / self.in_total if self.in_total else 1.0

    @property
    def out_scope(self) -> float:
        return self.out_ok / self.out_total if self.out_total else 1.0

    @property
    def total(self) -> int:
        return self.in_total + self.out_total

    @property
    def wrong_rate(self) -> float:
        return self.wrong_direct / self.total if self.total else 0.0


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
        if wrong_direct(answer, case):
            s.wrong_direct += 1
            s.wrong.append((case["q"], answer.faq_id))
        if not ok:
            s.failures.append((case["q"], answer.outcome, answer.faq_id))
    return s
