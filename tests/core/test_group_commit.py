"""Updates arriving together share one transaction for "who is this / they wrote now" and for
append-only records (storage.group_commit), without changing what any of them sees or what the
database records."""
import asyncio

from sqlalchemy import func, select

from core.messages import Incoming, Reply
from storage.models import Conversation, FaqLog, Identity, User


def msg(uid: int, text: str = "/start", channel: str = "console", mid: str = "", name: str = "",
        ev: str = "") -> Incoming:
    return Incoming(channel=channel, user_key=str(uid), chat_id=str(uid), text=text, message_id=mid,
                    display_name=name, event_id=ev)


async def rows(core, model):
    async with core.sessionmaker() as s:
        return list(await s.scalars(select(model)))


async def test_concurrent_updates_share_transactions_and_each_gets_its_own_person(db_url, make_core):
    core = make_core(db_url)
    for uid in range(10):                                   # ten known people, ten new ones
        await core.handle(msg(uid, mid="old"))
    before = core.writes.batches
    replies = await asyncio.gather(*(core.handle(msg(uid, mid=f"m{uid}", name=f"Người {uid}"))
                                     for uid in range(20)))
    assert all("OCOP" in r[0].text for r in replies)
    assert core.writes.batches - before < 20               # batched: fewer transactions than updates
    idents = {i.external_id: i for i in await rows(core, Identity)}
    users = {u.id: u for u in await rows(core, User)}
    assert len(idents) == 20 and len(users) == 20           # nobody created twice
    for uid in range(20):
        ident = idents[str(uid)]
        assert ident.last_message_id == f"m{uid}"           # every interaction recorded
        assert users[ident.user_id].display_name in ("", f"Người {uid}")


async def test_same_person_twice_in_one_batch_keeps_the_last_message(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(1, mid="a"))
    await asyncio.gather(core.writes.touch(msg(1, mid="b")), core.writes.touch(msg(1, mid="c")),
                         core.writes.touch(msg(2, mid="x")), core.writes.touch(msg(2, mid="y")))
    idents = {i.external_id: i for i in await rows(core, Identity)}
    assert (idents["1"].last_message_id, idents["2"].last_message_id) == ("c", "y")
    assert len(idents) == 2


async def test_flow_state_is_read_fresh_for_every_update(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(5, "/hoso"))
    [conv] = await rows(core, Conversation)
    a, b = await asyncio.gather(core.writes.touch(msg(5)), core.writes.touch(msg(6)))
    assert a.conversation["flow"] == conv.flow and b.conversation is None
    await core.handle(msg(5, "/huy"))
    assert (await core.writes.touch(msg(5))).conversation is None


async def test_handler_failure_rolls_back_its_work_but_keeps_the_interaction(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(3, mid="first"))

    async def boom(ctx, m):
        ctx.user.province = "Huế"
        await ctx.set_flow("x", "y")
        raise RuntimeError("bug")
    core.router.command("boom", boom)
    [reply] = await core.handle(msg(3, "/boom", mid="second"))
    assert "lỗi" in reply.text.lower() or "xin lỗi" in reply.text.lower()
    [ident] = await rows(core, Identity)
    [user] = await rows(core, User)
    assert ident.last_message_id == "second"
    assert user.province is None and await rows(core, Conversation) == []


async def test_changes_a_handler_makes_to_the_person_are_saved(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(4))

    async def set_province(ctx, m):
        ctx.user.province = "Lâm Đồng"
        ctx.identity.inactive_reason = "test"
        return []
    core.router.command("tinh", set_province)
    await core.handle(msg(4, "/tinh"))
    [user] = await rows(core, User)
    [ident] = await rows(core, Identity)
    assert user.province == "lam_dong" and ident.inactive_reason == "test"


async def test_a_person_who_comes_back_is_reactivated(db_url, make_core):
    core = make_core(db_url)
    await core.handle(msg(8))
    async with core.sessionmaker() as s, s.begin():
        ident = await s.scalar(select(Identity))
        ident.active, ident.inactive_reason = False, "blocked"
    await core.handle(msg(8))
    [ident] = await rows(core, Identity)
    assert ident.active and ident.inactive_reason is None


