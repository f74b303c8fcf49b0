"""What the search stage last published, read without loading the stage itself.

A build where nothing indexed changed (and every save in the preview) only needs the list of
files the last run published, to carry them over: this module reads it from the stage's
``state.json`` and leaves Pagefind, asyncio and the indexing code unloaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PAGEFIND_DIR = "pagefind"
MANIFEST = "shards.json"
FORMAT = 2


_LAST: dict[str, tuple[tuple[int, int], list[str]]] = {}  # state.json -> (its stat, outputs)


def last_outputs(cache_dir: Path) -> list[str] | None:
    """Output paths the last successful run of the stage published, or None if unknown."""
    root = Path(cache_dir) / "search"
    try:
        st = os.stat(root / "state.json")
        seen = _LAST.get(str(root))
        if seen is not None and seen[0] == (st.st_mtime_ns, st.st_size):
            return seen[1]  # the preview asks after every save
        state = json.loads((root / "state.json").read_text())
        if state.get("format") != FORMAT:
            return None
        if isinstance(state.get("outputs"), list):  # (older state files: read the listings)
            _LAST[str(root)] = ((st.st_mtime_ns, st.st_size), state["outputs"])
            return state["outputs"]
        rels = [f"{PAGEFIND_DIR}/{MANIFEST}"]
        for sid, key in state["shards"].items():
            listing = _listing(root / "bundles", key)
            if listing is None:
                return None
            rels += [f"{PAGEFIND_DIR}/{sid}/{f[0]}" for f in listing["files"]]
        return rels
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _listing(bundles: Path, key: str) -> dict | None:
    """A cached bundle's listing, if its pack is there whole; else None."""
    try:
        meta = json.loads((bundles / f"{key}.json").read_text())
        if os.stat(bundles / f"{key}.pack").st_size != meta["size"]:
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


def carry_index(gen, cache_dir: Path) -> bool:
    """Keep the live output's search files as they are, without looking at any record.

    For a build the pipeline knows changed no article, topic or ``search:`` setting since the
    last successful one: a few ms instead of building and hashing every record. Returns False
    (and carries nothing) when the cache cannot say which files the index is, or the live
    output lacks one; then run ``collect.index_site``.
    """
    rels = last_outputs(Path(cache_dir))
    if rels is None or any(rel not in gen.live for rel in rels):
        return False
    gen.carry_many(rels)
    return True
