"""Background word frequencies: how common a word is in English at large, not in this site.

Term weights come from this fixed table instead of the site's own document frequencies, so the
weight of a word never changes when an article is added or edited. That keeps every pair score
a pure function of the two articles (see ``builder/related/__init__.py``): an edit only touches
the lists it can reach, and an incremental build equals a clean one.

The table is wordfreq's "small" English list (Robyn Speer et al., data CC BY-SA 4.0): about
29,000 words with a Zipf frequency of 3 or more (at least once per million words). Anything not
in it -- invented names, rare words, most proper nouns -- counts as rare and gets the highest
weight, which is what a related-stories engine wants. Measured on the ECB+ tuning part, the
larger 321,000-word list ranks no better (precision@5 0.970 both) but loads ten times slower
(80 ms against 7 ms), and a one-article rebuild pays that load once per process.

We read wordfreq's data file directly: ``import wordfreq`` itself costs about 0.25 s (it pulls
in regex, langcodes and its tokenizers), the file read costs about 10 ms.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import threading

TABLE = "small_en.msgpack.gz"
"""The wordfreq data file we read: English words with Zipf frequency >= 3."""

FLOOR_ZIPF = 3.0
"""The smallest Zipf frequency the table holds; words missing from it are rarer than this."""

_lock = threading.Lock()
_zipf: dict[str, float] | None = None
_fingerprint: str | None = None


class BackgroundMissing(RuntimeError):
    """wordfreq (our source of English word frequencies) is not installed."""


def _table_path() -> str:
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise BackgroundMissing(
            "the related-stories engine needs the 'wordfreq' package for English word "
            "frequencies (pip install wordfreq)")
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "data", TABLE)
        if os.path.exists(path):
            return path
    raise BackgroundMissing(f"wordfreq is installed but its data file {TABLE} is missing")


def _load() -> dict[str, float]:
    global _zipf, _fingerprint
    with _lock:
        if _zipf is None:
            path = _table_path()
            with open(path, "rb") as fh:
                raw = fh.read()
            # wordfreq's "cBpack" format: a header dict, then bucket i holds the words whose
            # frequency is 10 ** (-i / 100); Zipf frequency is log10(frequency per 1e9 words).
            try:
                import msgpack  # wordfreq's own dependency
            except ImportError as exc:  # pragma: no cover - broken install
                raise BackgroundMissing("wordfreq's dependency 'msgpack' is missing") from exc
            buckets = msgpack.unpackb(gzip.decompress(raw), raw=False)
            table: dict[str, float] = {}
            for i, bucket in enumerate(buckets[1:]):
                table.update(dict.fromkeys(bucket, round(9.0 - i / 100.0, 2)))
            _fingerprint = hashlib.sha256(raw).hexdigest()[:16]
            _zipf = table
    return _zipf


def zipf_table() -> dict[str, float]:
    """Word -> Zipf frequency (3.0 .. ~7.7), loaded once per process."""
    return _zipf if _zipf is not None else _load()


def fingerprint() -> str:
    """Identifies the table's content; part of the features cache key."""
    if _fingerprint is None:
        _load()
    assert _fingerprint is not None
    return _fingerprint
