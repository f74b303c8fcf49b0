"""Measure the related-stories engine on labeled news, beside simple baselines.

    python -m builder.related.evaluate FILE [--site OUT] [--part held-out|tuning|all]
                                            [--set KEY=VALUE ...] [--no-baselines] [--show N]

FILE is either ECB+-style JSON lines (``id, title, text, story, topic``, e.g.
``../shared/data/related/ecbplus.jsonl``) or a briefs site folder with ``stories.jsonl`` beside
``content/`` (the bench corpus from ``../shared/bench/gen_corpus.py``). The real code runs:
``features()``, ``RelatedIndex.build()``, ``related()``; relevant = same story.

Printed, from one run: precision@5 and recall@5 of briefs and of three baselines --
(a) metadata only with Hugo's weights (topics 100, tags 80, same year 10, threshold 80),
(b) plain TF-IDF cosine (scikit-learn's settings: sublinear tf, English stop words, smooth
idf, title counted twice; reimplemented with scipy.sparse, so no scikit-learn is needed),
(c) the 5 newest articles sharing a topic -- for ECB+ in two settings, text only and with the
coarse ``topic`` given as each article's topic. Also printed: briefs with the site's own
document frequencies instead of the English table (corpus IDF), briefs without neighbour
expansion, how often a "later developments" link is on the same story, and how many reasons
name a word one of the two texts lacks (must be 0).

Precision@5 counts the relevant links among the first five and divides by five, so a story
with fewer than six articles caps it below 1. Numbers are reported on the held-out part:
articles whose group (ECB+: coarse topic, so both look-alike stories go together; bench:
story) hashes below 0.4 with the salt ``briefs-related/holdout``. Defaults were tuned on the
other part only. ECB+ articles all get one date and no source (see ``corpus.load_jsonl``).

``--site OUT`` writes the labeled corpus as a briefs site (one topic page per coarse topic),
and builds it with ``builder.pipeline`` when that exists, so a person can read the lists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from . import RelatedConfig, RelatedIndex, features, from_mapping
from .corpus import Corpus, load_jsonl, load_site
from .text import text_features, word_keys

HOLDOUT_SALT = "briefs-related/holdout:"
HOLDOUT_SHARE = 0.4
K = 5

# scikit-learn's ENGLISH_STOP_WORDS (BSD-3-Clause; from the Glasgow Information Retrieval
# Group's list), for the TF-IDF baseline only.
SKLEARN_STOP_WORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also
although always am among amongst amoungst amount an and another any anyhow anyone anything
anyway anywhere are around as at back be became because become becomes becoming been before
beforehand behind being below beside besides between beyond bill both bottom but by call can
cannot cant co con could couldnt cry de describe detail do done down due during each eg eight
either eleven else elsewhere empty enough etc even ever every everyone everything everywhere
except few fifteen fifty fill find fire first five for former formerly forty found four from
front full further get give go had has hasnt have he hence her here hereafter hereby herein
hereupon hers herself him himself his how however hundred i ie if in inc indeed interest into
is it its itself keep last latter latterly least less ltd made many may me meanwhile might
mill mine more moreover most mostly move much must my myself name namely neither never
nevertheless next nine no nobody none noone nor not nothing now nowhere of off often on once
one only onto or other others otherwise our ours ourselves out over own part per perhaps
please put rather re same see seem seemed seeming seems serious several she should show side
since sincere six sixty so some somehow someone something sometime sometimes somewhere still
such system take ten than that the their them themselves then thence there thereafter thereby
therefore therein thereupon these they thick thin third this those though three through
throughout thru thus to together too top toward towards twelve twenty two un under until up
upon us very via was we well were what whatever when whence whenever where whereafter whereas
whereby wherein whereupon wherever whether which while whither who whoever whole whom whose
why will with within without would yet you your yours yourself yourselves""".split())


def held_out(group: str) -> bool:
    """Whether a group (ECB+ topic, bench story) belongs to the held-out part."""
    h = int(hashlib.sha256((HOLDOUT_SALT + group).encode("utf-8")).hexdigest()[:8], 16)
    return h / 2 ** 32 < HOLDOUT_SHARE


def group_of(corpus: Corpus, slug: str) -> str:
    return corpus.extra.get(slug, {}).get("topic") or corpus.stories[slug]


def queries_for(corpus: Corpus, part: str) -> list[str]:
    out = []
    for it in corpus.items:
        if it.slug not in corpus.stories:
            continue
        h = held_out(group_of(corpus, it.slug))
        if part == "all" or (part == "held-out") == h:
            out.append(it.slug)
    return out


