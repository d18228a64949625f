"""Turns a replayed dossier walk into neutral Replies (text from templates, stable callback data)."""
from __future__ import annotations

from core.messages import Button, Reply
from core.templates import render
from flows import content
from flows import dossier as flow
from rules import dossier as rules

# callback data: d:a:<node>:<option>  d:back:<node>  d:more:<doc>  d:cont  d:view  d:pdf
#                d:edit  d:edit:<node>  d:reset  d:reset:ok  d:start  d:start:reeval


def answer_summary(walk: flow.Walk) -> list[tuple[str, str]]:
    """(question title, chosen label) for the profile questions answered so far."""
    return [(content.title(n), content.label(n, v)) for n, v in walk.given.items()
            if n in flow.NODES and flow.NODES[n].kind == "question"]


def node_reply(walk: flow.Walk, answers: dict[str, str]) -> Reply:
    """The current question or document, with its answer buttons (the engine adds "Quay lại")."""
    step, total = flow.progress(answers)
    node = walk.current
    if flow.is_document(node):
        doc = content.document(flow.doc_id(node))
        required = rules.is_required(doc, flow.profile(walk.given))
        text = render("dossier/document", step=step, total=total, doc=doc, required=required)
        rows = [[Button(content.label("document", o), f"d:a:{node}:{o}") for o in flow.DOC_OPTIONS],
                [Button(content.button("more"), f"d:more:{doc.id}")]]
        return Reply(text, rows)
    text = render(f"dossier/{node}", step=step, total=total, can_type=flow.subgroup_lookup is not None,
                  given=walk.given)
    rows = [[Button(content.label(node, o), f"d:a:{node}:{o}")] for o in flow.options(node, walk.given)]
    return Reply(text, rows)


def proposal_reply(sub_id: str) -> Reply:
    """'Gõ tên sản phẩm': the sub-group the gazetteer proposes, to confirm with one tap (d:sg:<id>)."""
    sub = content.subgroup(sub_id)
    text = render("dossier/proposal", subgroup=sub, group=content.label("group", sub.group),
                  ministries=content.ministries(sub_id))
    rows = [[Button(content.button("confirm"), f"d:sg:{sub_id}")]]
    return Reply(text, rows + [[Button(content.button("cont"), "d:cont")]])


def outcome_reply(walk: flow.Walk, *, next_round: rules.NextRound | None = None, province: str = "",
                  today=None) -> Reply:
    """The personal checklist (also for a partly answered walk), where/how to file and the next round.

    next_round: the officer-entered round for the producer's province, else the Điều 5.1 calendar
    (handlers/dossier/chat.py computes it; without it the generic filing text is shown).
    """
    prof = flow.profile(walk.given)
    sub = content.subgroup(prof["subgroup"]) if prof["subgroup"] else None
    text = render("dossier/outcome", answers=answer_summary(walk), list=flow.checklist(walk),
                  subgroup=sub, ministries=content.ministries(sub.id) if sub else [],
                  goal=prof["goal"], no_samples=prof["group"] == "du_lich",
                  round=next_round, province=province, today=today or (next_round and next_round.deadline))
    rows = [[Button(content.button("pdf"), "d:pdf")],
            [Button(content.button("edit"), "d:edit"), Button(content.button("reset"), "d:reset")]]
    if not walk.done:
        rows.insert(0, [Button(content.button("cont"), "d:cont")])
    else:
        rows.append([Button(content.button("back"), f"d:back:{flow.RESULT}")])
        from handlers.selfassess import entry_button      # hook: the self-assessment (issue 13)
        rows.append([entry_button(walk.given.get("group", ""))])
    return Reply(text, rows)


def resume_reply(walk: flow.Walk, answers: dict[str, str]) -> Reply:
    step, total = flow.progress(answers)
    docs = sum(1 for n in walk.given if flow.is_document(n))
    text = render("dossier/resume", step=step, total=total, answers=answer_summary(walk), done_docs=docs)
    rows = [[Button(content.button("cont"), "d:cont")],
            [Button(content.button("view"), "d:view"), Button(content.button("reset"), "d:reset")]]
    if flow.is_document(walk.current):
        rows.insert(1, [Button(content.button("pdf"), "d:pdf")])
    return Reply(text, rows)


def more_reply(doc, walk: flow.Walk) -> Reply:
    """'Giải thích thêm' for a document; answer buttons again when it is still the current step."""
    rows = []
    if walk.current == flow.DOC + doc.id:
        rows.append([Button(content.label("document", o), f"d:a:{walk.current}:{o}") for o in flow.DOC_OPTIONS])
    else:
        rows.append([Button(content.button("cont"), "d:cont")])
    return Reply(render("dossier/document_more", doc=doc), rows)


def edit_reply(walk: flow.Walk) -> Reply:
    rows = [[Button(f"{t}: {v}", f"d:edit:{n}")] for n, (t, v) in
            zip([n for n in walk.given if n in flow.NODES and flow.NODES[n].kind == "question"],
                answer_summary(walk))]
    rows.append([Button(content.button("cont"), "d:cont")])
    return Reply(render("dossier/edit"), rows)
