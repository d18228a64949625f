"""ZNS problems that need a person (template or billing errors) become incidents (core.ops.alerts): the
admins are told once through the delivery path, and the incident shows on the console's overview."""
from __future__ import annotations

from core.ops.alerts import alert
from core.templates import Markup, render


async def alert_admins(sessionmaker, settings, key: str, template: str, **kw) -> bool:
    return await alert(sessionmaker, settings, "zns", key, Markup(render(template, **kw)))