# --------------------------------------------------------------------------- metrics
@dataclass
class Quality:
    precision: float
    recall: float
    queries: int


def quality(lists: Mapping[str, Sequence[str]], corpus: Corpus, queries: Sequence[str]
            ) -> Quality:
    sizes = Counter(corpus.stories.values())
    p_sum = r_sum = 0.0
    r_n = 0
    for q in queries:
        story = corpus.stories[q]
        shown = list(lists.get(q, ()))[:K]
        hits = sum(1 for s in shown if corpus.stories.get(s) == story)
        p_sum += hits / K
        if sizes[story] > 1:
            r_sum += hits / (sizes[story] - 1)
            r_n += 1
    n = len(queries)
    return Quality(p_sum / n if n else 0.0, r_sum / r_n if r_n else 0.0, n)


def ceiling(corpus: Corpus, queries: Sequence[str]) -> float:
    """The best precision@5 the story sizes allow."""
    sizes = Counter(corpus.stories.values())
    return sum(min(K, sizes[corpus.stories[q]] - 1) / K for q in queries) / max(1, len(queries))


# --------------------------------------------------------------------------- briefs
@dataclass
class Run:
    index: RelatedIndex
    lists: dict[str, list[str]]
    features_s: float
    build_s: float


def run_briefs(corpus: Corpus, config: RelatedConfig,
               rarity: Callable[[str], float] | None = None) -> Run:
    t0 = time.perf_counter()
    if rarity is None:
        feats = {it.slug: features(it, config) for it in corpus.items}
    else:
        feats = {it.slug: text_features(it.title, it.text, title_weight=config.weights.title,
                                        max_terms=config.max_terms, rarity=rarity)
                 for it in corpus.items}
    t1 = time.perf_counter()
    index = RelatedIndex.build(corpus.items, feats, config, corpus.topic_titles)
    t2 = time.perf_counter()
    lists = {it.slug: [link.slug for link in index.related(it.slug)] for it in corpus.items}
    return Run(index, lists, t1 - t0, t2 - t1)


def corpus_rarity(corpus: Corpus, title_weight: float) -> Callable[[str], float]:
    """Word weights from this corpus's document frequencies, ln((1 + N) / (1 + df))."""
    df: Counter[str] = Counter()
    for it in corpus.items:
        df.update(word_keys(it.title + "\n" + it.text))
    n = len(corpus.items)
    return lambda term: math.log((1 + n) / (1 + df.get(term, 0)))


# --------------------------------------------------------------------------- baselines
def _order_key(corpus: Corpus) -> dict[str, tuple]:
    return {it.slug: (-it.date.timestamp(), it.slug) for it in corpus.items}


def baseline_hugo(corpus: Corpus) -> dict[str, list[str]]:
    """Metadata only, Hugo's weights: 100 per shared topic, 80 per shared tag, 10 for the same
    year; at least 80 to be listed; ties newest first, then slug."""
    by_topic, by_tag = defaultdict(set), defaultdict(set)
    for it in corpus.items:
        for t in it.topics:
            by_topic[t].add(it.slug)
        for t in it.tags:
            by_tag[t].add(it.slug)
    info = {it.slug: it for it in corpus.items}
    order = _order_key(corpus)
    out = {}
    for it in corpus.items:
        score: Counter[str] = Counter()
        for t in it.topics:
            for s in by_topic[t]:
                score[s] += 100
        for t in it.tags:
            for s in by_tag[t]:
                score[s] += 80
        for s in list(score):
            if info[s].date.year == it.date.year:
                score[s] += 10
        score.pop(it.slug, None)
        ranked = sorted((s for s, v in score.items() if v >= 80),
                        key=lambda s: (-score[s],) + order[s])
        out[it.slug] = ranked[:K]
    return out


def baseline_newest_in_topic(corpus: Corpus) -> dict[str, list[str]]:
    """The 5 newest other articles sharing a topic (what Jekyll's related posts amount to)."""
    by_topic = defaultdict(set)
    for it in corpus.items:
        for t in it.topics:
            by_topic[t].add(it.slug)
    order = _order_key(corpus)
    out = {}
    for it in corpus.items:
        cands = set().union(*(by_topic[t] for t in it.topics)) - {it.slug} if it.topics else set()
        out[it.slug] = sorted(cands, key=order.get)[:K]
    return out


