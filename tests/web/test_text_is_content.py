"""Text is content: the console's pages, the call list and the broadcasts keep what a user reads in
content/vi/ (web_texts.yml, validation.yml, web_errors.yml, templates/), not in Python string constants."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]", re.I)
MODULES = sorted({*(ROOT / "handlers").glob("*/web.py"), *(ROOT / "core" / "web").glob("*.py"),
                  *(ROOT / p for p in ("handlers/reach/console.py", "handlers/reach/calllist.py",
                                       "handlers/roles/web.py", "handlers/console/imports.py",
                                       "handlers/console/listing.py", "handlers/console/product.py",
                                       "handlers/broadcast/runner.py", "handlers/broadcast/templates.py",
                                       "handlers/fairs/repo.py"))})
MATCHING_DATA = {"COLUMNS"}          # the header names an import recognises (field -> aliases): data, not messages


def vietnamese_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))                                   # docstrings
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in MATCHING_DATA for t in node.targets):
            skip |= {id(n) for n in ast.walk(node.value)}
    return [f"{path.relative_to(ROOT)}:{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
            and VIETNAMESE.search(n.value)]


def test_the_modules_exist():
    assert len(MODULES) >= 20 and all(p.is_file() for p in MODULES)


def test_no_vietnamese_string_constant_in_console_modules():
    found = [line for path in MODULES for line in vietnamese_constants(path)]
    assert not found, "\n".join(found)
