"""FAQ subcommand:

    python bot.py export-faq --out DIR

Writes the FAQ content in force (the YAML of content/vi/faq/ with the officers' web edits) as a
complete FAQ directory the repository can take in: files without edits are copied unchanged, files
with edits are written again (entries in the same order, new entries at the end of their file).
`python -m core.faq.check` style checks pass on DIR exactly as on content/vi/faq/.
"""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import yaml

from core.faq.content import FAQ_DIR, Entry

KEYS = ("id", "question", "paraphrases", "answer", "basis", "sources", "reviewed")


def add(sub) -> None:
    p = sub.add_parser("export-faq", help="write the FAQ with the officers' web edits as YAML (content/vi/faq layout)")
    p.add_argument("--out", required=True, help="directory to write (created if missing)")
    p.set_defaults(func=cmd_export_faq)


def cmd_export_faq(args, settings) -> int:
    return asyncio.run(_export(args, settings))


async def _export(args, settings) -> int:
    from handlers.faq import repo
    from storage.db import database
    async with database(settings.database_url) as sm:
        async with sm() as s:
            over = await repo.overrides(s)
    written = export(over, Path(args.out))
    print(f"{len(over)} edited entr{'y' if len(over) == 1 else 'ies'}; files rewritten: "
          f"{', '.join(written) or 'none'}; written to {args.out}")
    return 0


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def entry_yaml(e: Entry) -> dict:
    return {"id": e.id, "question": e.question, "paraphrases": list(e.paraphrases), "answer": e.answer + "\n",
            "basis": e.basis, "sources": list(e.sources), "reviewed": e.reviewed}


def _header(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def export(overrides: dict[str, Entry], out: Path, source: Path = FAQ_DIR) -> list[str]:
    """Write `source` with `overrides` applied into `out`; the names of the files rewritten."""
    import core.faq as faq
    out.mkdir(parents=True, exist_ok=True)
    entries = faq.merged_entries(overrides)
    touched = {e.file for e in overrides.values()}
    for path in sorted(source.iterdir()):
        if path.is_file() and (path.name.startswith("_") or path.name not in touched):
            shutil.copyfile(path, out / path.name)
    for name in sorted(touched):
        items = [entry_yaml(e) for e in entries if e.file == name]
        text = yaml.dump({"entries": items}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
        src = source / name
        (out / name).write_text((_header(src) if src.exists() else "") + text, encoding="utf-8")
    return sorted(touched)
