"""Score -> star band (Decision 26/2026/QĐ-TTg, Điều 3.3) and who certifies it (Điều 4.1).

    band(72)  -> Band(stars=4, low=70, high=90, certified_by="province")
"""
from __future__ import annotations

from dataclasses import dataclass

BASIS = "QĐ 26/2026/QĐ-TTg ngày 22/5/2026, Điều 3.3 (hạng sao), Điều 4.1 (cấp công nhận), Điều 5 (đợt đánh giá)"
# (lowest points, stars): 90–100 5★, 70–<90 4★, 50–<70 3★, 30–<50 2★, <30 1★
BANDS = ((90, 5), (70, 4), (50, 3), (30, 2), (0, 1))
MAX_POINTS = 100


@dataclass(frozen=True)
class Band:
    points: float
    stars: int
    low: int
    high: int               # exclusive, except 100 for 5 stars
    certified_by: str       # none (no certificate below 3★) | province (3–4★) | ministry (5★, after the national round)


def band(points: float) -> Band:
    if not 0 <= points <= MAX_POINTS:
        raise ValueError(f"points out of 0..{MAX_POINTS}: {points}")
    for i, (low, stars) in enumerate(BANDS):
        if points >= low:
            high = MAX_POINTS if i == 0 else BANDS[i - 1][0]
            who = "ministry" if stars == 5 else "province" if stars >= 3 else "none"
            return Band(points, stars, low, high, who)
    raise AssertionError("unreachable")
