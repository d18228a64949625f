"""/dangky (province incl. old names, groups, topics), /huydangky and /stop."""
from sqlalchemy import select

from storage.models import Subscription, User
from tests.helpers import button_data, msg, texts


async def _subscribe(core, key="p1"):
    replies = await core.handle(msg("/dangky", user=key))
    assert "sub:p:dong_thap" in button_data(replies) and len(button_data(replies)) == 34
    t = texts(await core.handle(msg("tien giang", user=key)))
    assert "Tiền Giang nay thuộc tỉnh Đồng Tháp" in t
    await core.handle(msg(callback="sub:g:thuc_pham", user=key))
    replies = await core.handle(msg(callback="sub:g:do_uong", user=key))
    assert "☑ Thực phẩm" in [b.label for r in replies for row in r.buttons for b in row]
    await core.handle(msg(callback="sub:g:do_uong", user=key))          # untick again
    replies = await core.handle(msg(callback="sub:gd", user=key))
    assert "sub:t:hoi_cho" in button_data(replies)
    await core.handle(msg(callback="sub:t:chinh_sach", user=key))        # untick one topic
    return texts(await core.handle(msg(callback="sub:td", user=key)))


async def test_subscribe_flow_saves_everything(db_url, make_core):
    core = make_core(db_url)
    t = await _subscribe(core)
    assert "Đồng Tháp" in t and "Thực phẩm" in t and "/huydangky" in t
    async with core.sessionmaker() as s:
        sub = await s.scalar(select(Subscription))
        assert (sub.province, sub.groups, sub.active) == ("dong_thap", ["thuc_pham"], True)
        assert sub.topics == ["hoi_cho", "dot_danh_gia", "tap_huan"]
        assert (await s.scalar(select(User))).province == "dong_thap"


async def test_unknown_province_is_asked_again(sqlite_url, make_core):
    core = make_core(sqlite_url)
    await core.handle(msg("/dangky"))
    replies = await core.handle(msg("Atlantis"))
    assert "chưa nhận ra" in texts(replies) and "sub:p:hue" in button_data(replies)
    async with core.sessionmaker() as s:
        assert await s.scalar(select(Subscription)) is None


async def test_menu_key_starts_flow(sqlite_url, make_core):
    core = make_core(sqlite_url)
    assert "Bước" in texts(await core.handle(msg(callback="m:dangky"))) or "bước 1/3" in texts(
        await core.handle(msg(callback="m:dangky")))


async def test_opt_out_and_back(db_url, make_core):
    core = make_core(db_url)
    await _subscribe(core)
    for cmd in ("/huydangky", "/stop"):
        assert "ngừng gửi" in texts(await core.handle(msg(cmd, user="p1")))
        async with core.sessionmaker() as s:
            assert (await s.scalar(select(User))).opted_out is True
            assert (await s.scalar(select(Subscription))).active is False
    for step in ("/dangky", "sub:p:dong_thap", "sub:gd", "sub:td"):   # earlier choices are kept
        await core.handle(msg(step, user="p1") if step[0] == "/" else msg(callback=step, user="p1"))
    async with core.sessionmaker() as s:
        assert (await s.scalar(select(Subscription))).groups == ["thuc_pham"]
        assert (await s.scalar(select(User))).opted_out is False
        assert (await s.scalar(select(Subscription))).active is True
