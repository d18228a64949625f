"""Test plans: which option a simulated producer picks on each criterion, and the expected score,
computed straight from the YAML (not through handlers/selfassess/rules.py)."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def raw_sheet(n: int) -> dict:
    return yaml.safe_load((ROOT / f"content/data/qd26_sheets/{n:02d}.yml").read_text(encoding="utf-8"))


def sub_of(n: int) -> tuple[str, str]:
    subs = yaml.safe_load((ROOT / "content/data/subgroups.yml").read_text(encoding="utf-8"))["subgroups"]
    s = next(s for s in subs if s["sheet"] == n)
    return s["group"], s["id"]


def listed(c: dict, case: int | None) -> list[tuple[int, dict]]:
    return [(i, o) for i, o in enumerate(c["options"]) if case is None or o.get("case") in (None, case)]


def plan(n: int, pick, case: int | None = None) -> tuple[dict[str, str], int, dict[int, set[str]]]:
    """pick(criterion dict, [(index, option)]) -> index. Returns (criterion id -> value, total, misses)."""
    sheet = raw_sheet(n)
    values, total, points = {}, 0, {}
    misses: dict[int, set[str]] = {3: set(), 4: set(), 5: set()}
    for c in sheet["criteria"]:
        if c.get("requires") and points.get(c["requires"], 0) == 0:
            points[c["id"]] = 0
            continue
        opts = listed(c, case)
        idx = pick(c, opts)
        pts = 0 if idx == -1 else c["options"][idx]["points"]
        values[c["id"]] = "x" if idx == -1 else str(idx)
        points[c["id"]] = pts
        total += pts
        for _, o in opts:
            if o.get("min_for") and pts < o["points"]:
                misses[o["min_for"]].add(c["id"])
    return values, total, misses


def best(c, opts):
    return max(opts, key=lambda io: io[1]["points"])[0]


def second(c, opts):
    """The second listed option (or the only one)."""
    return opts[1][0] if len(opts) > 1 else opts[0][0]


def best_except(overrides: dict[str, int]):
    return lambda c, opts: overrides.get(c["id"], best(c, opts))
