"""Pictures drawn at build time: a topic's activity chart and the topics' timeline strips.

Pure functions from dates and numbers to small data records and inline SVG markup; no
JavaScript, no files. Colours come from CSS classes (``builder/theme/assets/briefs.css``), so
the pictures follow the light and dark schemes. Every piece of text that goes into the markup is
escaped here; the result is :class:`markupsafe.Markup` for the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from markupsafe import Markup, escape

MAX_BARS = 60
"""At most this many bars: a long story is drawn per week, month or year instead of per day."""
UNITS = ("day", "week", "month", "year")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def short(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def bucket_start(d: date, unit: str) -> date:
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=d.weekday())  # weeks start on Monday (ISO 8601)
    if unit == "month":
        return d.replace(day=1)
    return d.replace(month=1, day=1)


def next_start(d: date, unit: str) -> date:
    if unit == "day":
        return d + timedelta(days=1)
    if unit == "week":
        return d + timedelta(days=7)
    if unit == "month":
        return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return date(d.year + 1, 1, 1)


def bucket_count(first: date, last: date, unit: str) -> int:
    a, b = bucket_start(first, unit), bucket_start(last, unit)
    if unit == "day":
        return (b - a).days + 1
    if unit == "week":
        return (b - a).days // 7 + 1
    if unit == "month":
        return (b.year - a.year) * 12 + b.month - a.month + 1
    return b.year - a.year + 1


@dataclass(frozen=True, slots=True)
class Bucket:
    start: date
    """First day of the bar's period."""
    end: date
    """Last day of the bar's period."""
    count: int
    """Articles in the period."""
    target: date | None
    """The day the bar links to: the period's first day that has articles (None when empty)."""

    def period(self, unit: str) -> str:
        """``2 Dec 2024``, ``week of 2 Dec 2024``, ``Dec 2024`` or ``2024``."""
        if unit == "day":
            return short(self.start)
        if unit == "week":
            return f"week of {short(bucket_start(self.start, 'week'))}"
        if unit == "month":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        return str(self.start.year)

    def label(self, unit: str) -> str:
        """What the bar says to a screen reader and in its tooltip."""
        text = f"{self.period(unit)}: {articles(self.count)}"
        return text[0].upper() + text[1:]


def articles(n: int) -> str:
    return f"{n:,} article{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Activity:
    """Articles per day (or week, month, year) across a topic's span."""

    unit: str
    first: date
    last: date
    buckets: tuple[Bucket, ...]
    total: int
    peak: Bucket
    """The busiest bar (the earliest of equals)."""

    @property
    def summary(self) -> str:
        """One sentence a screen reader (or anyone) can read instead of the picture."""
        days = (self.last - self.first).days + 1
        span = short(self.first) if days == 1 else f"{short(self.first)} to {short(self.last)}"
        length = f"{days:,} day{'' if days == 1 else 's'}"
        return (f"{articles(self.total)} over {length}, {span}. Busiest {self.unit}: "
                f"{self.peak.period(self.unit)}, with {articles(self.peak.count)}.")


def activity(days: Iterable[tuple[date, int]], first: date | None = None,
             last: date | None = None, max_bars: int = MAX_BARS) -> Activity | None:
    """Bars of article counts from ``(day, count)`` pairs (days in any order).

    The span runs from the first to the last day with articles, widened to ``first`` and
    ``last`` when given (a topic's ``starts`` and ``ends``). Bars are per day while they fit in
    ``max_bars``, else per week, month or year. ``None`` when there are no articles.
    """
    counts: dict[date, int] = {}
    for d, n in days:
        if n > 0:
            counts[d] = counts.get(d, 0) + n
    if not counts:
        return None
    lo, hi = min(counts), max(counts)
    if first is not None and first < lo:
        lo = first
    if last is not None and last > hi:
        hi = last
    unit = next((u for u in UNITS if bucket_count(lo, hi, u) <= max_bars), "year")
    per: dict[date, list] = {}
    for d in sorted(counts):
        entry = per.setdefault(bucket_start(d, unit), [0, d])
        entry[0] += counts[d]
    buckets = []
    start = bucket_start(lo, unit)
    while start <= hi:
        following = next_start(start, unit)
        count, target = per.get(start, (0, None))
        buckets.append(Bucket(max(start, lo), min(following - timedelta(days=1), hi), count,
                              target))
        start = following
    peak = max(buckets, key=lambda b: b.count)  # max keeps the first of equals
    return Activity(unit, lo, hi, tuple(buckets), sum(counts.values()), peak)


