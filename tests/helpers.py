"""Small helpers to talk to the neutral core in tests."""
from __future__ import annotations

from contextlib import asynccontextmanager

from core.messages import Incoming, Reply


def msg(text: str = "", *, user: str = "u1", channel: str = "console", callback: str = "", **kw) -> Incoming:
    return Incoming(channel=channel, user_key=user, chat_id=user, text=text, callback=callback,
                    display_name=kw.pop("name", "Nguyễn Văn A"), **kw)


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def ids(replies: list[Reply]) -> list[str]:
    """The content template of each reply ("" for text not made from a template)."""
    return [r.template for r in replies]


def data_of(replies: list[Reply], template: str) -> dict:
    """The values the reply made from `template` was rendered with."""
    return next(r.data for r in replies if r.template == template)


def buttons(replies: list[Reply]) -> list:
    return [b for r in replies for row in r.buttons for b in row]


def button_data(replies: list[Reply]) -> list[str]:
    return [b.data for b in buttons(replies)]


def find_button(replies: list[Reply], label_part: str):
    for b in buttons(replies):
        if label_part.lower() in b.label.lower():
            return b
    raise AssertionError(f"no button containing {label_part!r} in {[b.label for b in buttons(replies)]}")


@asynccontextmanager
async def local_http(routes: list[tuple[str, str, object]]):
    """A small aiohttp server on 127.0.0.1 standing in for a remote endpoint; yields its root URL.

    routes: (method, path, handler), e.g. ("POST", "/telegram", hook).
    """
    from aiohttp import web
    app = web.Application()
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
