"""`python bot.py ask`: plain, --json, stdin (one line per question); no database or token needed."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_ask(*args, stdin=None, tmp_path=None):
    env = dict(os.environ, TELEGRAM_BOT_TOKEN="",
               DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/never.db")
    p = subprocess.run([sys.executable, "bot.py", "ask", *args], cwd=ROOT, env=env, input=stdin,
                       capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_plain_answer(tmp_path):
    out = run_ask("giấy chứng nhận OCOP có hiệu lực bao lâu?", tmp_path=tmp_path)
    assert "36 tháng" in out and "Căn cứ:" in out and "<b>" not in out
    assert not (tmp_path / "missing").exists()


def test_json_answer(tmp_path):
    data = json.loads(run_ask("--json", "ocop 5 sao do ai cong nhan", tmp_path=tmp_path))
    assert set(data) == {"text", "faq_id", "score", "fallback", "suggestions"}
    assert data["faq_id"] == "len_5_sao" and data["fallback"] is False and data["score"] > 0
    assert "Bộ Nông nghiệp và Môi trường" in data["text"] and "<b>" not in data["text"]


def test_json_fallback_and_suggestions(tmp_path):
    data = json.loads(run_ask("--json", "Cách nấu phở bò ngon", tmp_path=tmp_path))
    assert data["fallback"] is True and data["faq_id"] is None
    sug = json.loads(run_ask("--json", "ho so", tmp_path=tmp_path))
    assert sug["fallback"] is False and sug["faq_id"] is None
    assert {"id": "ho_so_gom_gi", "question": "Hồ sơ đăng ký đánh giá sản phẩm OCOP gồm những gì?"} in sug["suggestions"]


def test_stdin_json_lines(tmp_path):
    out = run_ask("--json", stdin="ho so ocop gom nhung gi\nthoi tiet ha noi\n\nchào ad\n", tmp_path=tmp_path)
    lines = out.splitlines()
    assert len(lines) == 4
    rows = [json.loads(line) for line in lines]
    assert rows[0]["faq_id"] == "ho_so_gom_gi" and rows[1]["fallback"] and rows[2]["text"] == ""
    assert "Xin chào" in rows[3]["text"]


def test_stdin_plain_one_line_per_question(tmp_path):
    out = run_ask(stdin="ho so ocop gom nhung gi\ngcn ocop het han khi nao\n", tmp_path=tmp_path)
    lines = out.splitlines()
    assert len(lines) == 2
    assert "Phiếu đăng ký" in lines[0] and "36 tháng" in lines[1] and "Căn cứ:" in lines[1]
