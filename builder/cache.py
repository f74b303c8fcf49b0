"""The build cache in ``.briefs-cache/``: pickled state, checked before it is trusted.

Each file starts with a magic line, the hash of the rest, and a key (cache format, briefs
version, and whatever the caller says the contents depend on). A file that is truncated,
corrupted, from another version or for another key is ignored, and the build recomputes what it
held: the cache can make a build faster, never wrong. Delete the folder at any time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from . import __version__

MAGIC = b"briefs-cache\n"
FORMAT = 3


def _schema() -> str:
    """The fields of the cached records: a changed model invalidates every cache file, even
    between releases (pickled records would otherwise load into the wrong fields)."""
    from dataclasses import fields
    from . import model
    return repr([(c.__name__, [f.name for f in fields(c)])
                 for c in (model.Article, model.Topic, model.Page, model.Term)])


def _key(key: Any) -> bytes:
    return hashlib.blake2b(repr((FORMAT, __version__, _SCHEMA, key)).encode(),
                           digest_size=16).digest()


def load(path: Path, key: Any) -> Any | None:
    """The object saved under ``key``, or None when absent, stale or damaged."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    head = len(MAGIC)
    if not data.startswith(MAGIC) or len(data) < head + 48:
        return None
    checksum, stored_key, body = data[head:head + 32], data[head + 32:head + 48], data[head + 48:]
    if stored_key != _key(key) or hashlib.blake2b(body, digest_size=32).digest() != checksum:
        return None
    try:
        return pickle.loads(body)
    except Exception:  # a damaged pickle can raise almost anything
        return None


def save(path: Path, key: Any, value: Any) -> None:
    """Write atomically: a reader sees the old file or the new one, never a part."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(MAGIC + hashlib.blake2b(body, digest_size=32).digest() + _key(key) + body)
    os.replace(tmp, path)


_SCHEMA = _schema()
