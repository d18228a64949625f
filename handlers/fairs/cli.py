"""Fair subcommand:

    python bot.py import-fairs FILE [--skip-invalid] [--dry-run]
"""
from __future__ import annotations

import asyncio
import sys

from core import clock
from storage.db import database


def add(sub) -> None:
    p = sub.add_parser("import-fairs", help="import trade fairs from CSV or XLSX (all-or-nothing)")
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="write the valid rows, skip the bad ones")
    p.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    p.set_defaults(func=cmd_import_fairs)


def cmd_import_fairs(args, settings) -> int:
    return asyncio.run(_import_fairs(args, settings))


async def _import_fairs(args, settings) -> int:
    from handlers.fairs.importer import import_fairs
    async with database(settings.database_url) as sm:
        async with sm() as s, s.begin():
            rep = await import_fairs(s, args.file, args.file, today=clock.today(settings.tz),
                                     skip_invalid=args.skip_invalid, dry_run=args.dry_run)
    for line in rep.notes:
        print(line)
    for line in rep.errors:
        print(line, file=sys.stderr)
    if rep.errors and not rep.written and not rep.file_error and not args.dry_run:
        print("Không ghi dòng nào vì có dòng lỗi (sửa tệp, hoặc dùng --skip-invalid để bỏ qua dòng lỗi).",
              file=sys.stderr)
    print(f"rows={rep.rows} created={rep.created} updated={rep.updated} unchanged={rep.unchanged} "
          f"invalid={rep.invalid} written={'yes' if rep.written else 'no'}")
    if rep.file_error:
        return 2
    return 1 if rep.errors and not args.skip_invalid else 0