def baseline_tfidf(corpus: Corpus, queries: Sequence[str]) -> dict[str, list[str]]:
    """Plain TF-IDF cosine with scikit-learn's TfidfVectorizer settings (see module doc)."""
    import scipy.sparse as sp
    tok = re.compile(r"(?u)\b\w\w+\b")
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, it in enumerate(corpus.items):
        counts = Counter(w for w in tok.findall((it.title + " " + it.title + " " + it.text).lower())
                         if w not in SKLEARN_STOP_WORDS)
        for w, n in counts.items():
            rows.append(r)
            cols.append(vocab.setdefault(w, len(vocab)))
            vals.append(1.0 + math.log(n))
    n = len(corpus.items)
    x = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)))
    df = np.bincount(np.asarray(cols), minlength=len(vocab))
    idf = np.log((1 + n) / (1 + df)) + 1.0
    x = x @ sp.diags(idf)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x
    x = x.tocsr()
    pos = {it.slug: r for r, it in enumerate(corpus.items)}
    slugs = [it.slug for it in corpus.items]
    dates = np.array([it.date.timestamp() for it in corpus.items])
    slug_rank = np.empty(n, dtype=np.int64)
    slug_rank[np.argsort(np.array(slugs, dtype=object), kind="stable")] = np.arange(n)
    out = {}
    q_rows = np.array([pos[q] for q in queries], dtype=np.int64)
    for start in range(0, len(q_rows), 500):
        block = q_rows[start:start + 500]
        sims = (x[block] @ x.T).toarray()
        sims[np.arange(len(block)), block] = -np.inf
        for k, r in enumerate(block.tolist()):
            row = sims[k]
            top = np.argpartition(-row, min(50, n - 1))[:min(50, n - 1)]
            top = top[np.lexsort((slug_rank[top], -dates[top], -row[top]))]
            out[slugs[r]] = [slugs[j] for j in top[:K] if row[j] > 0]
    return out


# --------------------------------------------------------------------------- other checks
_TOKENS = re.compile(r"\w+(?:['.,]\w+)*")


def _normalised(text: str) -> str:
    text = text.replace("\u2019", "'").replace("-", " ").lower()
    return " " + " ".join(t[:-2] if t.endswith("'s") else t for t in _TOKENS.findall(text)) + " "


def false_reasons(index: RelatedIndex, corpus: Corpus, slugs: Sequence[str]) -> tuple[int, int]:
    """(items named in "also about" reasons, how many of them a text lacks)."""
    text = {it.slug: _normalised(it.title + "\n" + it.text) for it in corpus.items}
    named = wrong = 0
    for s in slugs:
        for link in index.related(s):
            for reason in link.reasons:
                if not reason.startswith("also about "):
                    continue
                for item in reason[len("also about "):].split(", "):
                    named += 1
                    needle = _normalised(item)
                    if needle not in text[s] or needle not in text[link.slug]:
                        wrong += 1
    return named, wrong


def later_quality(index: RelatedIndex, corpus: Corpus, queries: Sequence[str]) -> dict:
    """How good "later developments" are: share of links on the same story, and how often an
    article whose story continues gets the story's next article."""
    by_story = defaultdict(list)
    info = {it.slug: it for it in corpus.items}
    for it in corpus.items:
        if it.slug in corpus.stories:
            by_story[corpus.stories[it.slug]].append(it)
    links = same = continuing = found_next = 0
    for q in queries:
        later = index.later(q)
        links += len(later)
        same += sum(1 for s in later if corpus.stories.get(s) == corpus.stories[q])
        newer = sorted((it for it in by_story[corpus.stories[q]] if it.date > info[q].date),
                       key=lambda it: (it.date, it.slug))
        if newer:
            continuing += 1
            found_next += newer[0].slug in later
    return {"links": links, "precision": same / links if links else 0.0,
            "continuing": continuing, "next_found": found_next / continuing if continuing else 0.0}


# --------------------------------------------------------------------------- output
def _config_from_overrides(pairs: Sequence[str]) -> RelatedConfig:
    data: dict = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        target = data
        parts = key.split(".")
        for p in parts[:-1]:
            target = target.setdefault(p, {})
        target[parts[-1]] = json.loads(value) if value not in ("", None) else None
    config, problems = from_mapping(data)
    if problems:
        raise SystemExit("\n".join(problems))
    return config


def _row(name: str, part: Quality, everything: Quality | None) -> str:
    cells = [name, f"{part.precision:.3f}", f"{part.recall:.3f}"]
    if everything is not None:
        cells += [f"{everything.precision:.3f}", f"{everything.recall:.3f}"]
    return "| " + " | ".join(cells) + " |"


