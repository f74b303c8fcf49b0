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

from .model import BODY_FIELDS, Site
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
        sig[f"l:{a.slug}"] = a.listing
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


def patch_signature(old: dict[str, Any], edited: list, related: Any = None
                    ) -> tuple[dict[str, Any], set[str]] | None:
    """The signature after editing ``edited`` articles in place (``model.patch_site``: the
    site's shape stands), and the keys that changed; None when the related lists cannot say
    which of them changed (then use :func:`signature` and :func:`changed_keys`)."""
    candidates = {f"a:{a.slug}": a.digest for a in edited}
    candidates.update((f"l:{a.slug}", a.listing) for a in edited)
    if related is not None:
        if related.changed is None:
            return None
        candidates.update((k, related.lists.get(k, _MISSING)) for k in related.changed)
    changed = {k for k, v in candidates.items() if old.get(k, _MISSING) != v}
    sig = dict(old)
    for k in changed:
        if candidates[k] is _MISSING:
            del sig[k]
        else:
            sig[k] = candidates[k]
    return sig, changed


class Dependents:
    """Key -> the pages depending on it: the reverse of the pages' dependency keys, so a build
    that knows its few changed keys finds the pages to look at without visiting every page.
    May name a page for a key it no longer depends on (a page is only ever added); that costs
    a look, never a wrong page."""

    def __init__(self, pages=()):
        self.pages: dict[str, set[str]] = {}
        self.add_keys(pages)

    def add_keys(self, pages) -> None:
        """Record (path, keys) pairs."""
        by_key = self.pages
        for path, keys in pages:
            for key in keys:
                found = by_key.get(key)
                if found is None:
                    by_key[key] = {path}
                else:
                    found.add(path)

    def add(self, specs) -> None:
        """Record the keys of page specs (``views.PageSpec``) just planned."""
        self.add_keys((spec.path, spec.deps) for spec in specs)

    def affected(self, keys) -> set[str]:
        return set().union(*(self.pages.get(k, ()) for k in keys))


def shared_keys(page_deps: dict[str, tuple], signature: dict, fresh: list[str] | None = None,
                old_signature: dict | None = None) -> tuple[dict[str, tuple], dict]:
    """``page_deps`` and ``signature`` with one string object per distinct key. Each page spec
    makes its keys afresh, so a saved state would hold every key once per page that names it:
    at 50,000 articles two million strings, a 3x larger file, and a pickling memo of ~100 MB
    at the build's peak. Shared, each key is pickled once.

    ``fresh`` and ``old_signature``: only the pages at these paths were planned anew; the
    others' keys come from the previous state, where they are the objects of its signature
    (``old_signature``). Those objects are then kept for the new signature and the fresh pages
    too, so an edit build looks at a few pages' keys rather than at every page's."""
    if fresh is None or old_signature is None:
        canon = {key: key for key in signature}
        get = canon.setdefault
        return {path: tuple([get(k, k) for k in keys]) for path, keys in page_deps.items()}, \
            signature
    canon = {key: key for key in old_signature}
    get = canon.setdefault
    signature = {get(k, k): v for k, v in signature.items()}
    page_deps = dict(page_deps)
    for path in fresh:
        page_deps[path] = tuple([get(k, k) for k in page_deps[path]])
    return page_deps, signature


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


def listing_key(folder: Path) -> str:
    """The key prefix pages use for the articles they list: ``l`` (the listed fields only),
    or ``a`` (the whole article) when a template of the site's own ``folder`` names a body field
    (``model.BODY_FIELDS``) and so may show it in a list."""
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                if any(name in text for name in BODY_FIELDS):
                    return "a"
    return "l"


def template_keys(old: dict[str, str], new: dict[str, str]) -> set[str]:
    """Keys ``tpl:<name>`` (page templates) and ``tpl:shared`` for templates that changed."""
    changed = set()
    for name in old.keys() | new.keys():
        if old.get(name) != new.get(name):
            changed.add(f"tpl:{name}" if name in PAGE_TEMPLATES else "tpl:shared")
    return changed
