"""«FAQ» /quantri/faq: what the bot could not answer (the Rasa X "NLU inbox" idea), every entry with its
review date, and officers' edits with history.

Every officer sees the misses of their scope (a provincial officer: questions of producers of their
province) and every entry. Only admins and national officers edit, create from a miss, or revert
("hoàn tác" = back to the YAML of content/vi/faq/). An edit passes the repository's content check or
changes nothing, and the bot answers with it at once (repo.save installs the new index; other
processes see the version move).
"""
from __future__ import annotations

import re
from datetime import date

from core.audit import audit
from core.faq.check import MIN_PARAPHRASES
from core.faq.content import ID_RE, Entry
from core.text import fold
from core.web.keys import CORE, DB, VIEWER
from core.templates import validation, web_text, web_texts
from core.web.render import error_page, not_found, page, redirect
from handlers.faq import repo

FIELDS = ["id", "file", "question", "paraphrases", "answer", "basis", "sources"]
LABELS = {**web_texts("faq.field"), "paraphrases": web_text("faq.field.paraphrases", min=MIN_PARAPHRASES)}
STALE_MONTHS = 12


def can_edit(viewer) -> bool:
    return viewer.admin or viewer.national


def _stale(reviewed: date | None, today: date) -> bool:
    """Not reviewed for 12 months (or never)."""
    if reviewed is None:
        return True
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:                       # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return reviewed <= year_ago


def _db_url(request) -> str:
    return request.app[CORE].settings.database_url


def _files() -> list[str]:
    return sorted({e.file for e in repo.faq.base_renderer().engine.entries.values() if e.file})


# --- the problems of the content check (core/faq/check.py, English) -> content/vi/validation.yml faq.* --
VN = [
    (r"duplicate id", "faq.duplicate_id"),
    (r"id must be snake_case", "faq.bad_id"),
    (r"missing sources", "faq.missing_sources"),
    (r"missing question", "faq.missing_question"),
    (r"missing answer", "faq.missing_answer"),
    (r"missing basis", "faq.missing_basis"),
    (r"only (?P<n>\d+) paraphrases", "faq.few_paraphrases"),
    (r"paraphrase (?P<text>.+) is also in entry (?P<other>\w+)", "faq.paraphrase_taken"),
    (r"empty paraphrase", "faq.empty_paraphrase"),
    (r"answer longer than (?P<n>\d+)", "faq.answer_long"),
    (r"answer template error: (?P<error>.*)", "faq.template_error"),
    (r"answer does not render: (?P<error>.*)", "faq.does_not_render"),
    (r"tag <(?P<tag>\w+)> not allowed", "faq.tag_not_allowed"),
    (r"unbalanced|unclosed", "faq.unbalanced"),
    (r"bare '<' or '&'", "faq.bare_char"),
    (r"answer lacks '", "faq.lacks_basis"),
]


def in_vietnamese(problem: str) -> str:
    text = problem.split(": ", 1)[1] if re.match(r"^[\w.]+:[\w?]+: ", problem) else problem
    for pattern, key in VN:
        m = re.search(pattern, text)
        if m:
            return validation(key, **m.groupdict(), min=MIN_PARAPHRASES)
    return validation("faq.unchecked", problem=text)


# --- pages ----------------------------------------------------------------------------------------
async def overview(request):
    viewer, db = request[VIEWER], request[DB]
    await repo.sync(lambda: db, _db_url(request))
    today = request.app[CORE].today()
    misses = await repo.misses(db, None if viewer.national else viewer.provinces)
    engine = repo.faq.get_renderer().engine
    edited = await repo.overridden_ids(db)
    entries = [engine.entries[i] for i in engine.order]
    stale = {e.id for e in entries if _stale(e.reviewed, today)}
    return page(request, "web/faq", active="faq", title=web_text("faq.title"), misses=misses, entries=entries,
                stale=stale, edited=edited, questions={i: e.question for i, e in engine.entries.items()},
                can_edit=can_edit(viewer))


def _as_form(e: Entry) -> dict:
    return {"id": e.id, "file": e.file, "question": e.question, "paraphrases": "\n".join(e.paraphrases),
            "answer": e.answer, "basis": e.basis, "sources": "\n".join(e.sources)}


SHOWN = web_texts("faq.shown")


def _text(value) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value or "")