def evaluate_setting(corpus: Corpus, config: RelatedConfig, part: str, baselines: bool,
                     out=sys.stdout) -> dict:
    queries = queries_for(corpus, part)
    everyone = queries_for(corpus, "all")
    results: dict[str, dict] = {}

    def add(name: str, lists: Mapping[str, Sequence[str]]) -> None:
        q_part, q_all = quality(lists, corpus, queries), quality(lists, corpus, everyone)
        results[name] = {"part": q_part.__dict__}
        if part == "held-out":
            results[name]["all"] = q_all.__dict__
        # While tuning, numbers that include held-out articles stay hidden.
        print(_row(name, q_part, q_all if part == "held-out" else None), file=out)

    head = ["method", f"P@5 {part}", f"R@5 {part}"]
    if part == "held-out":
        head += ["P@5 all", "R@5 all"]
    print("| " + " | ".join(head) + " |", file=out)
    print("|" + "---|" * len(head), file=out)
    run = run_briefs(corpus, config)
    add("briefs", run.lists)
    if baselines:
        no_expand = run_briefs(corpus, replace(config, expand=0))
        add("briefs, no neighbour expansion", no_expand.lists)
        cidf = run_briefs(corpus, config, rarity=corpus_rarity(corpus, config.weights.title))
        add("briefs with corpus IDF", cidf.lists)
        add("(a) metadata only, Hugo weights", baseline_hugo(corpus))
        try:
            add("(b) TF-IDF cosine", baseline_tfidf(corpus, everyone))
        except ImportError:  # scipy is needed by this baseline only
            print("| (b) TF-IDF cosine | skipped: needs scipy | | | |", file=out)
        add("(c) 5 newest sharing a topic", baseline_newest_in_topic(corpus))
    print(f"\n{len(queries)} {part} queries of {len(everyone)}; precision@5 ceiling "
          f"(story sizes) {ceiling(corpus, queries):.3f}. briefs: features {run.features_s:.2f} s, "
          f"index {run.build_s:.2f} s.", file=out)
    named, wrong = false_reasons(run.index, corpus, queries)
    print(f"Reasons: {named} names/words in 'also about' reasons, {wrong} missing from a text.",
          file=out)
    results["reasons"] = {"named": named, "false": wrong}
    if len({it.date for it in corpus.items}) > 1:
        lq = later_quality(run.index, corpus, queries)
        print(f"Later developments ({part}): {lq['links']} links, {lq['precision']:.3f} on the "
              f"same story; the story's next article listed for {lq['next_found']:.3f} of "
              f"{lq['continuing']} articles whose story continues.", file=out)
        results["later"] = lq
    return results


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="ECB+-style .jsonl file, or a site folder with stories.jsonl")
    ap.add_argument("--site", metavar="OUT", help="write the corpus as a briefs site there")
    ap.add_argument("--part", choices=("held-out", "tuning", "all"), default="held-out")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a related: setting, e.g. expand=0 or weights.topics=0.1")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--show", type=int, default=0, metavar="N",
                    help="print N example related lists with reasons")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args(argv)
    config = _config_from_overrides(args.set)
    path = Path(args.file)
    report: dict = {"file": str(path), "part": args.part}
    if path.is_dir():
        settings = [("as published (topics, tags, dates, sources)", load_site(path, jobs=2))]
    else:
        settings = [("text only", load_jsonl(path)),
                    ("with the coarse topic as topic", load_jsonl(path, with_topics=True))]
    for name, corpus in settings:
        print(f"\n### {corpus.name}: {name}\n")
        report[name] = evaluate_setting(corpus, config, args.part, not args.no_baselines)
        if args.show:
            _show(corpus, config, args.show)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.site:
        if path.is_dir():
            print(f"\n{path} is a site folder already: build it with `briefs build`.")
        else:
            write_site(settings[-1][1], Path(args.site))
    return 0


