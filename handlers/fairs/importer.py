"""import-fairs: a CSV/XLSX of fairs, all-or-nothing (like the certificate import) unless skip_invalid."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from handlers.fairs import repo as fairs_mod
from core.audit import audit
from core.tabular import read_table
from core.templates import validation


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    written: bool = False
    file_error: bool = False
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def import_fairs(session, source, filename: str, *, today: date, skip_invalid: bool = False,
                       dry_run: bool = False, actor_user_id: int | None = None) -> ImportReport:
    """Validate every row first; write nothing when a row is bad (unless skip_invalid)."""
    rep = ImportReport()
    rows, problems = read_table(source, filename, fairs_mod.COLUMNS, fairs_mod.REQUIRED)
    if problems:
        rep.file_error = True
        rep.errors = [str(p) for p in problems]
        return rep
    rep.rows = len(rows)
    good, seen = [], {}
    for row in rows:
        checked = fairs_mod.check_fair(row.values, today)
        v = checked.values
        key = (v["name"], v["start_date"], v["province"])
        if not checked.errors and key in seen:
            checked.errors.append(validation("tables.duplicate_line", line=seen[key]))
        if checked.errors:
            rep.invalid += 1
            rep.errors.append(validation("tables.line", line=row.line, message="; ".join(checked.errors)))
            continue
        seen[key] = row.line
        rep.notes += [validation("tables.line", line=row.line, message=n) for n in checked.notes]
        good.append(v)
    if (rep.errors and not skip_invalid) or dry_run:
        return rep
    for v in good:
        _, what = await fairs_mod.save_fair(session, v, actor_user_id)
        setattr(rep, what, getattr(rep, what) + 1)
    await audit(session, actor_user_id, "fair.import", file=str(filename)[-200:], created=rep.created,
                updated=rep.updated, unchanged=rep.unchanged, invalid=rep.invalid, origin="cli")
    rep.written = True
    return rep
