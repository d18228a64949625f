#!/usr/bin/env python3
"""Record the FAQ answer to every evaluation question, or check that the answers did not change.

    .venv/bin/python bench/faq_same_answers.py --write /tmp/before.json   # before a change to core/faq
    .venv/bin/python bench/faq_same_answers.py --check /tmp/before.json   # after it: lists every difference

Questions: every set bench/faq.py reads (tests/faq/cases*.yml, the 2026 blind set, the shared dev set,
its off-topic tuning list), every entry's question and paraphrases, and a typo'd copy of each. Recorded
per question: outcome, entry id, suggestion ids, kind and a hash of the rendered text. Also prints
the CPU time per question (p50/p99, typo caches cleared before each).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.faq import TUNING_OFF_TOPIC, noisy  # noqa: E402
from core.faq import get_renderer  # noqa: E402
from core.faq.evaluate import BLIND2026, HELDOUT, dev_set_path, load_heldout, load_jsonl  # noqa: E402


def questions() -> list[str]:
    out = [c["q"] for c in load_jsonl(BLIND2026) + load_jsonl(dev_set_path())]
    for path in sorted(HELDOUT.parent.glob("cases*.yml")):
        out += [c["q"] for c in load_heldout(path)]
    out += TUNING_OFF_TOPIC
    for e in get_renderer().engine.entries.values():
        out += [e.question, *e.paraphrases]
    rng = random.Random(11)
    out += [noisy(q, rng) for q in list(out)]
    return list(dict.fromkeys(out))


def answers(qs: list[str]) -> dict[str, list]:
    r = get_renderer()
    out = {}
    for q in qs:
        a = r.respond(q)
        out[q] = [a.outcome, a.faq_id, [i for i, _ in a.suggestions], a.kind,
                  hashlib.sha1(a.text.encode()).hexdigest()[:12]]
    return out


def cpu_times(qs: list[str]) -> tuple[float, float, float]:
    """p50, p99 and mean CPU ms per question (cold typo caches), median of 3 rounds each."""
    r = get_renderer()
    rounds = []
    for _ in range(3):
        times = []
        for q in qs:
            r.engine.norm.clear_caches()
            r.engine._off_cache.clear()
            t = time.thread_time()
            r.respond(q)
            times.append((time.thread_time() - t) * 1000)
        times.sort()
        rounds.append((statistics.median(times), times[int(len(times) * 0.99) - 1], statistics.fmean(times)))
    return tuple(statistics.median(x[k] for x in rounds) for k in range(3))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="record the answers to this JSON file")
    g.add_argument("--check", type=Path, help="compare with the answers recorded in this JSON file")
    ap.add_argument("--no-time", action="store_true", help="skip the CPU timing")
    args = ap.parse_args(argv)
    qs = questions()
    got = answers(qs)
    if not args.no_time:
        p50, p99, mean = cpu_times(qs)
        print(f"{len(qs)} questions: CPU per question p50 {p50:.2f} ms  p99 {p99:.2f} ms  mean {mean:.2f} ms "
              f"(load average {os.getloadavg()[0]:.1f})")
    if args.write:
        args.write.write_text(json.dumps(got, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"wrote {len(got)} answers to {args.write}")
        return 0
    before = json.loads(args.check.read_text(encoding="utf-8"))
    diff = [q for q in before if got.get(q) != before[q]]
    for q in diff:
        print(f"DIFFERENT {q!r}: before {before[q]} now {got.get(q)}")
    print(f"{len(before) - len(diff)}/{len(before)} answers identical")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
