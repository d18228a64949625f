"""Reply -> Telegram messages: valid HTML, chunks under 4096 characters, keyboards, documents.

Template text is already escaped (Jinja2 autoescape); `safe_html` still guarantees that whatever
reaches Telegram parses: allowed tags are kept (and balanced), every other `<`, `>` or `&` is escaped.
"""
from __future__ import annotations

import html
import re
import warnings

from telegram import InputFile, KeyboardButton, LinkPreviewOptions, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.constants import ParseMode
from telegram.warnings import PTBUserWarning

from core.messages import Reply
from core.text import split_text

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHUNK = 3900                 # room for tags re-opened across a split
CONTACT_LABEL = "📱 Gửi số điện thoại của tôi"
CONTACT_PROMPT = "👇 Bấm nút bên dưới để gửi số điện thoại."

_ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "blockquote"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z]+)((?:\s+[a-zA-Z-]+=\"[^\"<>]*\")*)\s*>|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);"
                    r"|[<>&]")


def safe_html(text: str) -> str:
    """Keep the Telegram tag subset (balanced), escape any stray markup characters."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        tok = m.group(0)
        name = (m.group(2) or "").lower()
        if tok in "<>&":
            out.append(html.escape(tok, quote=False))
        elif tok.startswith("&"):
            out.append(tok)
        elif name not in _ALLOWED or (name == "a" and not m.group(1) and "href=" not in (m.group(3) or "")):
            out.append(html.escape(tok, quote=False))
        elif m.group(1):                      # closing tag
            if name in stack:
                while stack[-1] != name:
                    out.append(f"</{stack.pop()}>")
                stack.pop()
                out.append(f"</{name}>")
            else:
                out.append(html.escape(tok, quote=False))
        else:
            stack.append(name)
            out.append(f"<{name}{m.group(3) or ''}>")
    out.append(text[pos:])
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def _open_tags(chunk: str) -> list[str]:
    """Opening tags (with attributes) still open at the end of a valid chunk."""
    stack: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(chunk):
        if m.group(2):
            name = m.group(2).lower()
            if m.group(1):
                if stack and stack[-1][0] == name:
                    stack.pop()
            else:
                stack.append((name, m.group(0)))
    return [tag for _, tag in stack]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = CHUNK) -> list[str]:
    """Chunks Telegram accepts: it counts UTF-16 units, so an emoji counts twice; smaller chunks until all fit."""
    chunks = _split_html(text, limit)
    while limit > 100 and any(_utf16(c) > MAX_TEXT for c in chunks):
        limit //= 2
        chunks = _split_html(text, limit)
    return chunks


def _split_html(text: str, limit: int) -> list[str]:
    """split_text on line boundaries, closing tags at a chunk's end and re-opening them in the next."""
    chunks = split_text(text, limit)
    if len(chunks) == 1:
        return chunks
    out, carry = [], []
    for chunk in chunks:
        chunk = "".join(carry) + chunk
        carry = _open_tags(chunk)
        closing = "".join(f"</{re.match(r'<([a-zA-Z]+)', t).group(1)}>" for t in reversed(carry))
        out.append(safe_html(chunk + closing))      # a hard-cut line may have split a tag
    return out


def inline_markup(reply: Reply) -> dict | None:
    """The reply's inline keyboard as the Bot API's JSON (PTB sends a dict as it is: no
    InlineKeyboardButton objects to build and serialise again for every message)."""
    rows = [[{"text": b.label, "url": b.url} if b.url else {"text": b.label, "callback_data": b.data} for b in row]
            for row in reply.buttons if row]
    return {"inline_keyboard": rows} if rows else None


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup([[KeyboardButton(CONTACT_LABEL, request_contact=True)]], resize_keyboard=True,
                               one_time_keyboard=True)


# send_text calls sendMessage through Bot.do_api_request on purpose (see there); PTB suggests send_message
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning)


async def send_text(bot, chat_id: int | str, text: str, *, reply_markup=None, no_preview: bool = False,
                    rate_limit_args: dict | None = None) -> str:
    """sendMessage (HTML) through the bot's rate limiter; returns the new message's id.

    Bot.send_message would turn Telegram's answer into a Message (chat, sender, entities, keyboard),
    about a tenth of the CPU of a whole FAQ update, only for its id: do_api_request returns the
    answer as Telegram sent it. It raises the same errors (RetryAfter, BadRequest, …)."""
    kwargs = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if reply_markup is not None:
        kwargs["reply_markup"] = reply_markup
    if no_preview:
        kwargs["link_preview_options"] = LinkPreviewOptions(is_disabled=True)
    extra = {"rate_limit_args": rate_limit_args} if rate_limit_args else {}
    result = await bot.do_api_request("sendMessage", api_kwargs=kwargs, **extra)
    return str(result["message_id"]) if isinstance(result, dict) else ""


async def send_reply(bot, chat_id: int | str, reply: Reply, *, remove_keyboard: bool = False,
                     rate_limit_args: dict | None = None) -> list[str]:
    """Send one Reply: text chunks, then the file; the keyboard goes on the last message. Returns the
    ids of the messages sent.

    Each message is awaited before the next, so a message the rate limiter sends again after a 429
    keeps its place. `rate_limit_args` reach the bot's rate limiter (channels.telegram_limiter)."""
    kw = {"rate_limit_args": rate_limit_args} if rate_limit_args else {}
    text = safe_html(reply.text or "")
    markup = inline_markup(reply)
    caption = safe_html(reply.file.caption) if reply.file else ""
    if reply.file and len(caption) > MAX_CAPTION:
        text, caption = (f"{text}\n\n{caption}" if text else caption), ""
    chunks = split_html(text) if text.strip() else []
    sent: list[str] = []
    contact_in_text = reply.request_contact and markup is None and not reply.file
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        kb = None
        if last and not reply.file:
            kb = markup or (contact_keyboard() if contact_in_text else None)
            if kb is None and remove_keyboard:
                kb = ReplyKeyboardRemove()
        sent.append(await send_text(bot, chat_id, chunk, reply_markup=kb, no_preview=reply.no_preview, **kw))
    if reply.file:
        doc = InputFile(reply.file.content, filename=reply.file.filename)
        message = await bot.send_document(chat_id, doc, caption=caption or None, reply_markup=markup, **kw)
        sent.append(str(message.message_id))
    if reply.request_contact and not contact_in_text:
        sent.append(await send_text(bot, chat_id, CONTACT_PROMPT, reply_markup=contact_keyboard(), **kw))
    return sent
