"""Rendered article bodies, kept on disk in the build cache and read back one at a time.

An article's rendered body is most of its weight: ~6 KB of HTML against a few hundred bytes of
front matter, so 280 MB at 50,000 articles. Only the article's own page, its feed entry, its
search record and its related-stories features read the body, each once, so the content stage
writes every newly parsed body to an append-only file, ``.briefs-cache/bodies-<id>.bin``, and
the article keeps a :class:`Stored` (file, offset, size) in its place. Pages are rendered in
forked workers, which inherit the open file and read with ``os.pread`` (no shared file position,
no page mapped into memory).

A body is never changed in place: an edited article's new body is appended, and the old one is
dead weight until :meth:`BodyStore.compact` copies the live bodies into a new file. The content
cache records which file its records point into and how long it was; a file that is missing or
shorter than that makes the cache unusable, and the build parses everything again.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterable

from .errors import BuildError, Diagnostic

PREFIX, SUFFIX = "bodies-", ".bin"
_FLUSH_AT = 1 << 20  # bytes buffered before they are written out

_OPEN: dict[str, "BodyStore"] = {}
"""The stores this process has open, by file name (a :class:`Stored` names its store)."""
_PLACES: dict[str, Path] = {}
"""Every store file this process has opened, by name: a closed store is still read (opened
for each read) so that a build's result can be looked at after the build."""


def _lost(path, what: str) -> BuildError:
    """A body could not be read back: its file was removed or cut short behind our back."""
    return BuildError(Diagnostic(str(path), None, None, f"the build cache's body store {what}",
                                 "delete the .briefs-cache folder and build again"))


class Stored:
    """Where one body is: file name, offset, size. Equal when the place is the same."""

    __slots__ = ("name", "offset", "size")

    def __init__(self, name: str, offset: int, size: int):
        self.name, self.offset, self.size = name, offset, size

    def read(self) -> bytes:
        store = _OPEN.get(self.name)
        if store is not None:
            return store.read(self.offset, self.size)
        path = _PLACES.get(self.name)
        try:
            fd = os.open(path, os.O_RDONLY)
        except (OSError, TypeError):
            raise _lost(self.name, "is gone") from None
        try:
            return _pread(fd, self.size, self.offset, path)
        finally:
            os.close(fd)

    def __reduce__(self):
        return Stored, (self.name, self.offset, self.size)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Stored) and self.name == other.name
                and self.offset == other.offset and self.size == other.size)

    def __hash__(self) -> int:
        return self.size  # (name and offset change when the store is compacted)

    def __repr__(self) -> str:
        return f"Stored({self.name!r}, {self.offset}, {self.size})"


def read(body: "bytes | Stored") -> bytes:
    """The bytes of a body, whether kept in memory (a fresh parse) or in a store."""
    return body if type(body) is bytes else body.read()


class BodyStore:
    """One append-only file of bodies. Open stores are registered by file name."""

    def __init__(self, path: Path, fd: int, length: int):
        self.path, self.name, self.fd = path, path.name, fd
        self.length = length  # bytes in the file and the buffer
        self._written = length  # bytes in the file
        self._buffer: list[bytes] = []
        _OPEN[self.name] = self
        _PLACES[self.name] = path

    @classmethod
    def create(cls, folder: Path) -> "BodyStore":
        """A new, empty store in ``folder``; every other store file there is removed (a
        process still reading one keeps it open, and so readable, until it closes it)."""
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{PREFIX}*{SUFFIX}"):
            if old.name not in _OPEN:
                old.unlink(missing_ok=True)
        return cls._new(folder)

    @classmethod
    def _new(cls, folder: Path) -> "BodyStore":
        path = folder / f"{PREFIX}{secrets.token_hex(6)}{SUFFIX}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        return cls(path, fd, 0)

    @classmethod
    def attach(cls, folder: Path, name: str, length: int) -> "BodyStore | None":
        """The store ``name`` in ``folder`` as a content cache left it (``length`` bytes
        long), or None when the file is gone or shorter than that."""
        store = _OPEN.get(name)
        if store is not None and store.path.parent == folder and store.length >= length:
            return store
        if not name.startswith(PREFIX) or "/" in name or os.sep in name:
            return None
        try:
            fd = os.open(folder / name, os.O_RDWR | os.O_APPEND)
        except OSError:
            return None
        size = os.fstat(fd).st_size
        if size < length:
            os.close(fd)
            return None
        return cls(folder / name, fd, size)

    def add(self, data: bytes) -> Stored:
        if not self._buffer:  # (another process may have appended since: a preview's store)
            self.length = self._written = os.fstat(self.fd).st_size
        stored = Stored(self.name, self.length, len(data))
        self._buffer.append(data)
        self.length += len(data)
        if self.length - self._written >= _FLUSH_AT:
            self.flush()
        return stored

    def flush(self) -> None:
        """Write out what :meth:`add` buffered. Call before anything reads the new bodies
        (and before forking workers that will)."""
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer = []
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]
            self._written = self.length

    def read(self, offset: int, size: int) -> bytes:
        if offset + size > self._written:
            self.flush()
        return _pread(self.fd, size, offset, self.path)

    def close(self) -> None:
        """Write out the buffer and close the file (its bodies stay readable, more slowly)."""
        self.flush()
        if _OPEN.get(self.name) is self:
            del _OPEN[self.name]
        os.close(self.fd)

    def dead(self, live: Iterable[Stored]) -> int:
        """Bytes in this store that none of ``live`` uses."""
        return self.length - sum(size for _, size in _places(self, live))

    def compact(self, live: Iterable[Stored]) -> "BodyStore":
        """Copy the bodies of ``live`` into a new store and point each of them there (in
        place: every record holding one sees the move). This store's file is left for the
        caller to :meth:`remove` once nothing names it."""
        new = BodyStore._new(self.path.parent)
        live = [s for s in live if s.name == self.name]
        moved = {place: new.add(self.read(*place)).offset for place in _places(self, live)}
        for stored in live:
            if stored.name == self.name:  # (not moved yet: one place may be held twice)
                stored.name, stored.offset = new.name, moved[stored.offset, stored.size]
        new.flush()
        return new

    def remove(self) -> None:
        """Close and delete this store's file."""
        self._buffer = []
        self.close()
        self.path.unlink(missing_ok=True)


def _places(store: BodyStore, live: Iterable[Stored]) -> list[tuple[int, int]]:
    """The distinct (offset, size) of ``live`` in ``store``, in file order."""
    return sorted({(s.offset, s.size) for s in live if s.name == store.name})


def _pread(fd: int, size: int, offset: int, path) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise _lost(path, "is shorter than recorded")
    return data
