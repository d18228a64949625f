"""Regressions: odd input and a second polling instance, through the real PTB application and the
fake Bot API. Nothing a user is owed is lost, nobody is answered twice, the log stays short."""
import asyncio
import logging

from sqlalchemy import func, select

from storage.models import Identity, ProcessedEvent, User
from tests.telegram.conftest import say, settle


async def count(rt, model) -> int:
    async with rt.core.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def test_the_same_update_twice_is_answered_once(tg, start_bot, db_url):
    rt = await start_bot(db_url)
    upd = tg.factory.text(501, "/start")
    tg.push(upd)
    tg.push(dict(upd))                                  # delivered twice (a second poller, a resend)
    [menu] = await settle(tg, 501, 0, quiet=0.5)
    assert "OCOP" in menu.text
    assert await count(rt, ProcessedEvent) == 1


async def test_two_polling_instances_answer_once_and_warn_once(tg, start_bot, sqlite_url, caplog):
    """Two processes on one SQLite file (no poll lease there): both poll, conflict, warn once."""
    caplog.set_level(logging.DEBUG, logger="ocop")
    caplog.set_level(logging.DEBUG, logger="telegram")
    a, _b = await start_bot(sqlite_url), await start_bot(sqlite_url)
    chats = list(range(600, 612))
    for chat in chats:
        tg.push_text(chat, "/start")
    await tg.wait_sent(len(chats), timeout=30)
    await asyncio.sleep(3)                              # both keep polling (and conflicting) meanwhile
    assert sorted(s.chat_id for s in tg.sent) == chats  # every update answered exactly once
    assert await count(a, ProcessedEvent) == len(chats)
    conflicts = [r for r in caplog.records if "another bot instance is polling" in r.getMessage()]
    assert 1 <= len(conflicts) <= 2 and all(r.levelno == logging.WARNING for r in conflicts)
    assert not [r for r in caplog.records if r.exc_info and "poll" in r.getMessage().lower()]


async def test_on_postgresql_one_instance_polls_and_the_other_takes_over(tg, start_bot, pg_url, caplog):
    """channels/poll_lease.py: no 409 ping-pong (whose back-off grows to 30 s per update); when the
    poller stops, the other process polls within seconds."""
    caplog.set_level(logging.DEBUG, logger="ocop")
    a, b = await start_bot(pg_url), await start_bot(pg_url)
    assert [rt.channels[0].lease.polling for rt in (a, b)] == [True, False]
    for chat in range(620, 626):
        tg.push_text(chat, "/start")
    await tg.wait_sent(6, timeout=30)
    await asyncio.sleep(1.5)
    assert sorted(s.chat_id for s in tg.sent) == list(range(620, 626))
    assert not [r for r in caplog.records if "another bot instance is polling" in r.getMessage()]
    await a.stop()
    tg.push_text(630, "/start")
    await tg.wait_sent(7, timeout=20)
    assert tg.sent[-1].chat_id == 630 and b.channels[0].lease.polling


async def test_an_unparsable_update_is_skipped_and_polling_goes_on(tg, start_bot, caplog):
    caplog.set_level(logging.INFO)
    await start_bot()
    bad = tg.factory.wrap(poll={"id": "77"})            # a poll update in a shape PTB cannot build
    tg.push(bad)
    [menu] = await say(tg, 502, "/start")
    assert "OCOP" in menu.text
    await asyncio.sleep(0.5)
    assert tg.call_counts["getupdates"] < 30            # no re-fetch loop on the same offset
    skipped = [r for r in caplog.records if "could not be parsed" in r.getMessage()]
    assert len(skipped) == 1 and str(bad["update_id"]) in skipped[0].getMessage()
    assert not [r for r in caplog.records if "Error while parsing updates" in r.getMessage()]
    assert sum(len(r.getMessage()) for r in caplog.records) < 20_000


async def test_a_bad_name_or_text_costs_nobody_else_their_answer(tg, start_bot, db_url):
    """Lone surrogates and NUL (refused by PostgreSQL) in one person's name or text."""
    rt = await start_bot(db_url)
    odd = {701: ("Nông\x00dân", "/start"), 702: ("Lan \ud83d", "/start"), 703: ("Bình", "gcn ocop \udc00 bao lâu")}
    for chat, (name, text) in odd.items():
        tg.push_text(chat, text, name=name)
    for chat in range(710, 716):                        # unrelated people in the same batch
        tg.push_text(chat, "/start")
    for chat in [*odd, *range(710, 716)]:
        [reply] = (await settle(tg, chat, 0))[:1]
        assert "xin lỗi" not in reply.text.lower(), (chat, reply.text)
    async with rt.core.sessionmaker() as s:
        names = {i.external_id: u.display_name
                 for i, u in (await s.execute(select(Identity, User).join(User))).all()}
    assert names["701"] == "Nôngdân" and names["702"] == "Lan"
    [again] = await say(tg, 701, "/start", name="Nông\x00dân")   # not locked out
    assert "OCOP" in again.text


async def test_service_messages_and_other_bots_commands_are_ignored(tg, start_bot):
    await start_bot()
    [menu] = await say(tg, 503, "/start")
    pinned = tg.factory._message(503, None, "Nông dân", pinned_message={
        "message_id": menu.message_id, "date": 0, "chat": {"id": 503, "type": "private"}, "text": "…"})
    tg.push(tg.factory.wrap(message=pinned))
    tg.push_text(503, "/start@other_bot")
    tg.push_text(503, "/help@OtherBot hello")
    [mine] = await say(tg, 503, "/start@ocop_test_bot")
    assert "OCOP" in mine.text
    assert len(tg.sent_to(503)) == 2                    # the first menu and this one: nothing else


async def test_start_claim_without_a_code_greets(tg, start_bot):
    rt = await start_bot()
    [menu] = await say(tg, 504, "/start claim_")
    assert "OCOP" in menu.text and len(menu.buttons()) == len(rt.core.router.menu)
