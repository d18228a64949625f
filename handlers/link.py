"""Placeholder: this feature is not built yet (the menu says so politely)."""


def register(router) -> None:
    return None
