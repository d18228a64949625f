"""Officers' FAQ edits: the overlay over the YAML base, its history, its reload in every process; the misses.

- A `faq_edits` row records who changed which entry, when, the entry in force before and after.
  The latest row of an entry is in force ("revert" = the YAML again).
- Every edit passes `core.faq.check.check_entries` on the merged content (the check of the
  repository's YAML: sources, templates, duplicate ids and paraphrases…) or changes nothing.
- `sync` makes this process's FAQ index reflect the database: it reads max(faq_edits.id) (at most
  every CHECK_EVERY seconds, or at once for another database) and rebuilds when it moved, so an edit
  made on one instance reaches the others without a restart.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

import core.faq as faq
from core.faq.check import check_entries
from core.faq.content import Entry
from storage.models import FaqEdit, FaqLog, Feedback, OfficerQuestion, User

log = logging.getLogger("ocop.faq")
CHECK_EVERY = 5.0                 # seconds between version reads in a bot process
_synced: dict = {"at": float("-inf"), "db": None}
_lock = asyncio.Lock()


def as_dict(e: Entry) -> dict:
    return {"id": e.id, "question": e.question, "paraphrases": list(e.paraphrases), "answer": e.answer,
            "basis": e.basis, "sources": list(e.sources),
            "reviewed": e.reviewed.isoformat() if e.reviewed else None, "file": e.file}


def as_entry(d: dict) -> Entry:
    reviewed = d.get("reviewed")
    return Entry(id=d["id"], question=d.get("question", ""), paraphrases=tuple(d.get("paraphrases") or ()),
                 answer=d.get("answer", ""), basis=d.get("basis", ""), sources=tuple(d.get("sources") or ()),
                 reviewed=date.fromisoformat(reviewed) if reviewed else None, file=d.get("file", ""))


# --- the overlay --------------------------------------------------------------------------------
async def version(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.max(FaqEdit.id)))


async def overrides(session: AsyncSession) -> dict[str, Entry]:
    """Entry id -> the officers' entry in force (entries whose latest row is a revert are absent)."""
    latest = select(func.max(FaqEdit.id)).group_by(FaqEdit.faq_id)
    rows = await session.scalars(select(FaqEdit).where(FaqEdit.id.in_(latest)).order_by(FaqEdit.id))
    return {r.faq_id: as_entry(r.after) for r in rows if r.action != "revert" and r.after}


async def reload(session: AsyncSession) -> None:
    """Install the index of the YAML + the database's edits (the base alone when there are none)."""
    v = await version(session)
    over = await overrides(session) if v is not None else {}
    if not over:
        faq.install(None, v)
        return
    try:
        faq.install(await asyncio.to_thread(faq.build_renderer, faq.merged_entries(over)), v)
    except Exception:                   # never a traceback for the person asking: the YAML answers
        log.exception("FAQ web edits could not be applied; answering from the YAML")
        faq.install(None, v)


async def sync(session_of: Callable[[], AsyncSession], database: str) -> None:
    """Reload when the database's edit version differs from the installed one: read at most every
    CHECK_EVERY seconds (at once for another `database` URL); `session_of` is called only then, so a
    question answered between two reads opens no session."""
    now = time.monotonic()
    if now - _synced["at"] < CHECK_EVERY and _synced["db"] == database:
        return
    async with _lock:
        _synced["at"], _synced["db"] = now, database
        session = session_of()
        if await version(session) != faq.installed_version():
            await reload(session)


def forget_sync() -> None:
    """The next sync reads the version whatever the interval (tests; after an edit in this process)."""
    _synced["at"], _synced["db"] = float("-inf"), None


# --- edits --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    ok: bool
    problems: list[str] = field(default_factory=list)


def in_force(faq_id: str) -> Entry | None:
    return faq.get_renderer().engine.entries.get(faq_id)


def base_entry(faq_id: str) -> Entry | None:
    return faq.base_renderer().engine.entries.get(faq_id)


async def save(session: AsyncSession, entry: Entry, user_id: int, *, create: bool) -> Outcome:
    """Check the merged content with `entry` in force; write the history row and install the new index."""
    current = in_force(entry.id)
    if create and current is not None:
        return Outcome(False, [f"{entry.file}:{entry.id}: duplicate id"])
    if not create and current is None:
        return Outcome(False, [f"{entry.id}: unknown id"])
    known = await version(session)
    over = await overrides(session)
    over[entry.id] = entry
    problems, renderer = await asyncio.to_thread(check_entries, faq.merged_entries(over),
                                                 faq.base_renderer().engine.data)
    if problems:
        return Outcome(False, problems)
    row = FaqEdit(faq_id=entry.id, action="create" if create else "edit", user_id=user_id,
                  before=as_dict(current) if current else None, after=as_dict(entry))
    session.add(row)
    await session.flush()
    await _install(session, renderer, row.id, known)
    return Outcome(True)


async def _install(session: AsyncSession, renderer, row_id: int, known: int | None) -> None:
    """Install the index just built, unless another process wrote an edit meanwhile: then rebuild."""
    if row_id == (known or 0) + 1:
        faq.install(renderer, row_id)
    else:
        await reload(session)


