"""Jinja2 rendering of the content/ templates (HTML autoescape, StrictUndefined)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from core.config import ROOT
from core.messages import Reply
from core.reference import province_name

TEMPLATE_DIR = ROOT / "content" / "vi" / "templates"
LABELS = ROOT / "content" / "vi" / "buttons.yml"
VALIDATION = ROOT / "content" / "vi" / "validation.yml"
WEB_ERRORS = ROOT / "content" / "vi" / "web_errors.yml"
WEB_TEXTS = ROOT / "content" / "vi" / "web_texts.yml"


def _vn_date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _vn_number(value) -> str:
    return f"{int(value):,}".replace(",", ".")


@lru_cache(maxsize=4)
def environment(path: str = str(TEMPLATE_DIR)) -> Environment:
    # templates ship with the code (a content change is a deploy and a restart): no stat() per render
    env = Environment(loader=FileSystemLoader(path), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, auto_reload=False)
    env.filters["vndate"] = _vn_date
    env.filters["vnnum"] = _vn_number
    env.filters["province"] = province_name        # a stored province id -> its official name
    return env


def render(name: str, /, **ctx) -> str:
    """Render content/vi/templates/<name>.j2 (name without extension)."""
    return environment().get_template(f"{name}.j2").render(**ctx).strip()


@lru_cache(maxsize=4)
def _texts(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def labels() -> dict:
    return _texts(LABELS)


def _entry(path: Path, key: str):
    node = _texts(path)
    for part in key.split("."):
        node = node[part]
    return node


def _text(path: Path, key: str, values: dict) -> str:
    text = _entry(path, key)
    return text.format(**values) if values else text


def label(key: str, /, **values) -> str:
    """A button label from content/vi/buttons.yml: "products.add"; {placeholders} filled from values."""
    return _text(LABELS, key, values)


def validation(key: str, /, **values) -> str:
    """What was wrong with some input, from content/vi/validation.yml: "fairs.name_missing"."""
    return _text(VALIDATION, key, values)


def web_error(key: str, /, **values) -> str:
    """Heading or message of a console error page, from content/vi/web_errors.yml: "csrf.heading"."""
    return _text(WEB_ERRORS, key, values)


def web_text(key: str, /, **values) -> str:
    """A word or message of the officers' console, from content/vi/web_texts.yml: "calls.already_called"."""
    return _text(WEB_TEXTS, key, values)


def web_texts(key: str, /) -> dict | list:
    """A table of console words (code -> what the officer reads, or column headings), from
    content/vi/web_texts.yml: "broadcast.status"."""
    return _entry(WEB_TEXTS, key).copy()


def reply(name: str, /, buttons=None, *, file=None, request_contact: bool = False, **ctx) -> Reply:
    """A Reply whose text is the template `name` rendered with ctx; it carries the template id and data."""
    return Reply(render(name, **ctx), buttons or [], file=file, request_contact=request_contact,
                 template=name, data=ctx)


def render_string(source: str, **ctx) -> str:
    return environment().from_string(source).render(**ctx).strip()


__all__ = ["render", "reply", "label", "validation", "web_error", "web_text", "web_texts", "render_string", "environment", "Markup", "escape", "TEMPLATE_DIR", "Path"]
