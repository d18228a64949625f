"""Reminders: the idempotent sweep (certificate expiries, evaluation rounds) feeding delivery/."""
