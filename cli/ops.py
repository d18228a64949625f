"""`doctor`, `backup`, `restore` (issue 16; details in docs/deploy.md)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def add(sub) -> None:
    p = sub.add_parser("doctor", help="check the configuration: database, channels, tokens, disk, clock")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("backup", help="consistent copy of the database (SQLite backup API / pg_dump)")
    p.add_argument("--out", required=True, type=Path, help="file to write")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into DATABASE_URL (stop the bot first)")
    p.add_argument("--from", dest="source", required=True, type=Path, help="backup file")
    p.add_argument("--force", action="store_true", help="overwrite a database that already holds tables")
    p.set_defaults(func=cmd_restore)


def cmd_doctor(args, settings) -> int:
    from handlers.ops.doctor import doctor
    return asyncio.run(doctor(settings, out=lambda line: print(line, flush=True)))


def cmd_backup(args, settings) -> int:
    from handlers.ops.backup import BackupError, backup, pg_dump_major, server_major
    try:
        res = backup(settings.database_url, args.out)
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        if settings.database_url.startswith("postgresql"):
            server, client = server_major(settings.database_url), pg_dump_major()
            if server and client and client < server:
                print(f"pg_dump {client} is older than the server ({server}): install postgresql-client-{server}",
                      file=sys.stderr)
        return 1
    print(f"Backup written: {res['file']} ({res['engine']}, {res['bytes']:,} bytes)")
    return 0


def cmd_restore(args, settings) -> int:
    from handlers.ops.backup import BackupError, restore
    from storage.migrate import upgrade
    try:
        res = restore(settings.database_url, args.source, force=args.force)
    except BackupError as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    upgrade(settings.database_url)          # a backup from an older release gets the newer migrations
    print(f"Restored {res['file']} into the database ({res['engine']}); migrations applied.")
    return 0
