"""The build report: what a build made, what looks wrong, where the time went (text only).

The CLI prints these lines; nothing here writes anywhere.
"""

from __future__ import annotations

from .model import Site
from .options import BuildResult, Overview

KIND_ORDER = ["article", "topic", "tag", "source", "archive-month", "archive-year", "page",
              "home", "topics", "tags", "sources", "archive", "search", "404", "feed",
              "topic-feed", "sitemap", "robots"]
EXAMPLES = 3


def overview(site: Site) -> Overview:
    return Overview(len(site.articles), len(site.topics), site.hidden, content_warnings(site))


def content_warnings(site: Site) -> list[tuple[str, list[str]]]:
    """(what, [examples]) for things an editor probably wants to fix."""
    no_topic = [a.path for a in site.articles if not a.topics]
    lonely = [t.path for slug, t in site.topics.items() if len(site.topic_articles[slug]) == 1]
    no_summary = [a.path for a in site.articles if not a.summary]
    out = []
    if no_topic:
        out.append((f"{len(no_topic):,} article{'s' if len(no_topic) != 1 else ''} in no topic",
                    no_topic))
    if lonely:
        out.append((f"{len(lonely):,} topic{'s' if len(lonely) != 1 else ''} with one article",
                    lonely))
    if no_summary:
        out.append((f"{len(no_summary):,} article{'s' if len(no_summary) != 1 else ''} "
                    "without a summary", no_summary))
    return out


def summary(result: BuildResult, shown_out: str, *, verbose: bool = False) -> list[str]:
    view = result.overview or overview(result.site)
    total = sum(result.timings.values())
    kinds = sorted(result.pages_by_kind.items(),
                   key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99, kv[0]))
    hidden = (f"; {view.hidden:,} drafts or future articles left out" if view.hidden else "")
    if result.up_to_date:
        this = ("  this build: nothing changed since the last one (inputs and output checked), "
                "nothing written" + hidden)
    else:
        this = (f"  this build: {result.parsed:,} files parsed, {result.rendered:,} outputs "
                f"rendered, {result.changed:,} changed, {result.removed:,} removed" + hidden)
    lines = [
        f"built {view.articles:,} article{'s' * (view.articles != 1)}, "
        f"{view.topics:,} topic{'s' * (view.topics != 1)} into {shown_out} "
        f"in {total:.2f} s",
        "  pages: " + ", ".join(f"{n:,} {k}" for k, n in kinds),
        this,
        "  time: " + " · ".join(f"{stage} {seconds:.2f}" for stage, seconds in result.timings.items()),
    ]
    for what, examples in view.notes:
        shown = examples if verbose else examples[:EXAMPLES]
        more = "" if verbose or len(examples) <= EXAMPLES else ", … (--verbose lists all)"
        lines.append(f"  note: {what}: {', '.join(shown)}{more}")
    return lines


def profile(result: BuildResult, top: int = 8) -> list[str]:
    """Time per stage and the slowest templates (``briefs build --profile``)."""
    total = sum(result.timings.values()) or 1e-9
    lines = ["stage            seconds   share"]
    for stage, seconds in result.timings.items():
        lines.append(f"{stage:<15} {seconds:8.3f} {seconds / total:7.1%}")
    lines.append("")
    lines.append("template              renders   total s   mean ms   (summed over worker processes)")
    ranked = sorted(result.template_times.items(), key=lambda kv: -kv[1][0])[:top]
    for name, (seconds, count) in ranked:
        lines.append(f"{name:<20} {count:8,} {seconds:9.3f} {seconds / max(count, 1) * 1000:9.3f}")
    return lines
