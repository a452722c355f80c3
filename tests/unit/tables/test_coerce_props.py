"""Property tests: the cached timestamp fast path agrees with datetime arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from pggw.tables.coerce import coerce_columns, to_ms
from pggw.tables.model import Column, Table
from pggw.wire import types as T

TS = Table(name="ts_only", resource="x", columns=(Column("ts", T.TIMESTAMPTZ),), key=())

moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31))
offsets = st.sampled_from([None, 0, 60, -300, 330, 845, -720])
seps = st.sampled_from([" ", "T"])
fracs = st.sampled_from([0, 1, 2, 3, 4, 6])
zone_styles = st.sampled_from(["+HH:MM", "+HHMM", "+HH", "Z"])


def render(d: datetime, off: int | None, sep: str, frac: int, style: str) -> tuple[str, int]:
    s = d.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if frac:
        s += "." + f"{d.microsecond:06d}"[:frac]
    us = int(f"{d.microsecond:06d}"[:frac].ljust(6, "0")) if frac else 0
    if off is None:
        tz = UTC
    else:
        if off % 60 and style == "+HH":
            style = "+HH:MM"
        if off == 0 and style == "Z":
            s += "Z"
        else:
            sign = "-" if off < 0 else "+"
            h, m = divmod(abs(off), 60)
            s += {"+HH:MM": f"{sign}{h:02d}:{m:02d}", "+HHMM": f"{sign}{h:02d}{m:02d}",
                  "+HH": f"{sign}{h:02d}", "Z": f"{sign}{h:02d}:{m:02d}"}[style]
        tz = timezone(timedelta(minutes=off))
    return s, to_ms(d.replace(microsecond=us, tzinfo=tz))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(moments, offsets, seps, fracs, zone_styles), min_size=1,
                max_size=40))
def test_fast_timestamps_equal_datetime_arithmetic(
    items: list[tuple[datetime, int | None, str, int, str]],
) -> None:
    rendered = [render(*it) for it in items]
    texts = [t for t, _ in rendered] * 30  # repeat, so the caches are hit as well as filled
    out, notes = coerce_columns(TS, ["ts"], [texts], source="text")
    assert out["ts"] == [ms for _, ms in rendered] * 30
    truncated = any(frac > 3 and d.microsecond % 1000 and
                    int(f"{d.microsecond:06d}"[:frac]) % (10 ** (frac - 3))
                    for d, _, _, frac, _ in items)
    assert bool(notes) == truncated
