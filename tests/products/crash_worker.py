"""Run as a separate process by test_reminders: a delivery worker that really dies (os._exit).

    python tests/products/crash_worker.py DATABASE_URL claim   # claims the due rows, dies before sending
    python tests/products/crash_worker.py DATABASE_URL send    # dies inside the channel call
"""
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from delivery.senders import Senders  # noqa: E402
from delivery.worker import DeliveryWorker  # noqa: E402
from storage.db import make_engine, make_sessionmaker  # noqa: E402


class DieInsideTheCall:
    async def send(self, chat_id, reply):
        os._exit(3)


async def main(url: str, mode: str) -> None:
    worker = DeliveryWorker(make_sessionmaker(make_engine(url)), Senders(console=DieInsideTheCall()),
                            rate=1000, per_chat_interval=0)
    rows = await worker.claim()
    print(len(rows), flush=True)
    if mode == "claim":
        os._exit(3)
    await worker.send_one(rows[0])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