def activity_svg(act: Activity, labelledby: str, anchor: str = "day-") -> Markup:
    """The bar chart: one ``<a href="#day-YYYY-MM-DD">`` per non-empty bar.

    Drawn in a 10-units-per-bar by 100-units box stretched to the width it is given
    (``preserveAspectRatio="none"``; it has no text that could be distorted). Each link carries
    its bar's label; the figure around it carries :attr:`Activity.summary`.
    """
    width = len(act.buckets) * 10
    peak = act.peak.count or 1
    out = [f'<svg class="activity-chart" viewBox="0 0 {width} 100" preserveAspectRatio="none" '
           f'role="group" aria-labelledby="{escape(labelledby)}" focusable="false">',
           f'<rect class="plot" x="0" y="0" width="{width}" height="100" aria-hidden="true"/>']
    for i, b in enumerate(act.buckets):
        if not b.count:
            continue
        height = max(4, round(96 * b.count / peak))
        label = escape(b.label(act.unit))
        out.append(f'<a href="#{escape(anchor)}{b.target.isoformat()}" aria-label="{label}">'
                   f'<title>{label}</title>'
                   f'<rect class="hit" x="{i * 10}" y="0" width="10" height="100"/>'
                   f'<rect class="bar" x="{i * 10 + 1.5}" y="{100 - height}" width="7" '
                   f'height="{height}"/></a>')
    out.append(f'<line class="baseline" x1="0" y1="99.5" x2="{width}" y2="99.5" '
               f'aria-hidden="true"/></svg>')
    return Markup("".join(out))


def fraction(d: date, axis: tuple[date, date]) -> float:
    """Where ``d`` sits on the axis, 0..1 (the axis' last day ends at 1)."""
    days = (axis[1] - axis[0]).days + 1
    return min(1.0, max(0.0, (d - axis[0]).days / days))


def axis_ticks(axis: tuple[date, date]) -> tuple[str, list[date]]:
    """Boundaries worth marking between the axis' ends: ``("month", [...])`` or years."""
    lo, hi = axis
    unit = "month" if bucket_count(lo, hi, "month") <= 24 else "year"
    ticks = []
    d = next_start(bucket_start(lo, unit), unit)
    while d <= hi:
        ticks.append(d)
        d = next_start(d, unit)
    if len(ticks) > 40:  # decades of history: every tenth year is enough
        ticks = [t for t in ticks if t.year % 10 == 0]
    return unit, ticks


def span_strip(start: date, end: date, axis: tuple[date, date], ongoing: bool,
               ticks: Iterable[date] = ()) -> Markup:
    """A topic's span as a bar on the shared time axis of the topics index.

    Decorative (``aria-hidden``): the list item says the same in words (dates, ongoing/ended).
    """
    day = 1 / ((axis[1] - axis[0]).days + 1)
    x0 = fraction(start, axis)
    w = max(min(fraction(end, axis) + day, 1.0) - x0, 0.006)  # a one-day story stays visible
    x0 = min(x0, 1.0 - w)
    state = "ongoing" if ongoing else "ended"
    out = ['<svg class="span-strip" viewBox="0 0 1000 12" preserveAspectRatio="none" '
           'aria-hidden="true" focusable="false">',
           '<rect class="track" x="0" y="3" width="1000" height="6"/>']
    for t in ticks:
        tx = round(fraction(t, axis) * 1000, 1)
        out.append(f'<line class="tick" x1="{tx}" y1="0" x2="{tx}" y2="12"/>')
    out.append(f'<rect class="span {state}" x="{x0 * 1000:.1f}" y="1" width="{w * 1000:.1f}" '
               f'height="10"/></svg>')
    return Markup("".join(out))