async def _history(request, faq_id: str) -> list[dict]:
    """Each change: when (local time), who, what, and the fields that differ (before, after)."""
    tz = request.app[CORE].settings.tz
    out = []
    for row, who in await repo.history(request[DB], faq_id):
        before, after = row.before or {}, row.after or {}
        changes = [(SHOWN[k], _text(before.get(k)), _text(after.get(k))) for k in SHOWN
                   if _text(before.get(k)) != _text(after.get(k))]
        out.append({"id": row.id, "when": row.created_at.astimezone(tz).strftime("%H:%M %d/%m/%Y"), "who": who,
                    "action": row.action, "changes": changes})
    return out


async def _form(request, values: dict, errors: list[str], entry: Entry | None, status: int = 200):
    db = request[DB]
    faq_id = entry.id if entry else ""
    return page(request, "web/faq_form", active="faq", title=web_text("faq.edit_title" if entry else "faq.new_title"),
                fields=FIELDS, labels=LABELS, v=values, errors=errors, entry=entry, files=_files(),
                saved=request.query.get("luu") == "1" and not errors,
                can_edit=can_edit(request[VIEWER]), history=await _history(request, faq_id) if entry else [],
                edited=entry is not None and entry.id in await repo.overridden_ids(db),
                in_base=repo.base_entry(faq_id) is not None, http_status=status)


def _slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", " ", fold(text)).split()
    slug = "_".join(words)[:40].strip("_")
    return slug if ID_RE.match(slug or "") else ""


async def new(request):
    if not can_edit(request[VIEWER]):
        return _refused(request)
    await repo.sync(lambda: request[DB], _db_url(request))
    q = request.query.get("q", "").strip()[:300]
    closest = repo.in_force(request.query.get("gan", ""))
    values = {"id": _slug(q), "question": q, "paraphrases": q, "file": closest.file if closest else "",
              "answer": "", "basis": closest.basis if closest else "", "sources": "\n".join(closest.sources) if closest else ""}
    return await _form(request, values, [], None)


async def edit(request):
    await repo.sync(lambda: request[DB], _db_url(request))
    entry = repo.in_force(request.match_info["id"])
    if entry is None:
        return not_found(request)
    return await _form(request, _as_form(entry), [], entry)


def _refused(request):
    return error_page(request, 403, "faq_forbidden", back="/quantri/faq")


def _lines(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.replace("\r", "").split("\n") if x.strip())


async def save(request):
    """POST /faq/moi (create) or /faq/{id} (edit)."""
    viewer, db = request[VIEWER], request[DB]
    if not can_edit(viewer):
        return _refused(request)
    await repo.sync(lambda: db, _db_url(request))
    form = await request.post()
    raw = {k: str(form.get(k, "")).replace("\r\n", "\n").strip() for k in FIELDS}
    create = "id" not in request.match_info
    current = None if create else repo.in_force(request.match_info["id"])
    if not create and current is None:
        return not_found(request)
    faq_id = raw["id"] if create else current.id
    file = (raw["file"] if create else current.file) or ""
    errors = []
    if create and file not in _files():
        errors.append(validation("faq.pick_file"))
    entry = Entry(id=faq_id, question=raw["question"], paraphrases=_lines(raw["paraphrases"]),
                  answer=raw["answer"], basis=raw["basis"], sources=_lines(raw["sources"]),
                  reviewed=request.app[CORE].today(), file=file)
    if not errors:
        outcome = await repo.save(db, entry, viewer.user_id, create=create)
        if outcome.ok:
            await audit(db, viewer.user_id, "faq.create" if create else "faq.edit", faq_id=faq_id, via="web")
            return redirect(f"/quantri/faq/{faq_id}?luu=1")
        errors = list(dict.fromkeys(in_vietnamese(p) for p in outcome.problems))
    return await _form(request, {**raw, "id": faq_id, "file": file}, errors, current, status=400)


async def undo(request):
    viewer, db = request[VIEWER], request[DB]
    if not can_edit(viewer):
        return _refused(request)
    await repo.sync(lambda: db, _db_url(request))
    faq_id = request.match_info["id"]
    if not await repo.revert(db, faq_id, viewer.user_id):
        return error_page(request, 400, "nothing_to_revert", back=f"/quantri/faq/{faq_id}")
    await audit(db, viewer.user_id, "faq.revert", faq_id=faq_id, via="web")
    back = f"/quantri/faq/{faq_id}" if repo.in_force(faq_id) else "/quantri/faq"
    return redirect(back)


def routes(r) -> None:
    r.nav("faq", "FAQ", "/quantri/faq")
    r.get("/faq", overview)
    r.get("/faq/moi", new)
    r.post("/faq/moi", save)
    r.get("/faq/{id}", edit)
    r.post("/faq/{id}", save)
    r.post("/faq/{id}/hoan-tac", undo)
