"""Mermaid flowchart of the dossier flow, generated from flows/dossier.py (for officers to review)."""
from __future__ import annotations

from flows import content
from flows import dossier as flow

DOCS = "documents"


def _q(text: str) -> str:
    return text.replace('"', "'")


def diagram() -> str:
    """Every question, every option edge, the document loop and the outcome."""
    edges, _ = flow.explore()
    lines = ["flowchart TD", f'  start(["/hoso · menu · /start hoso_danhgialai · d:start:reeval"]) --> {flow.START}']
    for node in flow.NODES:
        lines.append(f'  {node}{{"{_q(content.title(node))}"}}' if flow.NODES[node].kind == "question"
                     else f'  {node}["{_q(content.title(node))}"]')
    lines.append(f'  {DOCS}[["Từng giấy tờ áp dụng<br/>(rules/dossier.py + documents.yml)"]]')
    lines.append(f'  {flow.RESULT}(["Danh mục cá nhân + PDF"])')
    order = {n: i for i, n in enumerate(flow.NODES)}
    rank = {(n, o): i for n, node in flow.NODES.items() for i, o in enumerate(node.options)}
    drawn: list[tuple[str, str, str]] = []
    for node, option, nxt in sorted(edges, key=lambda e: (order[e[0]], rank[(e[0], e[1])])):
        edge = (node, option, DOCS if flow.is_document(nxt) else nxt)
        if edge not in drawn:
            drawn.append(edge)
    for node, option, target in drawn:
        lines.append(f'  {node} -->|"{_q(content.label(node, option))}"| {target}')
    yes, no = (content.label("document", o) for o in flow.DOC_OPTIONS)
    lines.append(f'  {DOCS} -->|"{_q(yes)} / {_q(no)}: giấy tờ tiếp theo"| {DOCS}')
    lines.append(f'  {DOCS} -->|"hết giấy tờ"| {flow.RESULT}')
    lines.append(f'  {flow.RESULT} -.->|"Sửa câu trả lời"| {flow.START}')
    return "\n".join(lines) + "\n"