async def test_two_instances_creating_the_same_new_person_make_one(db_url, make_core):
    a, b = make_core(db_url), make_core(db_url)
    for round_ in range(5):
        uids = [100 + 10 * round_ + i for i in range(4)]
        await asyncio.gather(*(core.handle(msg(u)) for u in uids for core in (a, b)))
    async with a.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Identity)) == 20
        assert await s.scalar(select(func.count()).select_from(User)) == 20


async def test_a_failed_batch_is_retried_one_update_at_a_time(sqlite_url, make_core, monkeypatch):
    core = make_core(sqlite_url)
    await core.handle(msg(1))
    import storage.group_commit as tb
    real = tb.flush
    calls = []

    def failing(conn, items):
        calls.append(len(items))
        if len(calls) == 1 or any(it[0] == "touch" and it[1].user_key == "3" for it in items):
            raise RuntimeError("disk I/O error")            # once for everyone, always for person 3
        return real(conn, items)
    monkeypatch.setattr(tb, "flush", failing)
    replies = await asyncio.gather(core.handle(msg(1)), core.handle(msg(2)), core.handle(msg(3)))
    assert calls[0] == 3 and sorted(calls[1:]) == [1, 1, 1]
    assert ["OCOP" in r[0].text for r in replies] == [True, True, False]
    assert "lỗi" in replies[2][0].text.lower()
    monkeypatch.setattr(tb, "flush", real)
    [again] = await core.handle(msg(3))
    assert "OCOP" in again.text


async def test_concurrent_questions_each_get_their_own_log_row(db_url, make_core):
    core = make_core(db_url)
    questions = {uid: f"câu hỏi lạ số {uid} về trồng lúa nước ở sao hỏa" for uid in range(12)}
    replies = await asyncio.gather(*(core.handle(msg(uid, q)) for uid, q in questions.items()))
    logs = {row.id: row for row in await rows(core, FaqLog)}
    idents = {i.user_id: int(i.external_id) for i in await rows(core, Identity)}
    assert len(logs) == 12
    for uid, reply in zip(questions, replies):
        officer = [b.data for row in reply[0].buttons for b in row if b.data.startswith("fq:o:")]
        assert officer, reply[0].text                          # fallback: "send to an officer" button
        log = logs[int(officer[0].rsplit(":", 1)[1])]
        assert log.question == questions[uid] and idents[log.user_id] == uid


async def test_a_record_stays_when_the_handler_fails_later(db_url, make_core):
    core = make_core(db_url)

    async def ask_then_fail(ctx, m):
        await ctx.record(FaqLog, user_id=ctx.user.id, question="đã hỏi", outcome="fallback")
        raise RuntimeError("bug after the question was logged")
    core.router.command("hoiloi", ask_then_fail)
    [reply] = await core.handle(msg(1, "/hoiloi"))
    assert "xin lỗi" in reply.text.lower()
    assert [r.question for r in await rows(core, FaqLog)] == ["đã hỏi"]


async def test_a_record_after_the_handler_wrote_joins_its_transaction(db_url, make_core):
    """On SQLite the group commit would wait for the write lock this very transaction holds."""
    core = make_core(db_url)

    async def write_then_record(ctx, m):
        await ctx.set_flow("x", "y")                       # this update now holds a write
        log_id = await ctx.record(FaqLog, user_id=ctx.user.id, question="giữa chừng", outcome="answer")
        if "fail" in m.text:
            raise RuntimeError("bug")
        return [Reply(str(log_id))]
    core.router.command("ghi", write_then_record)
    [ok] = await asyncio.wait_for(core.handle(msg(1, "/ghi")), 10)
    assert int(ok.text) == (await rows(core, FaqLog))[0].id
    await asyncio.wait_for(core.handle(msg(2, "/ghi fail")), 10)
    assert len(await rows(core, FaqLog)) == 1            # rolled back with the failed handler's work


