"""What a channel sender reports for one attempt."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

@dataclass
class SendResult:
    status: str                    # sent | retry | blocked | failed | outside_window | quota | unreachable
    error: str = ""
    retry_after: float | None = None   # seconds; set for flood control (429) -> global pause
    message_id: str = ""
    deactivate: bool = False       # mark the identity inactive (blocked / deactivated / chat not found)
    not_before: datetime | None = None  # retry this row (only) at that time, not an attempt (ZNS night/quota)

    @classmethod
    def ok(cls, message_id: str = "") -> "SendResult":
        return cls("sent", message_id=str(message_id or ""))


NO_SENDER = "no sender for channel "    # last_error of a row no running process can send (queue age counts it)
