"""Feature handlers. Each module exposes register(router); order matters only for the menu.

Handlers are channel-neutral: (Ctx, Incoming) -> Reply | list[Reply] | None.
"""
from __future__ import annotations

from importlib import import_module

from core.router import MenuItem, Router

# main menu: key -> label (callback "m:<key>"); a feature module attaches the handler
MENU = [
    ("faq", "❓ Hỏi đáp OCOP"),
    ("hoso", "📋 Hướng dẫn hồ sơ"),
    ("sanpham", "⭐ Sản phẩm của tôi / nhắc hạn"),
    ("hoicho", "🎪 Hội chợ & đợt đánh giá"),
    ("dangky", "🔔 Đăng ký nhận tin"),
    ("lienhe", "👤 Liên hệ cán bộ"),
    ("tuchamdiem", "📝 Tự chấm điểm sơ bộ"),   # appended: earlier items keep their numbers on Zalo/console
]

MODULES = [
    "start",          # /start, /help, /huy, menu, unknown commands
    "faq",            # free-text questions, suggestions, feedback, question to an officer
    "dossier",        # /hoso guided dossier walkthrough (issue 3)
    "selfassess",     # /tuchamdiem self-assessment pre-score on the Decision 26/2026 sheets (issue 13)
    "products",       # /sanpham certificates, claiming (issue 4)
    "rounds",         # evaluation rounds (issue 4)
    "subscriptions",  # /dangky /huydangky /stop (issue 5)
    "fairs",          # /hoicho trade fairs (issue 5)
    "broadcast",      # /thongbao officer broadcasts (issue 5)
    "officer",        # /cauhoi officer answers questions (issue 5)
    "roles",          # /capquyen /thuhoiquyen (issue 5)
    "link",           # link Telegram and Zalo accounts (issue 6)
    "ops",            # operations: watch job (queue age, Telegram webhook) -> admin alerts (issue 16)
    "console",        # /quantri sign-in link to the officers' web console (issue 11)
]


def build_router() -> Router:
    router = Router()
    for key, label in MENU:
        router.menu[key] = MenuItem(key, label)
    for name in MODULES:
        router.owner = name
        import_module(f"handlers.{name}").register(router)
    router.owner = ""
    if router.reminder_sources:              # one daily sweep creates every feature's reminders
        from core.reminders import schedule
        schedule(router)
    return router
