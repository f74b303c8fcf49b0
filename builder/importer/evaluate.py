"""Measure the HTML importer against hand-written article bodies.

    python -m builder.importer.evaluate [DATA_DIR] [--explain ID] [--worst N] [--split SPLIT]
                                        [--without RULE,...]

DATA_DIR holds ``ground-truth.jsonl`` and ``html/<id>.html.gz`` (default: ``../shared/data/
extraction`` next to the repository). Every page is scored with bag-of-words precision, recall
and F1 (tokens ``\\w+``, lower-cased, counted with multiplicity) of the extracted body against the
ground truth, averaged over pages, for:

- ``trafilatura``: ``trafilatura.extract(html)`` with its defaults (comments included);
- ``trafilatura, no comments``: the same with ``include_comments=False``, the setting we build on;
- ``briefs import``: our importer — what a reader sees of the Markdown body we write (rendered
  with markdown-it-py, tags stripped), so link targets and escapes are not counted as words.

``--without read-more,newsletter`` adds a row for the importer without those rules, to see what a
rule brings (or costs). The split into ``tuning`` and ``held-out`` pages (a third, chosen by
hashing the page id) is fixed; docs/import.md says how far the held-out pages stayed unseen.

F1 is given two ways: the mean of the per-page F1 scores, and the harmonic mean of the mean
precision and mean recall (how the data set's README states its trafilatura baseline).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SPLIT_SALT = "briefs-import:"
HELD_OUT_MODULUS = 3
"""A page is held out when sha256(salt + id) % 3 == 0: about a third, fixed for good."""


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html_path: Path
    gold: str

    @property
    def held_out(self) -> bool:
        return is_held_out(self.id)

    def html(self) -> bytes:
        data = self.html_path.read_bytes()
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def is_held_out(page_id: str) -> bool:
    digest = hashlib.sha256((SPLIT_SALT + page_id).encode("utf-8")).hexdigest()
    return int(digest, 16) % HELD_OUT_MODULUS == 0


def default_data_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "extraction"


def load_pages(data_dir: Path) -> list[Page]:
    pages = []
    with open(data_dir / "ground-truth.jsonl", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                pages.append(Page(id=row["id"], url=row.get("url", ""),
                                  html_path=data_dir / row["html_file"], gold=row["text"]))
    return pages


# --- scoring ---------------------------------------------------------------------------------

def tokens(text: str | None) -> Counter:
    return Counter(w.lower() for w in re.findall(r"\w+", text or ""))


def score(predicted: str | None, gold: str) -> tuple[float, float, float]:
    p, g = tokens(predicted), tokens(gold)
    overlap = sum((p & g).values())
    precision = overlap / sum(p.values()) if p else 0.0
    recall = overlap / sum(g.values()) if g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass(frozen=True)
class Summary:
    pages: int
    precision: float
    recall: float
    f1: float
    """Mean of per-page F1."""

    @property
    def f1_of_means(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def summarise(scores: list[tuple[float, float, float]]) -> Summary:
    n = len(scores) or 1
    return Summary(len(scores), *(sum(s[k] for s in scores) / n for k in range(3)))


# --- the extractors being compared ----------------------------------------------------------

def visible_text(markdown: str) -> str:
    """What a reader sees of a Markdown body: rendered, then the tags' text only."""
    import lxml.html
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    if not html.strip():
        return ""
    return lxml.html.fromstring(f"<div>{html}</div>").text_content()


def extract_ours(html: bytes, rules=None) -> str:
    from .boilerplate import RULES, clean
    from .html import NoArticle, read_html

    try:
        draft = clean(read_html(html), RULES if rules is None else rules)
    except NoArticle:
        return ""
    return visible_text(draft.body_markdown())


def extract_trafilatura(html: bytes, include_comments: bool = True) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=include_comments) or ""


METHODS = {
    "trafilatura": lambda html: extract_trafilatura(html, True),
    "trafilatura, no comments": lambda html: extract_trafilatura(html, False),
    "briefs import": extract_ours,
}


