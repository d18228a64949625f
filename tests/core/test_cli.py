"""The command-line contract of bot.py: run fallback, console, migrate (real subprocesses)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bot(args, db_path, stdin=None, timeout=60, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}", "TELEGRAM_BOT_TOKEN": "", "ZALO_MODE": ""})
    env.update(extra_env or {})
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=str(ROOT),
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def test_run_without_channel_and_without_terminal_exits_nonzero(tmp_path):
    res = run_bot(["run"], tmp_path / "a.db")
    assert res.returncode != 0
    assert "TELEGRAM_BOT_TOKEN" in res.stderr and "ZALO" in res.stderr


def test_default_command_is_run(tmp_path):
    res = run_bot([], tmp_path / "a.db")
    assert res.returncode != 0 and "TELEGRAM_BOT_TOKEN" in res.stderr


def test_migrate_creates_schema(tmp_path):
    res = run_bot(["migrate"], tmp_path / "m.db")
    assert res.returncode == 0, res.stderr
    import sqlite3
    con = sqlite3.connect(tmp_path / "m.db")
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"users", "identities", "deliveries", "certificates", "alembic_version"} <= tables
    again = run_bot(["migrate"], tmp_path / "m.db")
    assert again.returncode == 0


def test_console_chat_shows_numbered_menu_and_follows_choices(tmp_path):
    res = run_bot(["console"], tmp_path / "c.db", stdin="/xyz\n/huy\n")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "1. ❓ Hỏi đáp OCOP" in out and "6. 👤 Liên hệ cán bộ" in out
    assert "Tôi chưa hiểu lệnh /xyz" in out
    assert "<b>" not in out


def test_run_with_terminal_and_no_channel_falls_back_to_console(tmp_path):
    import pty
    import time
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", "TELEGRAM_BOT_TOKEN": ""})
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=str(ROOT), text=True)
    os.close(slave)
    try:
        time.sleep(0.5)
        os.write(master, b"/xyz\n")
        time.sleep(0.5)
        os.write(master, b"\x04")     # Ctrl+D: end of input on the terminal
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "chế độ dòng lệnh" in out
    assert "Tôi chưa hiểu lệnh /xyz" in out
    assert '"ev": "update"' not in err          # the terminal is the conversation: no per-update log lines