async def test_event_ids_are_claimed_once_and_forgotten_after_a_week(db_url, make_core, today):
    from datetime import timedelta

    from storage.group_commit import forget_events
    from storage.models import ProcessedEvent
    core = make_core(db_url)
    first, again, other = await asyncio.gather(
        core.writes.touch(msg(1, mid="a", ev="7")), core.writes.touch(msg(1, mid="b", ev="7")),
        core.writes.touch(msg(2, ev="8")))
    assert first is not None and again is None and other is not None
    assert await core.writes.touch(msg(1, ev="7")) is None
    assert len(await rows(core, ProcessedEvent)) == 2
    today.value = today.value + timedelta(days=8)
    assert await forget_events(core.engine) == 2
    assert await core.writes.touch(msg(1, ev="7")) is not None


async def test_a_connection_the_database_dropped_costs_no_answer(pg_url, make_core):
    """The group commit keeps its connection between batches; when PostgreSQL drops it (restart,
    idle timeout), the batch runs again on a fresh one."""
    from sqlalchemy import text
    core = make_core(pg_url)
    await core.handle(msg(1))
    db = pg_url.rsplit("/", 1)[1]
    async with core.sessionmaker() as s:
        me = await s.scalar(text("SELECT pg_backend_pid()"))
        await s.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :db AND pid <> :me"), {"db": db, "me": me})
    [reply] = await core.handle(msg(1, mid="after"))
    assert "OCOP" in reply.text
    [ident] = await rows(core, Identity)
    assert ident.last_message_id == "after"


async def test_postgresql_batches_commit_asynchronously_except_new_and_returning_people(pg_url, make_core):
    """synchronous_commit=off loses at most the last fraction of a second of touches on a server
    crash; a batch that creates a person or reactivates one (what reminders depend on) is durable."""
    from sqlalchemy import text, update

    from storage.group_commit import flush
    core = make_core(pg_url)
    await core.handle(msg(1))

    async def level(m: Incoming) -> str:
        async with core.engine.connect() as conn:
            await conn.execute(text("SET synchronous_commit TO off"))
            await conn.commit()
            async with conn.begin():
                await conn.run_sync(flush, [("touch", m)])
                return await conn.scalar(text("SHOW synchronous_commit"))
    assert await level(msg(1, mid="again")) == "off"                   # a known person: a touch
    assert await level(msg(2)) == "on"                                 # a new person
    async with core.sessionmaker() as s, s.begin():
        await s.execute(update(Identity).where(Identity.external_id == "1").values(active=False))
    assert await level(msg(1, mid="back")) == "on"                     # came back after blocking the bot


async def test_records_without_ids_share_one_insert_and_ids_come_back_in_order(db_url, make_core):
    """Log rows nobody needs the id of are one executemany for the whole batch; rows whose id is
    asked for get their own ids, in the rows' order (SQLite inserts those one by one)."""
    from sqlalchemy import event
    core = make_core(db_url)
    await core.handle(msg(1))
    [snap] = await asyncio.gather(core.writes.touch(msg(1)))
    inserts = []
    event.listen(core.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cur, stmt, params, ctx, many: inserts.append(stmt) if "faq_log" in stmt else None)
    uid, table = snap.user["id"], FaqLog.__table__
    plain = [core.writes.insert(table, {"user_id": uid, "question": f"q{n}", "outcome": "answer"}) for n in range(5)]
    with_id = [core.writes.insert(table, {"user_id": uid, "question": f"id{n}", "outcome": "fallback"}, with_id=True)
               for n in range(3)]
    assert await asyncio.gather(*plain) == [None] * 5
    ids = await asyncio.gather(*with_id)
    plain_inserts = [s for s in inserts if "RETURNING" not in s.upper()]
    assert len(plain_inserts) == 1                          # five rows, one statement
    by_id = {r.id: r.question for r in await rows(core, FaqLog)}
    assert [by_id[i] for i in ids] == ["id0", "id1", "id2"]
    assert sorted(q for q in by_id.values() if q.startswith("q")) == [f"q{n}" for n in range(5)]
