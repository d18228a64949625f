"""Turns a replayed self-assessment walk into neutral Replies (texts from templates, stable callback data).

Callback data (namespace "sa", ASCII, ≤ 64 bytes): sa:a:<node>:<value> answer · sa:back:<node> ·
sa:cont · sa:view · sa:pdf · sa:reset · sa:reset:ok · sa:start · sa:start:<group id>.
"""
from __future__ import annotations

from functools import lru_cache

import yaml

from core import reference
from core.config import ROOT
from core.messages import Button, Reply
from core.templates import render
from handlers.selfassess import flow, rules
from handlers.selfassess import sheets as data

TEXTS = ROOT / "content" / "vi" / "selfassess" / "texts.yml"


@lru_cache(maxsize=1)
def texts() -> dict:
    return yaml.safe_load(TEXTS.read_text(encoding="utf-8"))


def button(key: str) -> str:
    return texts()["buttons"][key]


def short(label: str, limit: int | None = None) -> str:
    limit = limit or int(texts()["button_chars"])
    if len(label) <= limit:
        return label
    cut = label[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:(") + "…"


def option_label(c: data.Criterion, index: int) -> str:
    return texts()["none_option"] if index == rules.NONE else c.options[index].label


def answer_label(node: str, value: str, given: dict[str, str]) -> str:
    """The words of one stored answer (for summaries, the PDF and the Zalo numbered list)."""
    if node == "group":
        return g.name if (g := reference.group_by_id(value)) else value
    if node == "sub":
        sub = reference.subgroup_by_id(value)
        return sub.name if sub else value
    if node == "case":
        sheet = flow.sheet_of(given)
        return sheet.cases.get(int(value), value) if sheet else value
    if node.startswith("ko"):
        return texts()["ko"][value]
    c = flow.criterion_of(node, given)
    return option_label(c, flow.index_of(value)) if c else value


def node_reply(walk: flow.Walk, answers: dict[str, str]) -> Reply:
    """The current step with its answer buttons (the engine adds "Quay lại")."""
    step, total = flow.progress(answers)
    node, given = walk.current, walk.given
    opts = flow.options(node, given)
    sheet = flow.sheet_of(given)
    if node == "group":
        text = render("selfassess/group", step=step, total=total)
        rows = [[Button(name, f"sa:a:group:{gid}")] for gid, name in ((g.id, g.name) for g in reference.all_groups())]
    elif node == "sub":
        text = render("selfassess/sub", step=step, total=total, group=answer_label("group", given["group"], given))
        rows = [[Button(short(answer_label("sub", o, given)), f"sa:a:sub:{o}")] for o in opts]
    elif node == "case":
        text = render("selfassess/case", step=step, total=total, sheet=sheet)
        rows = [[Button(short(sheet.cases[int(o)]), f"sa:a:case:{o}")] for o in opts]
    elif node.startswith("ko"):
        text = render("selfassess/ko", step=step, total=total, sheet=sheet)
        rows = [[Button(texts()["ko"][o], f"sa:a:{node}:{o}")] for o in opts]
    else:
        c = flow.criterion_of(node, given)
        case = flow.case_of(given)
        listed = rules.choices(c, case)
        labels = [(option_label(c, i), o.points, o.min_for) for i, o in listed]
        full = any(len(lab) > int(texts()["button_chars"]) for lab, _, _ in labels)
        text = render("selfassess/criterion", step=step, total=total, c=c, options=labels, full=full,
                      assessor=texts()["assessed_by"].get(c.assessed_by, ""))
        rows = [[Button(f"{short(lab)} · {pts}đ", f"sa:a:{node}:{flow.value_of(i)}")]
                for (i, _), (lab, pts, _) in zip(listed, labels)]
    return Reply(text, rows)


def result_reply(walk: flow.Walk) -> Reply:
    result = flow.result(walk)
    rows = [[Button(button("pdf"), "sa:pdf")],
            [Button(button("back"), f"sa:back:{flow.RESULT}"), Button(button("reset"), "sa:reset")],
            [Button(button("dossier"), "m:hoso")]]
    return Reply(render("selfassess/result", r=result), rows)


def resume_reply(walk: flow.Walk, answers: dict[str, str]) -> Reply:
    step, total = flow.progress(answers)
    rows = [[Button(button("cont"), "sa:cont")], [Button(button("reset"), "sa:reset")]]
    return Reply(render("selfassess/resume", step=step, total=total, sheet=flow.sheet_of(walk.given)), rows)


def entry_button(group: str = "") -> Button:
    """The button other features show to open the self-assessment (e.g. at the end of the dossier walk)."""
    return Button(button("start"), f"sa:start:{group}" if group else "sa:start")
