"""The CI / full switch of the reliability suite (a module of its own: every test directory has
a ``conftest``, so ``from conftest import ...`` depends on which one pytest loaded last)."""

from __future__ import annotations

import os

#: ``PGGW_RELIABILITY=full``: 200 kills, 30-minute soak, ...; otherwise CI size.
FULL = os.environ.get("PGGW_RELIABILITY", "").lower() == "full"
