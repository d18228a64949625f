"""`flow-diagram`: Mermaid diagram of the dossier flow, drawn from its definition."""
from __future__ import annotations

import sys


def add(sub) -> None:
    p = sub.add_parser("flow-diagram", help="print (or write) a Mermaid diagram of the /hoso dossier flow")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_flow_diagram)


def cmd_flow_diagram(args, settings) -> int:
    from flows.mermaid import diagram
    text = diagram()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"Wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
