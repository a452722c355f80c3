"""Garbage-collector tuning for the gateway process.

Ingest and the uploader allocate millions of small acyclic objects (rows, item dicts,
JSON) per second at full drain; CPython's default thresholds (700, 10, 10) then run
generation-2 collections that walk every long-lived object (the registry, catalog,
twisted's modules …) — measured as 75–270 ms reactor stalls. ``tune_gc`` moves what
exists after startup into the permanent generation (never scanned again) and raises
the thresholds so young collections are rarer and old ones much rarer.
"""

from __future__ import annotations

import gc

__all__ = ["tune_gc"]


def tune_gc(gen0: int = 50_000, gen1: int = 20, gen2: int = 100) -> tuple[int, int, int]:
    """Call once after startup (services built, before the reactor runs): freezes the
    objects alive now and sets the thresholds; returns the previous thresholds."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, gen1, gen2)
    return before
