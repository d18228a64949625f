"""`ask`: answer FAQ questions from the command line (no database, no token needed).

    python bot.py ask "câu hỏi"            plain-text answer
    python bot.py ask --json "câu hỏi"     {"text", "faq_id", "score", "fallback", "suggestions"}
    python bot.py ask [--json] < file      one question per line -> one output line per question

"text" is plain text (HTML tags removed), "faq_id" is null unless a direct answer was given,
"suggestions" is a list of {"id", "question"} (non-empty only for "Có phải bạn muốn hỏi…").
In plain multi-line mode the line breaks of an answer are replaced by " / ".
"""
from __future__ import annotations

import json
import sys

from core.text import html_to_plain


def add(sub) -> None:
    p = sub.add_parser("ask", help="answer an OCOP question (reads stdin, one per line, without QUESTION)")
    p.add_argument("question", nargs="*", help="the question (omit to read questions from stdin)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.set_defaults(func=cmd_ask)


def as_dict(answer) -> dict:
    return {
        "text": html_to_plain(answer.text),
        "faq_id": answer.faq_id,
        "score": round(float(answer.score), 4),
        "fallback": answer.fallback,
        "suggestions": [{"id": fid, "question": q} for fid, q in answer.suggestions],
    }


def _blank() -> dict:
    return {"text": "", "faq_id": None, "score": 0.0, "fallback": True, "suggestions": []}


def format_one(renderer, question: str, as_json: bool, one_line: bool) -> str:
    question = question.strip()
    data = as_dict(renderer.respond(question)) if question else _blank()
    if as_json:
        return json.dumps(data, ensure_ascii=False)
    text = data["text"]
    if data["suggestions"] and not one_line:
        text += "\n" + "\n".join(f"{i}. {s['question']}" for i, s in enumerate(data["suggestions"], 1))
    if one_line:
        text = " / ".join(line.strip() for line in text.splitlines() if line.strip())
    return text


def cmd_ask(args, settings=None) -> int:
    from core.faq import get_renderer
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    renderer = get_renderer()            # the index is built once for every question below
    if args.question:
        print(format_one(renderer, " ".join(args.question), args.json, one_line=False))
        return 0
    stdin = sys.stdin
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(encoding="utf-8", errors="replace")
    for line in stdin:
        print(format_one(renderer, line.rstrip("\r\n"), args.json, one_line=True), flush=True)
    return 0