def evaluate(pages: list[Page], methods=None) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Per method, per page id: (precision, recall, f1)."""
    methods = methods or METHODS
    results: dict[str, dict[str, tuple[float, float, float]]] = {m: {} for m in methods}
    for page in pages:
        html = page.html()
        for name, extract in methods.items():
            results[name][page.id] = score(extract(html), page.gold)
    return results


def table(pages: list[Page], results) -> str:
    splits = [("all", pages), ("tuning", [p for p in pages if not p.held_out]),
              ("held-out", [p for p in pages if p.held_out])]
    lines = ["| pages | method | P | R | F1 (mean of pages) | F1 (of mean P, R) |",
             "|---|---|---:|---:|---:|---:|"]
    for label, subset in splits:
        for name in results:
            s = summarise([results[name][p.id] for p in subset])
            lines.append(f"| {label} ({s.pages}) | {name} | {s.precision:.3f} | {s.recall:.3f} "
                         f"| {s.f1:.3f} | {s.f1_of_means:.3f} |")
    return "\n".join(lines)


def explain(page: Page) -> str:
    """What the importer kept and removed on one page, rule by rule."""
    from .boilerplate import clean
    from .html import read_html

    draft = clean(read_html(page.html()))
    out = [f"{page.id} {page.url}", f"title: {draft.title}", f"date: {draft.date}",
           f"source: {draft.source}  url: {draft.source_url}", f"summary: {draft.summary}", "",
           "removed:"]
    out += [f"  [{rule}] {text[:160]!r}" for rule, text in draft.removed]
    p, r, f = score(visible_text(draft.body_markdown()), page.gold)
    out += ["", f"P {p:.3f} R {r:.3f} F1 {f:.3f}", "", draft.body_markdown()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.importer.evaluate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default_data_dir())
    parser.add_argument("--explain", metavar="ID", help="show what was removed on one page")
    parser.add_argument("--worst", type=int, metavar="N", help="list the N lowest-F1 pages")
    parser.add_argument("--split", choices=("all", "tuning", "held-out"), default="tuning",
                        help="pages --worst looks at (default: tuning, keep held-out unseen)")
    parser.add_argument("--without", metavar="RULE,...", default="",
                        help="also score the importer without these boilerplate rules")
    args = parser.parse_args(argv)
    from .boilerplate import RULES

    dropped = {name.strip() for name in args.without.split(",") if name.strip()}
    unknown = dropped - {r.name for r in RULES}
    if unknown:
        print(f"--without: no rule named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if not (args.data_dir / "ground-truth.jsonl").is_file():
        print(f"{args.data_dir}: no ground-truth.jsonl here (pass the extraction data folder)",
              file=sys.stderr)
        return 2
    pages = load_pages(args.data_dir)
    if args.explain:
        matches = [p for p in pages if p.id.startswith(args.explain)]
        if len(matches) != 1:
            print(f"{args.explain}: {len(matches)} pages match", file=sys.stderr)
            return 2
        print(explain(matches[0]))
        return 0
    methods = dict(METHODS)
    if dropped:
        fewer = tuple(r for r in RULES if r.name not in dropped)
        methods[f"briefs import without {len(dropped)} rules"] = (
            lambda html: extract_ours(html, fewer))
    results = evaluate(pages, methods)
    print(table(pages, results))
    if args.worst:
        chosen = [p for p in pages if args.split == "all"
                  or (args.split == "held-out") == p.held_out]
        ranked = sorted(chosen, key=lambda p: results["briefs import"][p.id][2])[: args.worst]
        print()
        for p in ranked:
            ours = results["briefs import"][p.id]
            base = results["trafilatura, no comments"][p.id]
            print(f"{p.id[:12]}  ours P {ours[0]:.3f} R {ours[1]:.3f} F1 {ours[2]:.3f}   "
                  f"base F1 {base[2]:.3f}  {p.url[:70]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
