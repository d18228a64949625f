"""Command-line subcommands. Each module exposes add(subparsers); handlers set args.func."""
from __future__ import annotations

MODULES = [
    "run",         # run, console, migrate
    "ask",         # ask (FAQ)                                   issue 2
    "dossier",     # flow-diagram                                issue 3
    "certs",       # import-certificates, remind, add-round      issue 4
    "officers",    # broadcast, import-fairs, export-questions   issue 5
    "zalo",        # zalo-oa-auth, zalo-oa-token                 issue 6
    "web",         # web, web-login (officers' console)          issue 11
]
