"""LOG_FILE: the logs as one JSON object per line in a file that logrotate can rotate.

WatchedFileHandler reopens the file when logrotate has moved it away, so the rotation needs
neither copytruncate nor a signal (deploy/logrotate). Lines whose message is itself a JSON object
(the per-update line of core/app.py) are merged into the record.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import datetime, timezone
from pathlib import Path


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name}
        message = record.getMessage()
        try:
            data = json.loads(message) if message.startswith("{") else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            out.update(data)
        else:
            out["msg"] = message
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_to_file(path: str) -> logging.Handler | None:
    if not path:
        return None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as exc:          # e.g. a command run as another user: log to stderr only
        logging.getLogger("ocop").warning("LOG_FILE %s cannot be written (%s): logging to stderr only", path, exc)
        return None
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    return handler
