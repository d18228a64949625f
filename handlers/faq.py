"""Placeholder FAQ handler (replaced by the FAQ engine)."""
from core.messages import Reply


async def answer(ctx, msg):
    return Reply("Tôi chưa có câu trả lời cho câu hỏi này.")


def register(router) -> None:
    router.text = answer
