"""The figures render into the READMEs' table; at CI size, the committed figures (from the last
full run) are what the READMEs show (run ``python tests/reliability/figures.py`` after a full
run, which rewrites figures/ as it goes)."""

from __future__ import annotations

import figures
from reliability_mode import FULL


def test_figures_render_and_readmes_are_current() -> None:
    text = figures.table()
    assert text.count("\n| ") >= len(figures.RENDER) - 1 or FULL, text  # one row per figure
    if FULL:
        return  # figures/ is being rewritten by this very run; the READMEs catch up after it
    for path in (figures.ROOT / "README.md", figures.HERE / "README.md"):
        doc = path.read_text()
        assert f"{figures.START}\n{text}\n{figures.END}" in doc, (
            f"{path} is not current: run python tests/reliability/figures.py")
