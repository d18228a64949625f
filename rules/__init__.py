"""Pure policy rules (no I/O, no routing, no text): which documents apply, what is ready."""
