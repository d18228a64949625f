"""Broadcast text as a validated template (in the manner of GOV.UK Notify).

An officer writes plain text with placeholders such as {{ ten }} and {{ tinh }}. The literal text
is HTML-escaped (Telegram HTML), placeholder values are autoescaped, every message gets the
opt-out line, and the rendered length is checked against each channel's limit before sending.
Unknown placeholders, other Jinja syntax, missing values or an overlong text refuse the send with
the reason (a list of Vietnamese sentences).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from core.templates import render, validation
from core.text import html_to_plain

PLACEHOLDERS = {"ten": validation("broadcast.placeholder_ten"), "tinh": validation("broadcast.placeholder_tinh")}
LIMITS = {"telegram": 4096, "zalo": 2000, "console": 4096}
_VAR = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_OTHER_JINJA = re.compile(r"\{%|%\}|\{#|#\}")


@dataclass
class Checked:
    text: str
    placeholders: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check(text: str) -> Checked:
    """Parse the officer's text: which placeholders it uses, and what is wrong with it."""
    out = Checked(text=text)
    if not text.strip():
        out.errors.append(validation("broadcast.text_empty"))
    if _OTHER_JINJA.search(text):
        out.errors.append(validation("broadcast.jinja_other"))
    for m in _VAR.finditer(text):
        name = m.group(1).strip()
        if name not in PLACEHOLDERS:
            allowed = ", ".join(f"{{{{ {k} }}}} ({v})" for k, v in PLACEHOLDERS.items())
            out.errors.append(validation("broadcast.placeholder_unknown", field=f"{{{{ {name} }}}}", allowed=allowed))
        elif name not in out.placeholders:
            out.placeholders.append(name)
    rest = _VAR.sub("", text)
    if "{{" in rest or "}}" in rest:
        out.errors.append(validation("broadcast.braces"))
    return out


def body_html(text: str, values: dict[str, str]) -> Markup:
    """Escape the literal text, substitute (escaped) values."""
    pieces, pos = [], 0
    for m in _VAR.finditer(text):
        pieces.append(escape(text[pos:m.start()]))
        pieces.append(escape(values[m.group(1).strip()]))
        pos = m.end()
    pieces.append(escape(text[pos:]))
    return Markup("").join(pieces)


def render_message(text: str, values: dict[str, str]) -> str:
    """The full message: body, then the automatic opt-out line."""
    return render("broadcast/message", body=body_html(text, values))


def missing_values(checked: Checked, values: dict[str, str]) -> list[str]:
    return [p for p in checked.placeholders if not (values.get(p) or "").strip()]


def too_long(message: str, channel: str) -> int:
    """How many characters over the channel's limit (0 when it fits)."""
    limit = LIMITS.get(channel, 4096)
    size = len(html_to_plain(message)) if channel != "telegram" else len(message)
    return max(0, size - limit)


def validate_for(checked: Checked, recipients, values_of) -> list[str]:
    """Refusal reasons for sending `checked` to `recipients` (empty list = OK to send)."""
    errors = list(checked.errors)
    if errors:
        return errors
    missing: dict[str, int] = {}
    over: dict[str, int] = {}
    for r in recipients:
        values = values_of(r)
        for p in missing_values(checked, values):
            missing[p] = missing.get(p, 0) + 1
        if not missing:
            n = too_long(render_message(checked.text, values), r.identity.channel)
            if n:
                over[r.identity.channel] = max(over.get(r.identity.channel, 0), n)
    for p, n in missing.items():
        errors.append(validation("broadcast.placeholder_missing", count=n, what=PLACEHOLDERS[p], field=f"{{{{ {p} }}}}"))
    for ch, n in over.items():
        errors.append(validation("broadcast.too_long_for", channel=ch.capitalize(), limit=LIMITS.get(ch, 4096), over=n))
    return errors
