"""Helpers for certificate tests: spreadsheet bytes, seeded users/certificates, a recording sender."""
from __future__ import annotations

import csv
import io
from datetime import date

from core.dates import expiry_date
from delivery.outcome import SendResult
from storage.models import Certificate, Identity, User

HEADER = ["Tên sản phẩm", "Chủ thể", "Số điện thoại", "Xã/phường", "Tỉnh/thành", "Nhóm", "Số sao",
          "Số quyết định", "Ngày công nhận"]
GOOD = [
    ["Mật ong U Minh", "HTX Ong Mật", "0912 345 678", "Xã U Minh", "Cà Mau", "Thực phẩm", "4", "12/QĐ-UBND", "5/3/2024"],
    ["Trà sen Tháp Mười", "Cơ sở Sen Hồng", "+84987654321", "Xã Mỹ Hòa", "Tiền Giang", "Đồ uống", "3 sao", "45/QĐ-UBND", "10-01-2023"],
    ["Nón lá Huế", "Làng nghề Phú Cam", "", "Phường Phú Hội", "Huế", "Hàng thủ công mỹ nghệ", "3", "7/QĐ-UBND", "20/08/22"],
]

# invalid rows; with GOOD above them they are on lines 5..12 of a CSV
BAD = [
    ["Bánh pía", "A", "0912000001", "", "Sóc Trăng", "Thực phẩm", "4", "1/QĐ", "31/2/2024"],
    ["Bánh tét", "A", "", "", "Tỉnh Không Có", "Thực phẩm", "3", "2/QĐ", "1/1/2024"],
    ["Khô cá", "A", "", "", "Cà Mau", "Thực phẩm", "6", "3/QĐ", "1/1/2024"],
    ["Muối", "A", "", "", "Cà Mau", "Đồ chơi", "3", "4/QĐ", "1/1/2024"],
    ["Mắm", "A", "", "", "Cà Mau", "Thực phẩm", "3", "5/QĐ", "1/12/2026"],
    ["Mật ong rừng", "HTX", "", "", "Cà Mau", "Thực phẩm", "4", "12/QĐ-UBND", "5/3/2024"],
    ["mật ong  rừng", "HTX", "", "", "Cà Mau", "Thực phẩm", "4", "12/QĐ-UBND", "5/3/2024"],
    ["Gạo", "A", "12345", "", "Cà Mau", "Thực phẩm", "3", "6/QĐ", "1/1/2024"],
]


def csv_bytes(rows, header=HEADER, delimiter=",", bom=False) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER, blank_top=0) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    for _ in range(blank_top):
        ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def add_user(session, key: str, channel: str = "console", active: bool = True) -> User:
    user = User(display_name=key)
    session.add(user)
    await session.flush()
    session.add(Identity(user_id=user.id, channel=channel, external_id=key, chat_id=key, active=active))
    await session.flush()
    return user


async def add_cert(session, owner_id=None, product="Mật ong", recognized=date(2024, 3, 5), phone=None,
                   province="Đồng Tháp", decision="1/QĐ-UBND", muted=False, source="user") -> Certificate:
    cert = Certificate(owner_user_id=owner_id, product=product, producer="Cơ sở A", phone=phone,
                       province=province, group="thuc_pham", stars=3, decision_no=decision,
                       recognized_on=recognized, expires_on=expiry_date(recognized), muted=muted, source=source)
    session.add(cert)
    await session.flush()
    return cert


class RecordingSender:
    """Stands in for a channel: records what would be sent; can answer 'blocked' for some chats."""

    def __init__(self, blocked=(), fail_on=None):
        self.sent: list[tuple[str, str]] = []
        self.blocked = set(blocked)
        self.fail_on = fail_on

    async def send(self, chat_id, reply):
        if self.fail_on:
            self.fail_on(chat_id)
        if chat_id in self.blocked:
            return SendResult("blocked", error="Forbidden: bot was blocked by the user", deactivate=True)
        self.sent.append((chat_id, reply.text))
        return SendResult.ok(str(len(self.sent)))
