"""Garbage-collector settings for a long-running ingest process.

Ingest allocates millions of short-lived objects (rows, values) that are never
part of reference cycles; CPython's default thresholds (700 allocations) then
run generation-0 collections constantly, and every tenth promotes survivors
toward expensive full collections that walk the whole heap (catalog, registry,
modules).  Freezing what start-up created and collecting less often keeps that
cost off the hot paths; cycles are still collected.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Call once, after start-up has built its long-lived objects."""
    gc.collect()
    gc.freeze()  # start-up objects move to a permanent generation, never scanned again
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