def _show(corpus: Corpus, config: RelatedConfig, n: int) -> None:
    run = run_briefs(corpus, config)
    info = {it.slug: it for it in corpus.items}
    for it in corpus.items[:: max(1, len(corpus.items) // n)][:n]:
        print(f"\n{it.title[:90]}  [{corpus.stories.get(it.slug)}]")
        for link in run.index.related(it.slug):
            mark = "+" if corpus.stories.get(link.slug) == corpus.stories.get(it.slug) else "-"
            print(f"  {mark} {link.score:.3f} {info[link.slug].title[:70]}")
            print(f"      {'; '.join(link.reasons)}")
        later = run.index.later(it.slug)
        if later:
            print(f"  later: {', '.join(later)}")


# --------------------------------------------------------------------------- the site
def write_site(corpus: Corpus, out: Path) -> None:
    """Write the corpus as a briefs site folder, then build it if the pipeline exists."""
    from .corpus import UNDATED
    articles = out / "content" / "articles"
    topics = out / "content" / "topics"
    articles.mkdir(parents=True, exist_ok=True)
    topics.mkdir(parents=True, exist_ok=True)
    description = (f"{len(corpus.items)} labeled news articles from ECB+ (CC BY 3.0 annotations; "
                   "texts remain their publishers'). Related lists come from briefs.")
    (out / "site.yaml").write_text(
        "title: ECB+ related-stories evaluation\n"
        "base_url: http://localhost:8000/\n"
        "language: en\n"
        f"description: {json.dumps(description)}\n", encoding="utf-8")
    by_topic = defaultdict(list)
    for it in corpus.items:
        for t in it.topics:
            by_topic[t].append(it)
    for t, members in sorted(by_topic.items()):
        stories = sorted({corpus.stories[m.slug] for m in members})
        lines = []
        for s in stories:
            first = next(m for m in members if corpus.stories[m.slug] == s)
            lines.append(f"- Story `{s}`: {_md_inline(first.title)}")
        fm = {"title": corpus.topic_titles.get(t, t),
              "summary": f"{len(members)} articles on {len(stories)} look-alike stories.",
              "starts": UNDATED.date().isoformat()}
        (topics / f"{t}.md").write_text(_front(fm) + "Two different stories that look alike:\n\n"
                                        + "\n".join(lines) + "\n", encoding="utf-8")
    for it in corpus.items:
        extra = corpus.extra.get(it.slug, {})
        # The story label goes where a reader sees it (the summary) and under extra:, never
        # into tags or the body, which the related-stories engine reads.
        story = corpus.stories[it.slug]
        fm = {"title": it.title or it.slug, "date": it.date.isoformat(),
              "summary": f"[{story}] {_first_sentence(it.text)}", "topics": list(it.topics),
              "extra": {"story": story, "ecbplus_id": extra.get("id") or it.slug}}
        if extra.get("source"):
            fm["source"] = re.sub(r"[^a-z0-9]+", "-", str(extra["source"]).lower()).strip("-")
        if extra.get("url"):
            fm["source_url"] = extra["url"]
        year = articles / str(it.date.year)
        year.mkdir(exist_ok=True)
        body = "\n\n".join(_md_paragraph(p) for p in it.text.split("\n") if p.strip())
        (year / f"{it.slug}.md").write_text(_front(fm) + body + "\n", encoding="utf-8")
    print(f"\nWrote {len(corpus.items)} articles and {len(by_topic)} topics to {out}.")
    print("Each article's summary starts with its [story], so a reader can check a related link.")
    try:
        from .. import pipeline  # type: ignore[attr-defined]
    except ImportError:
        print("builder.pipeline is not there yet: build it later with `briefs build` in that "
              "folder.")
        return
    build = getattr(pipeline, "build", None)
    if build is None:
        print("builder.pipeline has no build(): build it with `briefs build` in that folder.")
        return
    try:
        result = _call_build(build, out)
        pages = sum(getattr(result, "pages_by_kind", {}).values())
        print(f"Built with builder.pipeline.build: {pages} pages in "
              f"{getattr(result, 'out_dir', out / 'public')}")
    except Exception as exc:  # the pipeline is the lead's; report, do not hide
        print(f"builder.pipeline.build failed: {exc!r}; try `briefs build` in {out}.")


def _call_build(build, out: Path):
    import inspect
    params = inspect.signature(build).parameters
    if "site_dir" in params:
        return build(site_dir=out)
    return build(out)


def _front(meta: dict) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n"
                             for k, v in meta.items()) + "---\n\n"


def _first_sentence(text: str) -> str:
    m = re.match(r"\s*(.{20,300}?[.!?])(\s|$)", text, re.S)
    return " ".join((m.group(1) if m else text[:200]).split())


def _md_inline(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(text.split()))


def _md_paragraph(text: str) -> str:
    text = _md_inline(text.strip())
    if re.match(r"(\d+[.)]|[-+>])\s", text):
        text = "\\" + text
    return text


if __name__ == "__main__":
    sys.exit(main())
