"""Other features on Zalo with typed answers: subscribing (a long list, toggles, "Xong")."""
from sqlalchemy import select

from storage.models import Subscription
from tests.zalo.conftest import TAG


async def test_subscribe_by_typed_province_numbers_and_words(sqlite_url, zalo_env):
    h = await zalo_env("bot", sqlite_url)
    out = "\n".join(await h.say("s1", "/dangky"))
    assert "32. Đồng Tháp" in out and len(out) <= 2000 and not TAG.search(out)
    out = "\n".join(await h.say("s1", "dong thap"))              # the province's name, no diacritics
    assert "Đồng Tháp" in out and "1. ☐ Thực phẩm" in out
    assert "1. ☑ Thực phẩm" in "\n".join(await h.say("s1", "1"))  # toggled by number
    await h.say("s1", "do uong")                                 # toggled by words
    out = "\n".join(await h.say("s1", "xong"))                   # "Xong ➡"
    assert "Bước 3/3" in out
    await h.say("s1", "1")                                       # topic "Hội chợ" off
    await h.say("s1", "5")                                       # "Xong ➡"
    async with h.core.sessionmaker() as s:
        sub = await s.scalar(select(Subscription))
    assert sub.province == "dong_thap" and sub.groups == ["thuc_pham", "do_uong"]
    assert "hoi_cho" not in sub.topics and "tap_huan" in sub.topics


async def test_bot_platform_broadcast_statuses_through_the_worker(db_url, zalo_env):
    from handlers.broadcast import sending
    from storage.models import Delivery, Identity
    h = await zalo_env("bot", db_url)
    for u in ("b1", "b2"):
        await h.say(u, "/start")
    h.fake.fail_chat("b2", 403, "Forbidden: the user has blocked the bot")
    async with h.core.sessionmaker() as s, s.begin():
        bc, errors = await sending.create(s, actor_user_id=None, text="Tập huấn OCOP ngày 5/12", segment={},
                                          scope=None)
    await h.worker().drain(timeout=10)
    async with h.core.sessionmaker() as s:
        st = dict((await s.execute(select(Delivery.chat_id, Delivery.status))).all())
        b2 = await s.scalar(select(Identity).where(Identity.external_id == "b2"))
    assert st == {"b1": "sent", "b2": "blocked"} and not b2.active
    assert "Tập huấn OCOP ngày 5/12" in h.fake.texts_to("b1")[-1]


async def test_every_command_answers_in_plain_text_on_zalo(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    commands = sorted(h.core.router.command_help)
    assert {"start", "hoso", "dangky", "lienket"} <= set(commands)
    for i, name in enumerate(commands):
        out = await h.say(f"c{i}", f"/{name}")
        assert out, name
        assert all(0 < len(t) <= 2000 and not TAG.search(t) and "&amp;" not in t for t in out), name
    for i, key in enumerate(h.core.router.menu):                 # every main-menu entry by number
        await h.say(f"m{i}", "/menu")
        out = await h.say(f"m{i}", str(i + 1))
        assert out and all(not TAG.search(t) for t in out), key
