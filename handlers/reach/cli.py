"""Officer commands of the reach feature:

    python bot.py call-list [--province P] [--all] [--out FILE]   the call list as CSV or XLSX
    python bot.py zns-check                                       is each ZNS template usable?
"""
from __future__ import annotations

import asyncio
import sys

from storage.db import database


def add(sub) -> None:
    p = sub.add_parser("call-list", help="producers no route reached: CSV/XLSX for officers to call")
    p.add_argument("--province", help="one province (old names recognised)")
    p.add_argument("--all", action="store_true", help="include rows already marked 'đã gọi'")
    p.add_argument("--out", help="FILE.csv or FILE.xlsx (default: CSV on stdout)")
    p.set_defaults(func=cmd_call_list)
    p = sub.add_parser("zns-check", help="check each configured ZNS template (GET /template/info/v2)")
    p.set_defaults(func=cmd_zns_check)


def cmd_call_list(args, settings) -> int:
    return asyncio.run(_call_list(args, settings))


async def _call_list(args, settings) -> int:
    from core.permissions import province_id_of
    from handlers.reach import calllist
    provinces = None
    if args.province:
        pid = province_id_of(args.province)
        if pid is None:
            print(f"Không nhận ra tỉnh/thành «{args.province}».", file=sys.stderr)
            return 1
        provinces = {pid}
    async with database(settings.database_url) as sm:
        async with sm() as s:
            entries = await calllist.open_entries(s, provinces, include_called=args.all)
    fmt = "xlsx" if args.out and args.out.lower().endswith(".xlsx") else "csv"
    data = calllist.export(entries, fmt)
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data)
        print(f"{len(entries)} chủ thể cần liên hệ → {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode("utf-8-sig"))
    return 0


def cmd_zns_check(args, settings) -> int:
    return asyncio.run(_zns_check(settings))


async def _zns_check(settings) -> int:
    from channels.zns import PAUSE_KEY, check_templates
    if not (settings.zalo_oa_app_id and settings.zalo_oa_app_secret):
        print("ZNS needs ZALO_OA_APP_ID, ZALO_OA_APP_SECRET and the OA tokens (see README, Zalo).", file=sys.stderr)
        return 2
    async with database(settings.database_url) as sm:
        results = await check_templates(settings, sm)
        for r in results:
            state = "OK" if r["usable"] else "NOT USABLE"
            params = ", ".join(r.get("params") or [])
            print(f"{r['kind']:6} {r['template_id'] or '-':12} {state:10} {r.get('status', '')} "
                  f"{params} {r.get('detail', '')}".rstrip())
        configured = [r for r in results if r["template_id"]]
        ok = bool(configured) and all(r["usable"] for r in configured)
        if ok:                                  # billing fixed and templates fine: ZNS resumes
            from storage.models import KeyValue
            async with sm() as s, s.begin():
                row = await s.get(KeyValue, PAUSE_KEY)
                if row is not None:
                    await s.delete(row)
                    print("ZNS pause lifted.")
    return 0 if ok else 1
