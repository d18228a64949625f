"""Recognition date -> expiry and the re-evaluation filing window.

Expiry: 36 months from recognition (Decision 26/2026/QĐ-TTg, Điều 4.3), computed by
core.dates.expiry_date like the register. Filing window for re-evaluation (Điều 7.6a): no earlier
than 180 days and no later than 120 days before expiry. Transition (Điều 12): a product due for
re-evaluation that could not meet the new window keeps its certificate until the authority's
decision, at most 180 days after expiry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.dates import VALIDITY_MONTHS, add_months, expiry_date

BASIS = ("QĐ 26/2026/QĐ-TTg ngày 22/5/2026, Điều 4.3 (36 tháng), Điều 7.6a (thời hạn nộp hồ sơ đánh giá lại), "
         "Điều 12 (chuyển tiếp)")
OPEN_DAYS = 180
CLOSE_DAYS = 120
IN_FORCE = date(2026, 5, 22)          # Decision 26/2026 in force
GRACE_DAYS = 180                       # Điều 12: at most 180 days after expiry


@dataclass(frozen=True)
class Window:
    recognized_on: date | None        # None when the expiry date itself was given
    expires_on: date
    opens: date                       # first day to file the re-evaluation dossier
    closes: date                      # last day to file it

    @property
    def transition(self) -> bool:
        """The window closed before Decision 26/2026 took effect, the certificate had not expired."""
        return self.closes < IN_FORCE <= self.expires_on

    @property
    def before_rules(self) -> bool:
        """Expired before Decision 26/2026 took effect: its filing window did not apply then."""
        return self.expires_on < IN_FORCE

    @property
    def grace_until(self) -> date:
        return self.expires_on + timedelta(days=GRACE_DAYS)

    def status(self, today: date) -> str:
        """before | open | late (window passed, still valid) | expired."""
        if today > self.expires_on:
            return "expired"
        if today > self.closes:
            return "late"
        return "open" if today >= self.opens else "before"


def from_expiry(expires_on: date, recognized_on: date | None = None) -> Window:
    return Window(recognized_on, expires_on, expires_on - timedelta(days=OPEN_DAYS),
                  expires_on - timedelta(days=CLOSE_DAYS))


def from_recognition(recognized_on: date) -> Window:
    return from_expiry(expiry_date(recognized_on), recognized_on)


def expiry_month(year: int, month: int) -> tuple[int, int]:
    """Recognised in month/year (day unknown) -> (year, month) of expiry."""
    d = add_months(date(year, month, 1), VALIDITY_MONTHS)
    return d.year, d.month
