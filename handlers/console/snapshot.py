"""Certificate aggregates of the overview and the report, cached per version of the register.

The version lives in the database (storage/cert_version.py: a new value in every transaction that
writes certificates). A page reads that one row (a primary-key lookup) and reuses what it computed
for the same (version, day, scope, period); expiry is covered by the day being in the key. Several
instances agree: each checks the database's version on every request, so none serves figures older
than the last committed write. Delivery, reach and question figures are always read live.
"""
from __future__ import annotations

from collections import OrderedDict

from storage.cert_version import cert_version

MAX_ENTRIES = 32
_cache: OrderedDict = OrderedDict()


async def cached(db, key: tuple, compute):
    """await compute() once per register version for this key (the value is shared: never mutate it). The
    database is part of the key: every fresh database starts at the same version («initial»)."""
    full = (str(db.bind.url), await cert_version(db), *key)
    if full in _cache:
        _cache.move_to_end(full)
        return _cache[full]
    value = await compute()
    _cache[full] = value
    while len(_cache) > MAX_ENTRIES:
        _cache.popitem(last=False)
    return value


def scope_key(viewer) -> tuple:
    return ("*",) if viewer.national else tuple(sorted(viewer.provinces))
