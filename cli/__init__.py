"""Command-line subcommands. Each module exposes add(subparsers); handlers set args.func.

Shared commands live in cli/; a feature's own commands live in its package (handlers/<feature>/cli.py).
"""
from __future__ import annotations

MODULES = [
    "cli.run",              # run, console, migrate
    "cli.ask",              # ask (FAQ)
    "cli.dossier",          # flow-diagram
    "cli.certs",            # import-certificates, remind, add-round, claim-code
    "cli.officers",         # broadcast, export-questions, grant-officer
    "handlers.fairs.cli",   # import-fairs
    "handlers.faq.cli",     # export-faq
    "cli.zalo",             # zalo-oa-auth, zalo-oa-token
    "handlers.reach.cli",   # call-list, zns-check
    "cli.ops",              # doctor, backup, restore
    "cli.web",              # web, web-login (officers' console)
]