async def revert(session: AsyncSession, faq_id: str, user_id: int) -> bool:
    """Back to the YAML entry (a created entry disappears). False when nothing is overridden."""
    known = await version(session)
    over = await overrides(session)
    if faq_id not in over:
        return False
    base = base_entry(faq_id)
    row = FaqEdit(faq_id=faq_id, action="revert", user_id=user_id, before=as_dict(over.pop(faq_id)),
                  after=as_dict(base) if base else None)
    session.add(row)
    await session.flush()
    renderer = await asyncio.to_thread(faq.build_renderer, faq.merged_entries(over)) if over else None
    await _install(session, renderer, row.id, known)
    return True


async def history(session: AsyncSession, faq_id: str) -> list[tuple[FaqEdit, str]]:
    """The entry's rows, newest first, with who made each."""
    rows = (await session.execute(select(FaqEdit, User.display_name).outerjoin(User, User.id == FaqEdit.user_id)
                                  .where(FaqEdit.faq_id == faq_id).order_by(FaqEdit.id.desc()))).all()
    return [(r, name or (f"#{r.user_id}" if r.user_id else "")) for r, name in rows]


async def overridden_ids(session: AsyncSession) -> set[str]:
    return set(await overrides(session))


# --- the misses ----------------------------------------------------------------------------------
# written out literally, as the partial indexes ix_faq_log_misses / ix_feedback_misses say (a bound
# parameter would not prove to SQLite, nor to a generic PostgreSQL plan, that the index applies)
_MISSED_LOG = FaqLog.outcome == literal_column("'fallback'")
_MISSED_VOTE = Feedback.vote < literal_column("0")
_closest: dict[tuple, str | None] = {}


def closest(key: str, question: str) -> str | None:
    """The entry nearest to a missed question (the answer, else a suggestion, else the best ranked),
    remembered per installed FAQ version."""
    k = (faq.installed_version(), key)
    if k not in _closest:
        if len(_closest) > 20_000:
            _closest.clear()
        match = faq.get_renderer().engine.match(question)
        _closest[k] = match.faq_id or (match.suggestions[0] if match.suggestions else None) or (
            match.ranked[0][0] if match.ranked and match.ranked[0][0] else None)
    return _closest[k]


@dataclass
class Miss:
    key: str                     # folded text
    question: str                # the latest wording
    count: int
    last: datetime
    downvotes: int = 0
    closest: str | None = None   # the nearest entry id
    sent: int = 0                # also sent to officers (the Câu hỏi page), within the scope
    sent_open: int = 0           # of which not answered yet


async def misses(session: AsyncSession, provinces: frozenset[str] | None = None, limit: int = 100) -> list[Miss]:
    """Questions that fell to the fallback or got 👎, grouped by their folded text (the `question_key`
    column, filled when the question is logged), most asked first, over every row (grouped in SQL),
    with how many of them producers also sent to officers.
    `provinces` (province ids): only askers of those provinces (a provincial officer)."""
    q_log = select(FaqLog.question_key.label("key"), FaqLog.created_at.label("at"), literal_column("0").label("down")) \
        .where(_MISSED_LOG, FaqLog.question_key != "")
    q_fb = select(Feedback.question_key, Feedback.created_at, literal_column("1")) \
        .where(_MISSED_VOTE, Feedback.question_key != "")
    q_sent = select(OfficerQuestion.question_key, func.count(),
                    func.sum(case((OfficerQuestion.status == "open", 1), else_=0))).group_by(OfficerQuestion.question_key)
    if provinces is not None:
        keys = sorted(provinces)
        q_log = q_log.join(User, User.id == FaqLog.user_id).where(User.province.in_(keys))
        q_fb = q_fb.join(User, User.id == Feedback.user_id).where(User.province.in_(keys))
        q_sent = q_sent.where(OfficerQuestion.province.in_(keys))
    rows = union_all(q_log, q_fb).subquery()
    n, last = func.count().label("n"), func.max(rows.c.at).label("last")
    top = select(rows.c.key, n, func.sum(rows.c.down).label("down"), last).group_by(rows.c.key) \
        .order_by(n.desc(), last.desc()).limit(limit).subquery()
    # the latest wording: a row of the group asked at `last` (any province: the folded text is the same)
    said_log = select(FaqLog.question).where(_MISSED_LOG, FaqLog.question_key == top.c.key,
                                             FaqLog.created_at == top.c.last).order_by(FaqLog.id.desc()).limit(1)
    said_fb = select(Feedback.question).where(_MISSED_VOTE, Feedback.question_key == top.c.key,
                                              Feedback.created_at == top.c.last).order_by(Feedback.id.desc()).limit(1)
    said = func.coalesce(said_log.scalar_subquery(), said_fb.scalar_subquery(), top.c.key)
    out = [Miss(key, question, count, at, int(down or 0)) for key, count, down, at, question in
           (await session.execute(select(top.c.key, top.c.n, top.c.down, top.c.last, said)
                                  .order_by(top.c.n.desc(), top.c.last.desc()))).all()]
    by_key = {m.key: m for m in out}
    if by_key:
        for key, n_sent, n_open in await session.execute(q_sent.where(OfficerQuestion.question_key.in_(by_key))):
            by_key[key].sent, by_key[key].sent_open = n_sent, int(n_open or 0)
    for m in out:
        m.closest = closest(m.key, m.question)
    return out
