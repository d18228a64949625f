"""/canlienhe: the officers' call list in the bot (province-scoped), "đã gọi" per row, CSV file."""
from __future__ import annotations

from core.permissions import officer_scope as _officer_scope
from core.messages import Button, Incoming, OutFile, Reply
from core.templates import label
from core.text import parse_id
from core.permissions import province_name
from handlers.reach import calllist
from core.audit import audit

PAGE = 10


async def officer_scope(ctx) -> tuple[bool, set[str] | None]:
    """(is officer, province ids or None for national scope)."""
    scope = await _officer_scope(ctx)
    if scope is None:
        return False, set()
    return True, (None if scope.national else set(scope.provinces))


async def show(ctx, msg: Incoming = None, note: str = ""):
    is_officer, scope = await officer_scope(ctx)
    if not is_officer:
        return ctx.reply("officer/not_allowed")
    entries = await calllist.open_entries(ctx.session, scope)
    rows = [[Button(label("reach.called", id=e.id), f"cl:done:{e.id}")] for e in entries[:PAGE]]
    if entries:
        rows.append([Button(label("reach.csv"), "cl:csv")])
    return Reply(ctx.render("reach/call_list", entries=entries[:PAGE], total=len(entries), note=note,
                            provinces=sorted(map(province_name, scope)) if scope is not None else None), rows)


async def on_button(ctx, msg: Incoming):
    is_officer, scope = await officer_scope(ctx)
    if not is_officer:
        return ctx.reply("officer/not_allowed")
    parts = msg.callback.split(":")
    if parts[1:2] == ["csv"]:
        entries = await calllist.open_entries(ctx.session, scope)
        return Reply(ctx.render("reach/call_list_file", total=len(entries)),
                     file=OutFile("can-lien-he.csv", calllist.export(entries, "csv"), "text/csv"))
    if parts[1:2] == ["done"] and len(parts) == 3:
        eid = parse_id(parts[2])
        n = await calllist.mark_called(ctx.session, eid, ctx.user.id, scope) if eid else 0
        if not n:
            return await show(ctx, note=ctx.render("reach/call_gone"))
        await audit(ctx.session, ctx.user.id, "call_list_called", entry=eid, rows=n)
        return await show(ctx, note=ctx.render("reach/call_marked", id=eid))
    return ctx.reply("errors/stale_button")


def register(router) -> None:
    router.command("canlienhe", show, "Danh sách chủ thể cần gọi điện (cán bộ)")
    router.callback("cl", on_button)
