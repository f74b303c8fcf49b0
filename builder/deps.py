"""Dependencies: what changed between two builds, as a set of keys pages depend on.

A build records a *signature* of its model: for every dependency key (see ``views.py``) a value
that changes whenever anything behind the key changes — an article's file hash, a tag's member
list, a template's hash. The next build compares signatures; a page is rendered again only when
one of its keys changed (or it is new, or always rendered); every other page is carried over
from the previous output unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .model import Site
from .views import HOME_ARTICLES

# Templates a page is rendered with directly; any other template (base.html, macros, partials,
# a site's own includes) is "shared": changing it re-renders every page.
PAGE_TEMPLATES = {"home.html", "article.html", "topic.html", "topics.html", "terms.html",
                  "term.html", "archive.html", "archive_year.html", "archive_month.html",
                  "page.html", "404.html", "search.html"}


def signature(site: Site, related: Any = None) -> dict[str, Any]:
    sig: dict[str, Any] = {}
    for a in site.articles:
        sig[f"a:{a.slug}"] = a.digest
    for slug, t in site.topics.items():
        sig[f"t:{slug}"] = t.digest
        sig[f"m:topic:{slug}"] = site.topic_articles[slug]
    for p in site.pages:
        sig[f"p:{p.slug}"] = p.digest
    for kind, terms in (("tag", site.tags), ("source", site.sources)):
        for slug, term in terms.items():
            sig[f"m:{kind}:{slug}"] = term.articles
            sig[f"n:{kind}:{slug}"] = term.name
    for (year, month), items in site.months.items():
        sig[f"m:month:{year}-{month:02d}"] = items
    # lists and counts shown on the index pages
    sig["home"] = tuple(a.slug for a in site.articles[:HOME_ARTICLES])
    sig["topics-activity"] = tuple((slug, items[:1], items[-1:], len(items))
                                   for slug, items in site.topic_articles.items())
    sig["m:tags"] = tuple((t.slug, t.name, len(t.articles)) for t in site.tags.values())
    sig["m:sources"] = tuple((t.slug, t.name, len(t.articles)) for t in site.sources.values())
    sig["m:archive"] = tuple((ym, len(items)) for ym, items in site.months.items())
    sig["sitemap"] = (tuple((a.slug, a.updated or a.date) for a in site.articles),
                      tuple((slug, items[-1:]) for slug, items in site.topic_articles.items()),
                      tuple(p.slug for p in site.pages))
    if related is not None:  # builder.relate.RelatedLists: r:<slug> and rt:<topic> values
        sig.update(related.lists)
    return sig


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    changed = {k for k, v in new.items() if old.get(k, _MISSING) != v}
    changed |= old.keys() - new.keys()
    return changed


_MISSING = object()


def template_hashes(folders: list[Path]) -> dict[str, str]:
    """name -> hash of the template that wins for that name (site folder before theme)."""
    out: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                if name not in out:
                    out[name] = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    return out


def template_keys(old: dict[str, str], new: dict[str, str]) -> set[str]:
    """Keys ``tpl:<name>`` (page templates) and ``tpl:shared`` for templates that changed."""
    changed = set()
    for name in old.keys() | new.keys():
        if old.get(name) != new.get(name):
            changed.add(f"tpl:{name}" if name in PAGE_TEMPLATES else "tpl:shared")
    return changed
