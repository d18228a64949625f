"""The self-assessment walk as data: which question comes next, derived by replaying stored answers.

Smart Answers split: this module routes; handlers/selfassess/rules.py scores; templates in
content/vi/templates/selfassess/ present. Answers live in flow_answers (flow="selfassess"), one row per
node: "group", "sub", "case" (sheet 26 only), "ko<N>" (knock-out check of sheet N) and "s<N>_<criterion>"
(e.g. "s1_2.3"), so answers given for one sheet never leak into another. The replay is flows/engine.py's.
"""
from __future__ import annotations

from core import reference
from flows import engine
from flows.engine import RESULT, Answers, Walk
from handlers.selfassess import rules
from handlers.selfassess import sheets as data

FLOW = "selfassess"
NONE_VALUE = "x"
KO_OPTIONS = ("khong", "co")


def group_options(a: Answers) -> tuple[str, ...]:
    return tuple(g.id for g in reference.all_groups())


def sub_options(a: Answers) -> tuple[str, ...]:
    return tuple(s.id for s in reference.all_subgroups() if s.group == a.get("group"))


def sheet_of(a: Answers) -> data.Sheet | None:
    sub = reference.subgroup_by_id(a.get("sub", ""))
    return data.sheet(sub.sheet) if sub else None


def crit_node(sheet: data.Sheet, cid: str) -> str:
    return f"s{sheet.number}_{cid}"


def value_of(index: int) -> str:
    return NONE_VALUE if index == rules.NONE else str(index)


def index_of(value: str) -> int:
    return rules.NONE if value == NONE_VALUE else int(value)


def case_of(a: Answers) -> int | None:
    return int(a["case"]) if a.get("case") in ("1", "2") else None


def picks(sheet: data.Sheet, a: Answers) -> dict[str, int]:
    """criterion id -> chosen option index, from the answers on the path."""
    out = {}
    for c in sheet.criteria:
        v = a.get(crit_node(sheet, c.id))
        if v is not None:
            out[c.id] = index_of(v)
    return out


def criterion_of(node: str, a: Answers) -> data.Criterion | None:
    sheet = sheet_of(a)
    if sheet is None or not node.startswith(f"s{sheet.number}_"):
        return None
    return sheet.criterion(node.split("_", 1)[1])


def options(node: str, a: Answers) -> tuple[str, ...]:
    if node == "group":
        return group_options(a)
    if node == "sub":
        return sub_options(a)
    if node == "case":
        sheet = sheet_of(a)
        return tuple(str(k) for k in sheet.cases) if sheet else ()
    if node.startswith("ko"):
        return KO_OPTIONS
    c = criterion_of(node, a)
    if c is None:
        return ()
    return tuple(value_of(i) for i, _ in rules.choices(c, case_of(a)))


def _criterion_nodes(sheet: data.Sheet, a: Answers) -> list[str]:
    """Criterion nodes that apply, given the answers so far (5.2 only when the story scored)."""
    out, points = [], {}
    for c in sheet.criteria:
        if rules.applies(c, points):
            out.append(crit_node(sheet, c.id))
            v = a.get(crit_node(sheet, c.id))
            if v is not None:
                idx = index_of(v)
                opt = rules.none_option() if idx == rules.NONE else c.options[idx]
                points[c.id] = opt.points
        else:
            points[c.id] = 0
    return out


def next_node(node: str, a: Answers) -> str:
    if node == "group":
        return "sub"
    sheet = sheet_of(a)
    if node == "sub":
        return "case" if sheet.cases else f"ko{sheet.number}"
    if node == "case":
        return f"ko{sheet.number}"
    nodes = _criterion_nodes(sheet, a)
    if node.startswith("ko"):
        return nodes[0] if nodes else RESULT
    pos = nodes.index(node) if node in nodes else -1
    return nodes[pos + 1] if 0 <= pos < len(nodes) - 1 else RESULT


ROUTES = engine.Flow(FLOW, "group", options, next_node)
replay, progress = ROUTES.replay, ROUTES.progress


def result(walk: Walk) -> rules.Result:
    sheet = sheet_of(walk.given)
    return rules.evaluate(sheet, picks(sheet, walk.given), case=case_of(walk.given),
                          knockout=walk.given.get(f"ko{sheet.number}") == "co")
