"""Placeholder: subcommands of a feature that is not built yet."""


def add(sub) -> None:
    return None
