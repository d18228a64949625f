"""«Hồ sơ» /quantri/ho-so: the funnel read from the walks producers made in the bot; province scope."""
from __future__ import annotations

import re

from sqlalchemy import select, update

from flows import dossier as flow
from storage.models import Identity, User
from tests.dossier.test_dossier_core import PROFILE, answer_buttons, current_node, tap
from tests.helpers import msg
from tests.web.conftest import console, serve  # noqa: F401  (fixtures)


async def _province(core, user: str, province: str) -> None:
    async with core.sessionmaker() as s:
        uid = await s.scalar(select(Identity.user_id).where(Identity.external_id == user))
        await s.execute(update(User).where(User.id == uid).values(province=province))
        await s.commit()


async def _walks(core) -> dict[str, str]:
    """Four producers: three in Cao Bằng (opened only / stopped at a document / finished), one in Đồng Tháp."""
    await core.handle(msg("/hoso", user="p1"))
    replies = await answer_profile_as(core, "p2")
    replies = await answer_documents_as(core, "p2", replies, stop_after=2)
    stop_p2 = current_node(replies)
    replies = await answer_profile_as(core, "p3")
    await answer_documents_as(core, "p3", replies)
    replies = await answer_profile_as(core, "p4")
    await answer_documents_as(core, "p4", replies, pattern=("chua",), stop_after=1)
    for user, prov in (("p1", "cao_bang"), ("p2", "cao_bang"), ("p3", "cao_bang"), ("p4", "dong_thap")):
        await _province(core, user, prov)
    return {"p2": stop_p2}


async def answer_profile_as(core, user):
    replies = await core.handle(msg("/hoso", user=user))
    for node, option in PROFILE:
        replies = await tap(core, f"d:a:{node}:{option}", user=user)
    return replies


async def answer_documents_as(core, user, replies, pattern=("co", "chua"), stop_after=None):
    n = 0
    while answer_buttons(replies) and (stop_after is None or n < stop_after):
        replies = await tap(core, f"d:a:{current_node(replies)}:{pattern[n % len(pattern)]}", user=user)
        n += 1
    return replies


def _row(body: str, attr: str) -> str:
    start = body.index(attr)
    return body[start:body.index("</tr>", start)]


def _numbers(body: str, attr: str) -> list[int]:
    """The figures of one table row: (reached, stopped) or («Chưa có», asked)."""
    return [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', _row(body, attr))]


async def test_funnel_counts_stops_and_missing_documents_in_scope(console):
    core = console.core
    stops = await _walks(core)
    first_doc = flow.first_document(dict(PROFILE))
    await console.as_("officer", "cao_bang")
    r = await console.get("/quantri/ho-so")
    body = await r.text()
    assert r.status == 200
    assert 'id="started">3<' in body and 'id="done">1<' in body and 'id="stopped">2<' in body
    assert 'data-node="goal"' in body                                     # p1 opened /hoso, answered nothing
    assert _numbers(body, 'data-node="goal"') == [3, 1]
    assert _numbers(body, f'data-node="{stops["p2"]}"')[1] == 1           # p2 stopped at its third document
    # "Chưa có": the second document (p2 and p3 answered co, chua, ...); p4 (Đồng Tháp) is not counted
    doc2 = flow.after_document(first_doc, dict(PROFILE))
    assert _numbers(body, f'data-doc="{flow.doc_id(doc2)}"') == [2, 2]
    assert f'data-doc="{flow.doc_id(first_doc)}"' not in body
    # p1 answers the first question: the next view shows it (the remembered walk is replayed again)
    await tap(core, "d:a:goal:lan_dau", user="p1")
    body = await (await console.get("/quantri/ho-so")).text()
    assert _numbers(body, 'data-node="goal"') == [3, 0] and _numbers(body, 'data-node="producer"')[1] == 1
    # another province by URL: refused; an unknown one: a clear message
    assert (await console.get("/quantri/ho-so?tinh=Đồng Tháp")).status == 403
    r = await console.get("/quantri/ho-so?tinh=Atlantis")
    assert r.status == 400 and "Không có tỉnh/thành" in await r.text()

    await console.as_("national", None)
    body = await (await console.get("/quantri/ho-so")).text()
    assert 'id="started">4<' in body and f'data-doc="{flow.doc_id(first_doc)}"' in body
    body = await (await console.get("/quantri/ho-so?tinh=Đồng Tháp")).text()
    assert 'id="started">1<' in body and 'id="done">0<' in body


async def test_sign_in_and_read_only(console):
    await console.get("/quantri/")
    assert (await console.get("/quantri/ho-so")).status == 401
    await console.as_("none")
    assert (await console.get("/quantri/ho-so")).status in (401, 403)
    await console.as_("officer", "cao_bang")
    body = await (await console.get("/quantri/ho-so")).text()
    assert 'id="started">0<' in body and 'href="/quantri/ho-so"' in body          # in the menu
    assert (await console.post("/quantri/ho-so", {})).status == 405                # nothing to change here
