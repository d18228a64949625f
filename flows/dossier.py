"""The dossier walkthrough as plain data: question nodes and explicit next-node functions.

Smart Answers split: this module only routes. Which documents apply is decided by
rules/dossier.py; every node's text is a template in content/vi/templates/dossier/.
Answers are stored per node id (table flow_answers, flow="dossier") and the current step is
derived by replaying them through `next_node` — there is no other conversation state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from flows import content
from rules import dossier as rules

FLOW = "dossier"
START = "goal"
RESULT = "result"
DOC = "doc."                       # document nodes are "doc.<document id>"
DOC_OPTIONS = ("co", "chua")       # Đã có / Chưa có
Answers = Mapping[str, str]


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
    return {"thuc_pham": "food_sub", "do_uong": "drink_sub"}.get(a["group"]) or first_document(a)


def after_sub_group(a: Answers) -> str:
    return first_document(a)


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
    Node("food_sub", "question", ("tuoi_song", "so_che", "che_bien"), after_sub_group),
    Node("drink_sub", "question", ("co_con", "khong_con"), after_sub_group),
)}
SUB_NODES = ("food_sub", "drink_sub")


# --- documents: one node per applicable document, in content order ---------------------------
def profile(a: Answers) -> dict[str, str]:
    """The producer profile the rules look at, from the answers on the path."""
    sub = next((a[n] for n in SUB_NODES if n in a), "")
    return {"goal": a.get("goal", ""), "stars": a.get("stars", ""), "producer": a.get("producer", ""),
            "group": a.get("group", ""), "sub": sub}


def document_ids(a: Answers) -> list[str]:
    return [d.id for d in rules.applicable(list(content.documents()), profile(a))]


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


@dataclass(frozen=True)
class Walk:
    """The result of replaying stored answers: path so far, valid answers, the current node."""
    path: tuple[str, ...]
    given: dict[str, str]
    current: str

    @property
    def done(self) -> bool:
        return self.current == RESULT

    @property
    def step(self) -> int:
        return len(self.path)

    def previous(self) -> str | None:
        """The answered node before the current one (the target of "Quay lại")."""
        answered = self.path if self.done else self.path[:-1]
        return answered[-1] if answered else None


def replay(answers: Answers, *, fill: bool = False) -> Walk:
    """Walk from START through the stored answers; stop at the first node without a valid answer.

    fill=True answers every open question with its first option (used to predict the total).
    """
    given: dict[str, str] = {}
    path: list[str] = []
    node = START
    while node != RESULT and len(path) < 200:
        path.append(node)
        allowed = options(node, given)
        value = answers.get(node)
        if value not in allowed:
            if not fill:
                return Walk(tuple(path), given, node)
            value = allowed[0]
        given[node] = value
        node = next_node(node, given)
    return Walk(tuple(path), given, RESULT)


def progress(answers: Answers) -> tuple[int, int]:
    """("Bước k/n"): k = position of the current question, n = questions on the expected path."""
    walk = replay(answers)
    total = len(replay(answers, fill=True).path)
    return min(walk.step, total), total


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
