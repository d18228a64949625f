"""Files on the Zalo OA: a PDF up to 5 MB is uploaded (/v2.0/oa/upload/file → token) and sent as a
`file` attachment, so the producer gets the document itself; anything the OA does not take (another
type, over 5 MB, a refused upload) goes as the /tep download link. Real HTTP against the fake OA."""
import aiohttp
from sqlalchemy import func, select

from core.messages import OutFile, Reply
from storage.models import SharedFile
from tests.zalo.conftest import zalo_env  # noqa: F401  (fixture)

PDF = b"%PDF-1.4\n% danh muc ho so\n" + b"0" * 2000 + b"\n%%EOF\n"


def pdf_reply(data: bytes = PDF, name: str = "ho-so-ocop.pdf", caption: str = "Danh mục hồ sơ của bạn") -> Reply:
    return Reply(file=OutFile(name, data, "application/pdf", caption))


async def _producer(h, user="p1"):
    assert (await h.say(user, "/start"))                     # inside the 7-day window, identity known
    return user


async def _link_bytes(text: str) -> bytes:
    url = text[text.index("http"):].split()[0]
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        assert r.status == 200
        return await r.read()


async def test_a_pdf_goes_as_the_file_itself(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    user = await _producer(h)
    before = len(h.fake.texts_to(user))
    r = await h.channel.send_replies(user, [Reply("Đây là danh mục:"), pdf_reply()], remember=False)
    assert r.status == "sent"
    assert h.fake.files_to(user) == [("ho-so-ocop.pdf", PDF)]
    after = h.fake.texts_to(user)[before:]
    assert after[0] == "Đây là danh mục:" and "Danh mục hồ sơ của bạn" in after[1]
    assert not any("/tep/" in t for t in after)
    async with h.core.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SharedFile)) == 0


async def test_what_the_oa_does_not_take_goes_as_a_link(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    user = await _producer(h)
    base = h.rt.settings.base_url
    # a calendar file: never uploaded, a link that serves the bytes
    ics = Reply(file=OutFile("hoi-cho-1.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"))
    before = len(h.fake.texts_to(user))
    assert (await h.channel.send_replies(user, [ics], remember=False)).status == "sent"
    assert h.fake.upload_attempts == 0 and h.fake.files_to(user) == []
    link = h.fake.texts_to(user)[before]
    assert f"{base}/tep/" in link and await _link_bytes(link) == ics.file.content
    # a PDF over 5 MB: not uploaded either
    big = PDF + b"0" * (5 * 1024 * 1024)
    before = len(h.fake.texts_to(user))
    assert (await h.channel.send_replies(user, [pdf_reply(big)], remember=False)).status == "sent"
    assert h.fake.upload_attempts == 0 and "/tep/" in h.fake.texts_to(user)[before]
    # the OA refuses the upload: the link, with the same bytes
    h.fake.fail_upload_next(-201, "File type is not supported")
    before = len(h.fake.texts_to(user))
    assert (await h.channel.send_replies(user, [pdf_reply()], remember=False)).status == "sent"
    assert h.fake.upload_attempts == 1 and h.fake.files_to(user) == []
    assert await _link_bytes(h.fake.texts_to(user)[before]) == PDF
    # the file message itself refused as invalid (e.g. the token was not accepted): the link
    h.fake.fail_next(-201, "Parameters are invalid")
    before = len(h.fake.texts_to(user))
    assert (await h.channel.send_replies(user, [pdf_reply()], remember=False)).status == "sent"
    assert h.fake.files_to(user) == [] and "/tep/" in h.fake.texts_to(user)[before]


async def test_expired_token_is_refreshed_and_window_errors_are_not_papered_over(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    user = await _producer(h)
    h.fake.expire_access()                                   # upload answers -220: refresh once, retry
    assert (await h.channel.send_replies(user, [pdf_reply(caption="")], remember=False)).status == "sent"
    assert h.fake.files_to(user) == [("ho-so-ocop.pdf", PDF)] and len(h.fake.refresh_calls) == 1
    # -230 on the file message: outside the window, no link is tried instead
    h.fake.fail_next(-230, "user has not interacted with the OA in the past 7 days")
    sent = len(h.fake.sent)
    r = await h.channel.send_replies(user, [pdf_reply()], remember=False)
    assert r.status == "outside_window" and len(h.fake.sent) == sent


async def test_the_fake_refuses_what_the_oa_refuses(sqlite_url, zalo_env):
    h = await zalo_env("oa", sqlite_url)
    token = await h.channel.tokens.access_token()
    url = f"{h.fake.url}/v2.0/oa/upload/file"

    async def upload(name, data, mime, tok=token):
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type=mime)
        async with aiohttp.ClientSession() as s, s.post(url, data=form, headers={"access_token": tok}) as r:
            return (await r.json())

    assert (await upload("a.pdf", PDF, "application/pdf"))["data"]["token"]
    assert (await upload("a.pdf", PDF, "application/pdf", tok="nope"))["error"] == -216
    assert (await upload("a.ics", b"BEGIN:VCALENDAR", "text/calendar"))["error"] == -201
    assert (await upload("a.pdf", b"not a pdf", "application/pdf"))["error"] == -201
    assert (await upload("a.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf"))["error"] == -210
    body = {"recipient": {"user_id": "p1"}, "message": {"attachment": {"type": "file", "payload": {"token": "ft999"}}}}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{h.fake.url}/v3.0/oa/message/cs", json=body, headers={"access_token": token}) as r:
            assert (await r.json())["error"] == -201


async def test_a_file_hit_by_a_temporary_error_is_requeued_as_a_link(sqlite_url, zalo_env):
    from storage.models import Delivery
    h = await zalo_env("oa", sqlite_url)
    user = await _producer(h)
    h.fake.fail_next(-32, "rate limit")                      # the file message: back off, not lost
    r = await h.channel.send_replies(user, [pdf_reply()], remember=False, requeue_key="ev-file-1")
    assert r.status == "retry" and h.fake.files_to(user) == []
    async with h.core.sessionmaker() as s:
        rows = list(await s.scalars(select(Delivery).where(Delivery.key.like("zalo:reply:ev-file-1:%"))))
    assert len(rows) == 1 and "/tep/" in rows[0].payload["text"]
