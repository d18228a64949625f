"""The overview's and report's register figures are cached per register version kept in the database:
every write (import, claim, edit, revocation, deletion) from any instance shows at once, and expiry by the day."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update

from core.dates import expiry_date
from core.web.auth import Viewer
from handlers.console import overview, report_data
from handlers.products.importer import import_certificates
from storage.models import Certificate

NATIONAL = Viewer(user_id=1, name="A", admin=True, national=True, provinces=frozenset())
CSV = ("Tên sản phẩm,Chủ thể,Xã/phường,Tỉnh/thành,Nhóm,Số sao,Số quyết định,Ngày công nhận\n"
       "Miến dong,HTX Miến,Xã Nguyên Bình,Cao Bằng,Thực phẩm,4,12/QĐ-UBND,5/3/2025\n")


async def stars(core, today) -> dict:
    async with core.sessionmaker() as db:
        return (await overview.numbers(db, NATIONAL, today))["by_star"]


async def kinds_total(core, tu, den) -> int:
    async with core.sessionmaker() as db:
        tables = (await report_data.build(db, NATIONAL, tu, den, den, core.settings.tz))["tables"]
        return next(t for t in tables if t.key == "hinh_thuc").footer[-1]


async def test_figures_follow_every_write_from_any_instance(db_url, make_core, today):
    a, b = make_core(db_url), make_core(db_url)          # two instances on one database
    d = today.value
    assert await stars(b, d) == {3: 0, 4: 0, 5: 0}
    async with a.sessionmaker() as s:                       # an import (the console's and the CLI's importer)
        report = await import_certificates(s, CSV.encode(), "ds.csv", today=d)
        assert report.created == 1
        await s.commit()
    assert await stars(b, d) == {3: 0, 4: 1, 5: 0}
    assert await kinds_total(b, date(2025, 1, 1), d) == 1
    async with a.sessionmaker() as s:                       # an edit through the ORM
        c = await s.scalar(select(Certificate))
        c.stars = 5
        s.add(Certificate(product="Trà", producer="Hộ B", province="Đồng Tháp", group="do_uong", stars=3,
                          decision_no="1", recognized_on=date(2024, 1, 2), expires_on=expiry_date(date(2024, 1, 2))))
        await s.commit()
    assert await stars(b, d) == {3: 1, 4: 0, 5: 1}
    assert await kinds_total(b, date(2024, 1, 1), d) == 2
    async with a.sessionmaker() as s:                       # a claim-style statement, then a revocation
        await s.execute(update(Certificate).where(Certificate.stars == 5).values(owner_user_id=None, stars=4)
                        .execution_options(synchronize_session=False))
        await s.commit()
    assert await stars(b, d) == {3: 1, 4: 1, 5: 0}
    async with a.sessionmaker() as s:
        c = await s.scalar(select(Certificate).where(Certificate.stars == 4))
        c.revoked, c.revoked_on = True, d
        await s.commit()
    assert await stars(b, d) == {3: 1, 4: 0, 5: 0}
    async with a.sessionmaker() as s:                       # a rolled-back write changes nothing
        await s.execute(delete(Certificate))
        await s.rollback()
    assert await stars(b, d) == {3: 1, 4: 0, 5: 0}
    today.value = date(2027, 1, 3)                          # the 3-star one expired on 2/1/2027
    assert await stars(b, today.value) == {3: 0, 4: 0, 5: 0}
    async with a.sessionmaker() as s:
        await s.execute(delete(Certificate))
        await s.commit()
    assert await kinds_total(b, date(2024, 1, 1), d) == 0
