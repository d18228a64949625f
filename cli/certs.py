"""Officer commands for certificates and reminders:

    python bot.py import-certificates FILE [--skip-invalid] [--dry-run]
    python bot.py remind [--today YYYY-MM-DD] [--dry-run]
    python bot.py add-round --province P --name N --deadline D [--evaluation-date D] [--where TEXT]
    python bot.py claim-code (--phone 09xx | --cert-id ID [ID ...]) [--days 30]
"""
from __future__ import annotations

import asyncio
import sys
from datetime import date

from core import clock
from core.text import html_to_plain
from storage.db import database


def add(sub) -> None:
    p = sub.add_parser("import-certificates", help="import a province's OCOP register (CSV or XLSX)")
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="write the valid rows, skip the bad ones")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("remind", help="run one reminder sweep and deliver what is due")
    p.add_argument("--today", type=date.fromisoformat, help="pretend today is YYYY-MM-DD")
    p.add_argument("--dry-run", action="store_true", help="list what is due, write and send nothing")
    p.set_defaults(func=cmd_remind)
    p = sub.add_parser("add-round", help="add an evaluation round for a province")
    p.add_argument("--province", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--deadline", required=True, help="registration deadline, e.g. 15/3/2027")
    p.add_argument("--evaluation-date", default="")
    p.add_argument("--where", default="", help="where to submit the dossier")
    p.set_defaults(func=cmd_add_round)
    p = sub.add_parser("claim-code", help="one-time code / deep link for a producer's imported products")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--phone")
    g.add_argument("--cert-id", type=int, nargs="+")
    p.add_argument("--days", type=int, default=30, help="days the code stays valid")
    p.set_defaults(func=cmd_claim_code)


def _today(settings) -> date:
    return clock.today(settings.tz)


# --- import-certificates -------------------------------------------------------------------
def cmd_import(args, settings) -> int:
    return asyncio.run(_import(args, settings))


async def _import(args, settings) -> int:
    from handlers.products.importer import import_certificates
    from core.templates import render
    async with database(settings.database_url) as sm:
        async with sm() as s:
            report = await import_certificates(s, args.file, args.file, today=_today(settings),
                                               skip_invalid=args.skip_invalid, dry_run=args.dry_run)
            await (s.rollback() if args.dry_run else s.commit())
    print(html_to_plain(render("products/import_report", r=report, skip_invalid=args.skip_invalid,
                               max_errors=10_000, cli=True)))
    print(f"created={report.created} updated={report.updated} unchanged={report.unchanged} "
          f"invalid={report.invalid} written={'yes' if report.written else 'no'}")
    if report.file_error:
        return 2
    return 1 if report.errors and not args.skip_invalid and not args.dry_run else 0


# --- remind ------------------------------------------------------------------------------------
def cmd_remind(args, settings) -> int:
    from delivery.standalone import ChannelUnavailable
    try:
        return asyncio.run(_remind(args, settings))
    except ChannelUnavailable as exc:       # the reminders stay queued: the next run or `bot.py run` sends
        print(exc, file=sys.stderr)
        return 3


async def _remind(args, settings) -> int:
    from delivery.worker import DeliveryWorker
    from core.reminders import sweep
    today = args.today or _today(settings)
    async with database(settings.database_url) as sm:
        async with sm() as s:
            res = await sweep(s, settings, today, dry_run=args.dry_run)
            await (s.rollback() if args.dry_run else s.commit())
        print(f"Sweep for {today.isoformat()}: {len(res.due)} reminder(s) due"
              + (" (dry run, nothing written)" if args.dry_run else
                 f", {res.skipped} older offset(s) recorded as skipped, {res.enqueued} queued for delivery, "
                 f"{res.call_listed} on the call list (no route)"))
        for d in res.due:
            print(f"- {d.key} (user {d.user_id}, due {d.due_on.isoformat()})")
            if args.dry_run:
                print("  " + html_to_plain(d.reply.text).replace("\n", "\n  "))
        if args.dry_run or not (res.enqueued or await _due_rows(sm)):
            return 0                         # (rows queued by an earlier run that could not send go now)
        from delivery.standalone import close_senders, open_senders
        senders, closers = await open_senders(settings, sm, out=sys.stdout)
        try:
            worker = DeliveryWorker(sm, senders, rate=settings.send_rate,
                                    per_chat_interval=settings.per_chat_interval, max_attempts=settings.max_attempts)
            from handlers.reach.chain import install
            install(worker, settings)
            await worker.recover()
            await worker.drain(timeout=120)
            print(f"Delivered: sent={worker.stats['sent']} retry={worker.stats['retry']} "
                  f"failed={worker.stats['failed']}")
        finally:
            await close_senders(closers)
        return 0


async def _due_rows(sm) -> bool:
    from sqlalchemy import select
    from storage.models import Delivery, utcnow
    async with sm() as s:
        return await s.scalar(select(Delivery.id).where(Delivery.status == "queued",
                                                        Delivery.next_attempt_at <= utcnow()).limit(1)) is not None


# --- add-round ------------------------------------------------------------------------------
def cmd_add_round(args, settings) -> int:
    return asyncio.run(_add_round(args, settings))


async def _add_round(args, settings) -> int:
    from core.dates import DateError
    from core.permissions import province_name
    from handlers.rounds.repo import check_round, create_round
    try:
        data = check_round(args.province, args.name, args.deadline, args.evaluation_date, args.where,
                           _today(settings))
    except (DateError, ValueError) as exc:
        print(f"Không thêm được đợt đánh giá: {exc}.", file=sys.stderr)
        return 1
    async with database(settings.database_url) as sm:
        async with sm() as s, s.begin():
            rnd = await create_round(s, data)
    ev = f", đánh giá {rnd.evaluation_date:%d/%m/%Y}" if rnd.evaluation_date else ""
    print(f"Đã thêm đợt #{rnd.id}: {rnd.name} ({province_name(rnd.province)}), hạn đăng ký "
          f"{rnd.registration_deadline:%d/%m/%Y}{ev}.")
    return 0


# --- claim-code ---------------------------------------------------------------------------------
def cmd_claim_code(args, settings) -> int:
    return asyncio.run(_claim_code(args, settings))


async def _claim_code(args, settings) -> int:
    from sqlalchemy import select

    from handlers.products.claims import create_claim_code, deep_link, normalise_phone
    from storage.models import Certificate
    phone = normalise_phone(args.phone) if args.phone else None
    if args.phone and phone is None:
        print(f"Số điện thoại không hợp lệ: {args.phone}", file=sys.stderr)
        return 1
    async with database(settings.database_url) as sm:
        async with sm() as s, s.begin():
            cond = Certificate.phone == phone if phone else Certificate.id.in_(args.cert_id)
            certs = list(await s.scalars(select(Certificate).where(cond, Certificate.owner_user_id.is_(None))))
            if not certs:
                print("Không có sản phẩm nào chưa có chủ khớp với yêu cầu (có thể đã được nhận).", file=sys.stderr)
                return 1
            code = await create_claim_code(s, phone=phone, cert_ids=None if phone else [c.id for c in certs],
                                           valid_days=args.days)
    print(f"Mã: {code.code} (dùng 1 lần, hết hạn sau {args.days} ngày)")
    print(f"Liên kết: {deep_link(code.code, settings.bot_username)}")
    print(f"Hoặc gõ trong bot: /nhanma {code.code}")
    for c in certs:
        print(f"- #{c.id} {c.product} ({c.stars} sao, QĐ {c.decision_no})")
    return 0
