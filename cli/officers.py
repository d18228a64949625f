"""Officer subcommands:

    python bot.py broadcast --text "…" [--province P] [--group G] [--topic T] [--stars N]
                            [--expiring-before D] [--dry-run]
    python bot.py broadcast --resume ID            finish an interrupted broadcast
    python bot.py export-questions [--out FILE] [--format csv|json] [--all]
    python bot.py grant-officer USER (--province P | --national)
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.text import html_to_plain
from storage.db import database


def add(sub) -> None:
    p = sub.add_parser("broadcast", help="send an announcement to producers (progress on the terminal)")
    p.add_argument("--text", help="message text; placeholders {{ ten }}, {{ tinh }}")
    p.add_argument("--province", action="append", default=[], help="province (repeatable); old names accepted")
    p.add_argument("--group", action="append", default=[], help="product group (repeatable)")
    p.add_argument("--topic", help="hoi_cho | dot_danh_gia | tap_huan | chinh_sach")
    p.add_argument("--stars", action="append", type=int, default=[], help="certificate star level (repeatable)")
    p.add_argument("--expiring-before", help="certificates expiring before this date (dd/mm/yyyy)")
    p.add_argument("--dry-run", action="store_true", help="count recipients and preview, send nothing")
    p.add_argument("--resume", type=int, metavar="ID", help="finish delivering broadcast ID")
    p.set_defaults(func=cmd_broadcast)
    p = sub.add_parser("export-questions", help="answered questions marked as FAQ candidates")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument("--format", choices=["csv", "json"], help="default: from --out's extension, else csv")
    p.add_argument("--all", action="store_true", help="every answered question, not only FAQ candidates")
    p.set_defaults(func=cmd_export_questions)
    p = sub.add_parser("grant-officer", help="give someone the officer role (bootstrap without chat)")
    p.add_argument("user", help="u<id>, telegram:<id>, zalo:<id> or a phone number")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--province")
    g.add_argument("--national", action="store_true")
    p.set_defaults(func=cmd_grant)


def _segment(args) -> tuple[dict, list[str]]:
    from handlers.broadcast.segments import TOPIC_NAMES
    from core.dates import DateError, parse_vn_date
    from core.reference import match_group, match_province
    seg, errors = {}, []
    for text in args.province:
        m = match_province(text)
        if m is None:
            errors.append(f"không nhận ra tỉnh «{text}»")
        else:
            seg.setdefault("provinces", []).append(m.province.id)
            if m.note:
                print(f"({m.note})")
    for text in args.group:
        g = match_group(text)
        errors.append(f"không nhận ra nhóm «{text}»") if g is None else seg.setdefault("groups", []).append(g.id)
    if args.topic:
        if args.topic not in TOPIC_NAMES:
            errors.append(f"chủ đề phải là một trong: {', '.join(TOPIC_NAMES)}")
        seg["topic"] = args.topic
    if args.stars:
        seg["stars"] = args.stars
    if args.expiring_before:
        try:
            seg["expiring_before"] = parse_vn_date(args.expiring_before).isoformat()
        except DateError as exc:
            errors.append(str(exc))
    return seg, errors


def cmd_broadcast(args, settings) -> int:
    from delivery.standalone import ChannelUnavailable
    try:
        return asyncio.run(_broadcast(args, settings))
    except ChannelUnavailable as exc:       # the broadcast and its rows are recorded: --resume or `run` sends
        print(exc, file=sys.stderr)
        return 3


async def _broadcast(args, settings) -> int:
    from handlers.broadcast import sending, templates
    from handlers.broadcast.runner import deliver
    from handlers.broadcast.segments import describe
    if args.resume is None and not args.text:
        print("Cần --text \"nội dung\" (hoặc --resume ID).", file=sys.stderr)
        return 2
    seg, errors = _segment(args)
    if errors:
        print("Không gửi được: " + "; ".join(errors) + ".", file=sys.stderr)
        return 2
    async with database(settings.database_url) as sm:
        if args.resume is not None:
            return await deliver(sm, settings, args.resume)
        async with sm() as s:
            if args.dry_run:
                prep = await sending.prepare(s, args.text, seg, None)
                print(f"Đối tượng: {describe(seg)}\nSố người nhận: {len(prep.recipients)}")
                if prep.recipients and not prep.errors:
                    sample = templates.render_message(args.text, sending.values_of(prep.recipients[0]))
                    print("Tin mẫu:\n" + html_to_plain(sample))
                for e in prep.errors:
                    print(f"- {e}", file=sys.stderr)
                return 1 if prep.errors else 0
            async with s.begin():
                bc, errs = await sending.create(s, actor_user_id=None, text=args.text, segment=seg, scope=None,
                                                origin="cli")
            if errs:
                print("Không gửi được:\n" + "\n".join(f"- {e}" for e in errs), file=sys.stderr)
                return 1
        print(f"Thông báo #{bc.id}: {bc.total} người nhận ({describe(seg)}).", flush=True)
        return await deliver(sm, settings, bc.id)


def cmd_export_questions(args, settings) -> int:
    return asyncio.run(_export(args, settings))


async def _export(args, settings) -> int:
    from handlers.officer.export import faq_candidates, to_csv, to_json
    async with database(settings.database_url) as sm:
        async with sm() as s:
            rows = await faq_candidates(s, include_all=args.all)
    fmt = args.format or ("json" if args.out and args.out.endswith(".json") else "csv")
    text = to_json(rows) if fmt == "json" else to_csv(rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        print(f"Đã ghi {len(rows)} câu hỏi vào {args.out}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_grant(args, settings) -> int:
    return asyncio.run(_grant(args, settings))


async def _grant(args, settings) -> int:
    from core.reference import match_province
    from handlers.roles.chat import find_user
    from core.audit import audit
    from storage.models import Role
    m = match_province(args.province) if args.province else None
    if args.province and m is None:
        print(f"Không nhận ra tỉnh «{args.province}».", file=sys.stderr)
        return 2
    async with database(settings.database_url) as sm:
        async with sm() as s, s.begin():
            user = await find_user(s, args.user, "telegram")
            if user is None:
                print(f"Không tìm thấy người dùng «{args.user}» (người đó cần bấm /start trước).", file=sys.stderr)
                return 1
            role = Role(user_id=user.id, role="officer", province=m.province.id if m else None)
            s.add(role)
            await s.flush()
            await audit(s, None, "role.grant", target_user_id=user.id, province=role.province, role_id=role.id,
                        origin="cli")
    print(f"Đã cấp quyền cán bộ cho u{user.id}: {m.province.name if m else 'toàn quốc'}.")
    return 0
