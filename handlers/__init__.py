"""Feature handlers. Each module exposes register(router); order matters only for the menu.

Handlers are channel-neutral: (Ctx, Incoming) -> Reply | list[Reply] | None.
"""
from __future__ import annotations

from importlib import import_module

from core.router import MenuItem, Router
from core.templates import label

# main menu keys in order (callback "m:<key>"; labels in content/vi/buttons.yml "menu"); a feature
# module attaches the handler. New items are appended: earlier items keep their numbers on Zalo/console.
MENU = ["faq", "hoso", "sanpham", "hoicho", "dangky", "lienhe", "tuchamdiem"]

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
    "reach",          # /canlienhe call list; reminder route chain, ZNS, file links (issue 14)
    "ops",            # operations: watch job (queue age, Telegram webhook) -> admin alerts (issue 16)
    "console",        # /quantri sign-in link to the officers' web console (issue 11)
]


def build_router() -> Router:
    router = Router()
    for key in MENU:
        router.menu[key] = MenuItem(key, label(f"menu.{key}"))
    for name in MODULES:
        router.owner = name
        import_module(f"handlers.{name}").register(router)
    router.owner = ""
    if router.reminder_sources:              # one daily sweep creates every feature's reminders
        from core.reminders import schedule
        schedule(router)
    return router
