"""`python bot.py run` with TELEGRAM_BOT_TOKEN talks to the Bot API at TELEGRAM_API_URL and stops cleanly."""
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_bot(tg, sqlite_url) -> subprocess.Popen:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.url, "DATABASE_URL": sqlite_url,
           "WEBHOOK_URL": "", "ZALO_MODE": "", "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(free_port())}
    return subprocess.Popen([sys.executable, "bot.py", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def terminate(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30)
    return code, proc.stderr.read()


async def test_bot_run_polls_answers_and_stops_on_sigterm(tg, sqlite_url):
    proc = spawn_bot(tg, sqlite_url)
    try:
        await tg.wait_for(lambda: tg.call_counts["deletewebhook"] > 0 or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.stderr.read()
        assert tg.commands[("default", "")]
        tg.push_command(31337, "start")
        [menu] = await tg.wait_sent(1, chat_id=31337, timeout=15)
        assert "OCOP" in menu.text and len(menu.buttons()) == 7
    finally:
        code, err = await terminate(proc)
    assert code == 0, err
    assert '"channel": "telegram"' in err and "31337" in err           # structured update log line


async def test_sigterm_during_start_up_stops_cleanly(tg, sqlite_url):
    """A stop asked while the bot is still starting (here: right at getMe) waits for start-up, then stops."""
    proc = spawn_bot(tg, sqlite_url)
    try:
        await tg.wait_for(lambda: tg.call_counts["getme"] > 0 or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.stderr.read()
    finally:
        code, err = await terminate(proc)
    assert code == 0, err
