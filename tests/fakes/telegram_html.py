"""Telegram HTML parse mode as the Bot API checks it: whitelisted tags, proper nesting, escaped text.

parse_html(text) returns the plain text (what Telegram counts for the 4096/1024 limits) or raises
EntityError with a description in Telegram's wording ("can't parse entities: …").
"""
from __future__ import annotations

import re

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                "tg-emoji", "code", "pre", "blockquote"}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]*);")


class EntityError(ValueError):
    """The text is not valid Telegram HTML."""


def utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode())


def _check_attrs(name: str, attrs: str, text: str, i: int) -> None:
    if name == "span" and "tg-spoiler" not in attrs:
        raise EntityError(f"can't parse entities: Tag \"span\" must have class \"tg-spoiler\" at byte offset "
                          f"{_offset(text, i)}")
    if name == "a" and attrs.strip() and "href" not in attrs:
        raise EntityError(f"can't parse entities: Unsupported attribute in tag \"a\" at byte offset "
                          f"{_offset(text, i)}")


def parse_html(text: str) -> str:
    """Validate Telegram HTML and return the visible plain text."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if m is None:
                word = re.match(r"</?([^\s>]*)", text[i:]).group(1)
                raise EntityError(f"can't parse entities: Unsupported start tag \"{word}\" at byte offset "
                                  f"{_offset(text, i)}")
            closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3) or ""
            if name not in ALLOWED_TAGS:
                kind = "end" if closing else "start"
                raise EntityError(f"can't parse entities: Unsupported {kind} tag \"{name}\" at byte offset "
                                  f"{_offset(text, i)}")
            if closing:
                if not stack:
                    raise EntityError(f"can't parse entities: Unexpected end tag at byte offset {_offset(text, i)}")
                if stack[-1] != name:
                    raise EntityError(f"can't parse entities: Can't find end tag corresponding to start tag "
                                      f"\"{stack[-1]}\"")
                stack.pop()
            else:
                _check_attrs(name, attrs, text, i)
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                raise EntityError(f"can't parse entities: Character entity expected at byte offset "
                                  f"{_offset(text, i)}")
            ent = m.group(1)
            if ent.startswith("#"):
                code = int(ent[2:], 16) if ent[1] in "xX" else int(ent[1:])
                if code > 0x10FFFF:
                    raise EntityError(f"can't parse entities: Invalid character entity at byte offset "
                                      f"{_offset(text, i)}")
                out.append(chr(code))
            elif ent in NAMED_ENTITIES:
                out.append(NAMED_ENTITIES[ent])
            else:
                raise EntityError(f"can't parse entities: Unsupported HTML entity \"&{ent};\" at byte offset "
                                  f"{_offset(text, i)}")
            i = m.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise EntityError(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)
