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
