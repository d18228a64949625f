"""Scoring rules (handlers/selfassess/rules.py) on real sheets: bands, minimums, ranges, losses, knock-outs."""
from __future__ import annotations

import pytest

from handlers.selfassess import rules
from handlers.selfassess import sheets as data
from tests.selfassess.plan import best, best_except, plan, second


def picks_of(values: dict[str, str]) -> dict[str, int]:
    return {k: (rules.NONE if v == "x" else int(v)) for k, v in values.items()}


@pytest.mark.parametrize("total,stars", [(100, 5), (90, 5), (89, 4), (70, 4), (69, 3), (50, 3), (49, 2),
                                         (30, 2), (29, 1), (0, 1)])
def test_star_bands_of_article_3_3(total, stars):
    assert rules.band(total) == stars


@pytest.mark.parametrize("n", sorted(data.sheets()))
def test_best_answers_score_100_with_no_missed_minimum(n):
    values, total, _ = plan(n, best, case=1 if data.sheet(n).cases else None)
    r = rules.evaluate(data.sheet(n), picks_of(values), case=1 if data.sheet(n).cases else None)
    assert total == r.total == 100 and r.band == 5 and not r.misses and r.minimum_level == 5
    assert [p.points for p in r.parts] == [40, 25, 35] and not r.losses and not r.open_question


@pytest.mark.parametrize("n", [3, 9, 14, 18, 21, 23, 26])
def test_second_options_match_an_independent_sum(n):
    case = 2 if data.sheet(n).cases else None
    values, total, misses = plan(n, second, case=case)
    r = rules.evaluate(data.sheet(n), picks_of(values), case=case)
    assert r.total == total and r.band == rules.band(total)
    for level in (3, 4, 5):
        assert {m.criterion.id for m in r.missed(level)} == misses[level]


def test_high_score_with_a_missed_3_star_minimum_is_left_open():
    sheet = data.sheet(1)
    values, total, misses = plan(1, best_except({"4.1": 0}))        # "Thị trường trong địa bàn cấp xã"
    r = rules.evaluate(sheet, picks_of(values))
    assert (total, r.total, r.band) == (96, 96, 5)
    assert {m.criterion.id for m in r.misses} == {"4.1"} and {m.level for m in r.misses} == {3, 4, 5}
    assert r.minimum_level == 2 and r.cautious_band == 2 and r.open_question
    assert r.losses[0].criterion.id == "4.1" and r.losses[0].next_option.points == 2


def test_none_option_is_offered_only_when_no_listed_level_is_worth_zero():
    sheet = data.sheet(1)
    assert rules.choices(sheet.criterion("9"), None)[0][0] == rules.NONE          # công bố: lowest is 2 points
    assert rules.NONE not in [i for i, _ in rules.choices(sheet.criterion("1.2"), None)]
    r = rules.evaluate(sheet, {"9": rules.NONE})
    assert {m.level for m in r.misses if m.criterion.id == "9"} == {3}
    assert r.scored[[c.id for c in sheet.criteria].index("9")].next_option.points == 2


def test_provisional_criteria_give_a_range_one_level_each_way():
    sheet = data.sheet(1)
    values, _, _ = plan(1, second)
    r = rules.evaluate(sheet, picks_of(values))
    assert r.low < r.total < r.high
    prov = {s.criterion.id for s in r.provisional}
    assert {"1.1", "2.1", "3.3", "5.3", "2.2", "8"} <= prov and "9" not in prov
    fixed = [s for s in r.scored if not s.criterion.provisional and s.index is not None]
    assert all(s.low == s.points == s.high for s in fixed)


def test_story_structure_is_not_scored_without_a_story():
    sheet = data.sheet(1)
    values, total, _ = plan(1, best_except({"5.1": 0}))
    r = rules.evaluate(sheet, {**picks_of(values), "5.2": 2})
    s52 = next(s for s in r.scored if s.criterion.id == "5.2")
    assert s52.index is None and s52.points == 0 and r.total == total == 100 - 5 - 2


def test_top_five_losses_biggest_first_with_the_next_level():
    sheet = data.sheet(1)
    lows = {"4.1": 0, "4.3": 1, "5.1": 1, "8": 0, "1.1": 0, "3.3": 0, "12": 0}
    values, total, _ = plan(1, best_except(lows))
    r = rules.evaluate(sheet, picks_of(values))
    assert len(r.losses) == 5
    assert [s.lost for s in r.losses] == sorted((s.lost for s in r.losses), reverse=True)
    assert [s.criterion.id for s in r.losses[:3]] == ["8", "4.1", "4.3"]      # 5, 4, 4 points lost
    assert all(s.next_option is not None and s.next_option.points > s.points for s in r.losses)


def test_knockouts():
    sheet = data.sheet(7)
    r = rules.evaluate(sheet, {"1.1": rules.NONE}, knockout=True)
    assert r.knocked_out
    assert [s.criterion.id for s in r.criterion_knockouts] == ["1.1"]          # "Bị loại nếu … nhập khẩu"
    assert not rules.evaluate(sheet, {"1.1": 0}).criterion_knockouts


def test_tourism_cases_choose_their_own_options():
    c = data.sheet(26).criterion("8")
    one = [o.label for i, o in rules.choices(c, 1) if i != rules.NONE]
    two = [o.label for i, o in rules.choices(c, 2) if i != rules.NONE]
    assert len(one) == len(two) == 2 and not set(one) & set(two)
