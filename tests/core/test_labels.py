"""Button labels are content (content/vi/buttons.yml): every key the code uses exists, none is unused."""
import re
from pathlib import Path

from core.templates import label, labels

ROOT = Path(__file__).resolve().parents[2]
USE = re.compile(r'label\(f?"([a-z_]+)\.([a-z_{}]+)"')


def used_keys() -> set[str]:
    keys = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        for section, name in USE.findall(path.read_text(encoding="utf-8")):
            keys.add(f"{section}.{name}")
    return keys


def test_every_label_used_in_code_exists_and_none_is_unused():
    defined = {f"{s}.{k}" for s, items in labels().items() for k in items}
    used = used_keys()
    dynamic = {k for k in used if "{" in k}                       # label(f"products.field_{f}")
    plain = used - dynamic
    assert plain <= defined, plain - defined
    patterns = [re.compile(re.escape(k).replace(r"\{", "{").split("{")[0] + ".*") for k in dynamic]
    unused = {k for k in defined - plain if not k.startswith("menu.") and not any(p.fullmatch(k) for p in patterns)}
    assert not unused, unused


def test_placeholders_are_filled():
    assert label("broadcast.cancel", id=12).endswith("#12")
    assert label("fairs.month", month="12", year="2026") == "Tháng 12/2026"


VALIDATION_USE = re.compile(r'validation\(\s*"([a-z_]+)\.([a-z_]+)"')
# a key passed on as a value, as the fairs' date checks do: _date(…, "fairs.start")
VALIDATION_PASSED = re.compile(r'"((?:fairs|rounds|products|dates|tables|roles|faq|broadcast|records)\.[a-z_]+)"')


def test_every_validation_message_used_in_code_exists_and_none_is_unused():
    from core.templates import VALIDATION, _texts
    defined = {f"{s}.{k}" for s, items in _texts(VALIDATION).items() for k in items}
    used = set()
    for folder in ("core", "handlers", "channels", "delivery", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            used |= {f"{s}.{n}" for s, n in VALIDATION_USE.findall(text)}
            if "validation(" in text:
                used |= set(VALIDATION_PASSED.findall(text)) & defined
    assert used <= defined, used - defined
    assert defined <= used, defined - used


def test_every_web_error_page_used_in_code_exists_and_none_is_unused():
    from core.templates import WEB_ERRORS, _texts
    from core.web.app import ERRORS
    defined = _texts(WEB_ERRORS)
    used = set(ERRORS.values())
    for folder in ("core", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r'error_page\(request, \d+, "([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used == set(defined)
    assert all(set(entry) == {"heading", "message"} for entry in defined.values())


WEB_TEXT_USE = re.compile(r'web_texts?\(\s*"([a-z_.-]+)"')
QUOTED_KEY = re.compile(r'"([a-z_]+(?:\.[a-z_-]+)+)"')


def _leaves(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1]


def test_every_console_text_used_in_code_exists_and_none_is_unused():
    """content/vi/web_texts.yml: web_text("a.b") and web_texts("a") (a whole table) name keys that exist;
    every key is read by some code (a key passed on as a value, "faq.edit_title" if … else …, counts)."""
    from core.templates import WEB_TEXTS, _texts
    defined = set(_leaves(_texts(WEB_TEXTS)))
    nodes = {".".join(k.split(".")[:i]) for k in defined for i in range(1, k.count(".") + 2)}
    called, quoted = set(), set()
    for folder in ("core", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "web_text" in text:
                called |= set(WEB_TEXT_USE.findall(text))
                quoted |= set(QUOTED_KEY.findall(text)) & nodes
    assert called <= nodes, called - nodes
    used = called | quoted
    unused = {k for k in defined if not any(k == u or k.startswith(u + ".") for u in used)}
    assert not unused, unused
