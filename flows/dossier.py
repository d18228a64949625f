"""The dossier walkthrough as plain data: question nodes and explicit next-node functions.

Smart Answers split: this module only routes. Which documents apply is decided by
rules/dossier.py; every node's text is a template in content/vi/templates/dossier/.
Answers are stored per node id (table flow_answers, flow="dossier") and the current step is
derived by replaying them through `next_node` (flows/engine.py) — there is no other conversation state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.faq.products import subgroup_of as product_subgroup
from flows import content, engine
from flows.engine import RESULT, Answers, Walk
from rules import dossier as rules

FLOW = "dossier"
START = "goal"
DOC = "doc."                       # document nodes are "doc.<document id>"
DOC_OPTIONS = ("co", "chua")       # Đã có / Chưa có


@dataclass(frozen=True)
class Node:
    id: str
    kind: str                                   # question | info
    options: tuple[str, ...]
    next: Callable[[Answers], str]
    allowed: Callable[[Answers], tuple[str, ...]] | None = None   # options that depend on earlier answers


# --- next-node functions (one per question; `a` holds only the answers on the current path) ---
def after_goal(a: Answers) -> str:
    return "stars" if a["goal"] in ("danh_gia_lai", "nang_hang") else "producer"


def after_stars(a: Answers) -> str:
    return "producer"


def after_producer(a: Answers) -> str:
    return "register_household" if a["producer"] == "chua_dk" else "group"


def after_register_household(a: Answers) -> str:
    return "group"


def after_group(a: Answers) -> str:
    return "category" if len(content.categories(a["group"])) > 1 else after_category(a)


def after_category(a: Answers) -> str:
    return "subgroup" if len(content.subgroups_of(category_of(a))) > 1 else first_document(a)


def after_subgroup(a: Answers) -> str:
    return first_document(a)


def category_options(a: Answers) -> tuple[str, ...]:
    return tuple(content.categories(a.get("group")))


def subgroup_options(a: Answers) -> tuple[str, ...]:
    return tuple(content.subgroups_of(category_of(a)))


def category_of(a: Answers) -> str:
    """The chosen "nhóm" (Phụ lục I); implied when the group has only one."""
    if "category" in a:
        return a["category"]
    cats = content.categories(a.get("group")) if a.get("group") else []
    return cats[0] if len(cats) == 1 else ""


def subgroup_of(a: Answers) -> str:
    """The chosen "phân nhóm" (decides the score sheet); implied when the nhóm has only one."""
    if "subgroup" in a:
        return a["subgroup"]
    subs = content.subgroups_of(category_of(a)) if category_of(a) else []
    return subs[0] if len(subs) == 1 else ""


def star_options(a: Answers) -> tuple[str, ...]:
    """An upgrade starts from 3 or 4 stars; a re-evaluation may concern any certified level."""
    return ("3", "4") if a.get("goal") == "nang_hang" else ("3", "4", "5")


NODES: dict[str, Node] = {n.id: n for n in (
    Node("goal", "question", ("lan_dau", "danh_gia_lai", "nang_hang"), after_goal),
    Node("stars", "question", ("3", "4", "5"), after_stars, allowed=star_options),
    Node("producer", "question", ("htx", "tht", "dn", "hkd", "chua_dk"), after_producer),
    Node("register_household", "info", ("tiep",), after_register_household),
    Node("group", "question", ("thuc_pham", "do_uong", "duoc_lieu", "thu_cong", "sinh_vat_canh", "du_lich"),
         after_group),
    Node("category", "question", tuple(c for g in ("thuc_pham", "do_uong", "duoc_lieu", "thu_cong", "sinh_vat_canh",
                                                   "du_lich") if len(content.categories(g)) > 1
                                       for c in content.categories(g)), after_category, allowed=category_options),
    Node("subgroup", "question", tuple(s.id for s in content.subgroups()
                                       if len(content.subgroups_of(s.category_id)) > 1),
         after_subgroup, allowed=subgroup_options),
)}


# --- hook: "gõ tên sản phẩm" proposes the sub-group -----------------------------------------
# The product gazetteer (core/faq/products.py): the producer's free text ("tôi làm mắm tép") → a
# sub-group id of content/data/subgroups.yml ("nuoc_mam") or None. handlers/dossier/chat.py calls
# `propose_subgroup` when text is typed at the group / category / sub-group steps and offers the
# result as a button to confirm (callback d:sg:<id>).
SubgroupLookup = Callable[[str], "str | None"]
subgroup_lookup: SubgroupLookup | None = product_subgroup


def propose_subgroup(text: str) -> str | None:
    """The sub-group the gazetteer proposes for a typed product name, if any (None without one)."""
    if subgroup_lookup is None:
        return None
    sub = subgroup_lookup(text)
    return sub if sub and content.subgroup(sub) else None


def answers_for_subgroup(sub_id: str) -> dict[str, str]:
    """The group / category / sub-group answers that select one sub-group (for the confirm button)."""
    s = content.subgroup(sub_id)
    out = {"group": s.group}
    if len(content.categories(s.group)) > 1:
        out["category"] = s.category_id
    if len(content.subgroups_of(s.category_id)) > 1:
        out["subgroup"] = sub_id
    return out


# --- documents: one node per applicable document, in content order ---------------------------
def profile(a: Answers) -> dict[str, str]:
    """The producer profile the rules look at, from the answers on the path."""
    return {"goal": a.get("goal", ""), "stars": a.get("stars", ""), "producer": a.get("producer", ""),
            "group": a.get("group", ""), "sub": category_of(a), "subgroup": subgroup_of(a)}


_ids_cache: dict = {"docs": None}       # profile -> applicable document ids, for the current documents


def document_ids(a: Answers) -> list[str]:
    """The documents that apply to the profile, in content order (remembered per profile: a replay asks
    at every document step, and the officers' funnel replays every producer's walk)."""
    docs = content.documents()
    if _ids_cache["docs"] is not docs:
        _ids_cache.clear()
        _ids_cache["docs"] = docs
    p = profile(a)
    key = tuple(p.values())
    if key not in _ids_cache:
        _ids_cache[key] = tuple(d.id for d in rules.applicable(list(docs), p))
    return list(_ids_cache[key])


def first_document(a: Answers) -> str:
    ids = document_ids(a)
    return DOC + ids[0] if ids else RESULT


def after_document(node: str, a: Answers) -> str:
    ids = document_ids(a)
    pos = ids.index(node[len(DOC):])
    return DOC + ids[pos + 1] if pos + 1 < len(ids) else RESULT


def is_document(node: str) -> bool:
    return node.startswith(DOC)


def doc_id(node: str) -> str:
    return node[len(DOC):]


# --- generic access ---------------------------------------------------------------------------
def known(node: str) -> bool:
    return node in NODES or (is_document(node) and content.document(doc_id(node)) is not None)


def options(node: str, a: Answers) -> tuple[str, ...]:
    if is_document(node):
        return DOC_OPTIONS
    n = NODES[node]
    return n.allowed(a) if n.allowed else n.options


def next_node(node: str, a: Answers) -> str:
    return after_document(node, a) if is_document(node) else NODES[node].next(a)


ROUTES = engine.Flow(FLOW, START, options, next_node)
replay, progress = ROUTES.replay, ROUTES.progress


def checklist(walk: Walk) -> rules.Checklist:
    statuses = {doc_id(n): v for n, v in walk.given.items() if is_document(n)}
    return rules.checklist(list(content.documents()), profile(walk.given), statuses)


def explore() -> tuple[set[tuple[str, str, str]], list[dict[str, str]]]:
    """Every (node, option, next node) edge of the question part, and every complete profile."""
    edges: set[tuple[str, str, str]] = set()
    profiles: list[dict[str, str]] = []

    def dfs(node: str, given: dict[str, str]) -> None:
        if node == RESULT or is_document(node):
            profiles.append(given)
            return
        for opt in options(node, given):
            g = {**given, node: opt}
            nxt = next_node(node, g)
            edges.add((node, opt, nxt))
            dfs(nxt, g)

    dfs(START, {})
    return edges, profiles
