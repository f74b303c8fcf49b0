"""The build cache in ``.briefs-cache/``: pickled state, checked before it is trusted.

Each file starts with a magic line, the hash of the rest, and a key (cache format, briefs
version, and whatever the caller says the contents depend on). A file that is truncated,
corrupted, from another version or for another key is ignored, and the build recomputes what it
held: the cache can make a build faster, never wrong. Delete the folder at any time.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

from . import __version__

MAGIC = b"briefs-cache\n"
FORMAT = 4


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
    checksum, stored_key = data[head:head + 32], data[head + 32:head + 48]
    body = memoryview(data)[head + 48:]  # not a copy: files reach tens of MB
    if stored_key != _key(key) or _checksum(body) != checksum:
        return None
    enabled = gc.isenabled()
    gc.disable()  # unpickling makes millions of objects and no garbage: nothing to collect
    try:
        value = pickle.loads(body)
    except Exception:  # a damaged pickle can raise almost anything
        return None
    finally:
        if enabled:
            gc.enable()
    # What was loaded lives for the whole build: keep the cycle collector from walking it
    # again and again (half of a warm start's related and search stages at 10,000 articles).
    # Frozen objects are still freed by reference counting.
    gc.freeze()
    return value


def _checksum(body) -> bytes:
    """Detects a damaged file (not tampering: the cache is the user's own). CRC-32 is ~4x
    faster than a cryptographic hash over the tens of MB a warm start reads."""
    return _crc_slot(zlib.crc32(body))


def _crc_slot(crc: int) -> bytes:
    return crc.to_bytes(4, "big").rjust(32, b"\0")  # the header's 32-byte slot


class _SummingWriter:
    """A file that keeps the CRC-32 of what was written through it."""

    __slots__ = ("fh", "crc")

    def __init__(self, fh) -> None:
        self.fh, self.crc = fh, 0

    def write(self, data) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self.fh.write(data)


def save(path: Path, key: Any, value: Any) -> None:
    """Write atomically: a reader sees the old file or the new one, never a part.

    The pickle streams to the file (in 64 KB frames) rather than being made in memory first:
    cache files reach tens of MB on a large site (the related index: 120 MB at 50,000
    articles), and a copy in memory would add to the build's peak. The checksum goes in its
    slot at the front once the body is written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + bytes(32) + _key(key))
            out = _SummingWriter(fh)
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            fh.seek(len(MAGIC))
            fh.write(_crc_slot(out.crc))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def save_all(saves: list[tuple[Path, Any, Any]]) -> None:
    """:func:`save` each (path, key, value), in order."""
    for path, key, value in saves:
        save(path, key, value)


class Saving:
    """Saves running in a forked process while the build goes on (see :func:`save_later`)."""

    def __init__(self, pid: int | None, paths: list[Path]):
        self.pid, self.paths = pid, paths  # (None: nothing to wait for, already saved)

    def wait(self) -> None:
        """Wait for the saves; raises OSError when one failed (its file is then as it was)."""
        if self.pid is None:
            return
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            raise OSError(f"could not save {', '.join(p.name for p in self.paths)} "
                          f"in {self.paths[0].parent}")


def save_later(saves: list[tuple[Path, Any, Any]]) -> Saving:
    """:func:`save_all` in a forked process, so that the build goes on meanwhile on the other
    core (an edit build spends a second pickling caches whole). The process works on a
    snapshot of the values as they are now: change none of them afterwards expecting it to be
    saved. Call :meth:`Saving.wait` before relying on the files."""
    try:
        pid = os.fork()
    except OSError:  # no process to spare: save here and now
        save_all(saves)
        return Saving(None, [])
    if pid == 0:  # the child: save, and leave without running anything of the parent's
        code = 1
        try:
            gc.disable()  # (collecting would write to every object, copying the parent's pages)
            save_all(saves)
            code = 0
        finally:
            os._exit(code)
    return Saving(pid, [Path(path) for path, _, _ in saves])


_SCHEMA = _schema()
