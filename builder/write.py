"""Write: the only module that touches the output folder.

Two generations of the site live side by side on the same filesystem: the output folder
(``public/``, the last good build) and a *shadow* (the build before it, kept in
``.briefs-cache/``). A build brings the shadow up to date with the new pages, writing only files
whose bytes differ from what the shadow holds, and then swaps the two folders in one atomic
``renameat2(RENAME_EXCHANGE)``. So:

- ``public/`` is always either the last good build or the new one, whatever happens in between,
  including a kill -9 or a failed build (nothing touches ``public/`` before the swap);
- nothing is ever deleted wholesale (deleting thousands of files costs about 1 ms each on the
  disks measured here), and an unchanged page is never written again;
- the shadow gets an unchanged page as a hard link to the live file (where the filesystem
  allows it), and a file is always replaced, never written over, so the two generations can
  share files without one build's writing showing through in the other.

What each generation holds is recorded in ``.briefs-cache/output-<key>.pickle`` as path -> (hash, size,
mtime). A generation whose record is missing, or whose files were touched behind our back, is
verified file by file and repaired, never trusted. The shadow is marked dirty while it is being
changed, so a kill in the middle is detected by the next build.

:class:`Generation` refuses to write outside its folder and refuses two files on one path.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import cache
from .errors import BuildError, Diagnostic

try:
    import fcntl
except ImportError:  # pragma: no cover - not a Unix
    fcntl = None

Entry = tuple[str, int, int]  # (hash, size, mtime_ns)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP,
             errno.ENOSYS}
"""os.link errors that mean "not on this filesystem": copy instead, from then on."""


def safe_rel(rel: str) -> str:
    p = PurePosixPath(rel)
    if (p.is_absolute() or not p.parts or ".." in p.parts or "\\" in rel or "\x00" in rel
            or rel.endswith("/")):
        raise BuildError(Diagnostic(rel, None, None, "refusing to write outside the output folder"))
    return rel


@dataclass
class Generation:
    """The next build, filled into the shadow folder, writing only what must be written.

    For each output path the new bytes are hashed and compared with what the shadow holds
    (``known``) and what the live output holds (``live``):
    - same as the shadow: nothing to do;
    - same as the live output: nothing to write now; copied over from the live folder only if
      the build turns out to change anything at all (``pending``);
    - otherwise: written into the shadow now.
    """

    root: Path
    known: dict[str, Entry]
    """What the shadow folder holds (verified), updated as files are written."""
    live: dict[str, Entry]
    """What the live output holds (verified), or {} when unknown."""
    hashes: dict[str, str] = field(default_factory=dict)
    """The new build: output path -> content hash."""
    pending: set[str] = field(default_factory=set)
    fresh: set[str] = field(default_factory=set)
    """Paths whose new content differs from the live output's (or that it lacks)."""
    written: int = 0
    unchecked: bool = False
    """``known`` is a record not yet checked against the folder: a file it vouches for is
    checked (size and mtime) before it is trusted, and carried ones only if the build turns
    out to change the output (``complete``), so an unchanged build checks nothing."""
    _dirs: set[str] = field(default_factory=set)

    def __post_init__(self):
        self._root = os.fspath(self.root)

    def put(self, rel: str, data: bytes) -> None:
        self.put_lazy(rel, digest(data), lambda: data)

    def put_lazy(self, rel: str, h: str, read) -> None:
        """put() for a file whose hash is known: its bytes are read only if they must be written."""
        rel = safe_rel(rel)
        if rel in self.hashes:
            raise BuildError(Diagnostic(rel, None, None, "two outputs want the same path",
                                        "rename one of the sources"))
        self.hashes[rel] = h
        current = self.live.get(rel)
        if current is None or current[0] != h:
            self.fresh.add(rel)
        old = self.known.get(rel)
        if old is not None and old[0] == h and (not self.unchecked or _holds(self._root, rel, old)):
            return
        if current is not None and current[0] == h:
            self.pending.add(rel)
            return
        self._write(rel, read(), h)

    def carry(self, rel: str) -> None:
        """Keep the live output's file for ``rel`` (nothing it depends on changed)."""
        self.carry_many((rel,))

    def carry_many(self, rels) -> None:
        """``carry`` for many paths in one loop (a preview carries ten thousand pages a save)."""
        hashes, live, known, pending = self.hashes, self.live, self.known, self.pending
        for rel in rels:
            if rel in hashes:
                raise BuildError(Diagnostic(rel, None, None, "two outputs want the same path",
                                            "rename one of the sources"))
            h = live[rel][0]
            hashes[rel] = h
            old = known.get(rel)
            if old is None or old[0] != h:
                pending.add(rel)

    def _make_room(self, rel: str) -> str:
        """The path of ``rel`` in this folder, its parent made and no file there: a file may
        be a hard link shared with the other generation (``complete``), so it is replaced,
        never written over."""
        # Plain os calls: this runs once per page, and the syscalls are the cost that matters.
        path = f"{self._root}/{rel}"
        parent = rel.rpartition("/")[0]
        if parent and parent not in self._dirs:
            top = parent.partition("/")[0]
            if top not in self._dirs:  # articles/, tags/...: one folder per page inside
                os.makedirs(f"{self._root}/{top}", exist_ok=True)
                spread(f"{self._root}/{top}")
                self._dirs.add(top)
            try:
                os.mkdir(f"{self._root}/{parent}")
            except FileExistsError:
                pass
            except FileNotFoundError:
                os.makedirs(f"{self._root}/{parent}", exist_ok=True)
            self._dirs.add(parent)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(path)
        return path

    def _write(self, rel: str, data: bytes, h: str) -> None:
        fd = os.open(self._make_room(rel), _WRITE_FLAGS, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            st = os.fstat(fd)
        finally:
            os.close(fd)
        self.known[rel] = (h, st.st_size, st.st_mtime_ns)
        self.written += 1

    def share(self) -> dict:
        """What a worker process reports back: its part of the new build."""
        return {"hashes": self.hashes, "pending": self.pending, "fresh": self.fresh,
                "written": self.written,
                "known": {k: self.known[k] for k in self.hashes if k in self.known}}

    def merge(self, part: dict) -> None:
        """Take over what a worker process did in this folder."""
        clash = self.hashes.keys() & part["hashes"].keys()
        if clash:
            raise BuildError([Diagnostic(p, None, None, "two outputs want the same path")
                              for p in sorted(clash)])
        self.hashes.update(part["hashes"])
        self.pending |= part["pending"]
        self.fresh |= part["fresh"]
        self.known.update(part["known"])
        self.written += part["written"]

    def changed(self) -> list[str]:
        """Output paths whose content differs from the live output."""
        return sorted(self.fresh)

    def removed(self) -> list[str]:
        return sorted(self.live.keys() - self.hashes.keys())

    def complete(self, live_root: Path) -> None:
        """Make the shadow hold exactly the new build: copy pending files, drop stale ones."""
        if self.unchecked:  # carried files the record vouched for: are they there?
            known, pending, live = self.known, self.pending, self.live
            for rel, h in self.hashes.items():
                old = known.get(rel)
                if old is not None and old[0] == h and rel not in pending \
                        and not _holds(self._root, rel, old):
                    if rel not in live or live[rel][0] != h:  # checked when written: changed since
                        raise BuildError(Diagnostic(rel, None, None,
                                                    "the output changed during the build",
                                                    "build again"))
                    pending.add(rel)  # carried, so the live output has these bytes
            self.unchecked = False
        # A pending file has the same bytes in the live folder: the shadow gets a hard link
        # to it (no copy; both generations share the file until one of them replaces it,
        # see _make_room). Where the filesystem has no hard links, it is copied.
        link = True
        live_dir = os.fspath(live_root)
        for rel in sorted(self.pending):
            if link:
                try:
                    os.link(f"{live_dir}/{rel}", self._make_room(rel))
                    self.known[rel] = self.live[rel]
                    self.written += 1
                    continue
                except OSError as exc:
                    if exc.errno in _NO_LINKS:
                        link = False
            self._write(rel, (live_root / rel).read_bytes(), self.hashes[rel])
        self.pending.clear()
        for rel in sorted(self.known.keys() - self.hashes.keys(), reverse=True):
            path = self.root / rel
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                shutil.rmtree(path, ignore_errors=True)
            del self.known[rel]
            parent = path.parent
            while parent != self.root:
                try:
                    os.rmdir(parent)  # only succeeds once the folder is empty
                except OSError:
                    break
                parent = parent.parent

    def manifest(self) -> dict[str, Entry]:
        return {rel: self.known[rel] for rel in self.hashes}


class Output:
    """The output folder and its shadow; one build's worth of writing."""

    def __init__(self, out_dir: Path, cache_dir: Path, *, persist: bool = True):
        """``persist=False`` (the live preview) keeps the record in memory between builds and
        leaves on disk only a record that says "unknown", written once; ``close()`` saves it."""
        self.out_dir = Path(out_dir).absolute()
        self.cache_dir = Path(cache_dir).absolute()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.key = output_key(self.out_dir)
        self.state_path = self.cache_dir / f"output-{self.key}.pickle"
        self.shadow_dir = self._shadow_location()
        self.persist = persist
        self._disowned = False
        self._shadow_checked = False
        """True once this object has checked the shadow against its record (or filled it)."""
        self._live_unchecked = False
        """True while the preview serves a folder whose record it has not checked yet."""
        self.state = self._load_state()

    def _shadow_location(self) -> Path:
        # The shadow must be on the output's filesystem for the swap to be possible.
        try:
            same = os.stat(self.cache_dir).st_dev == os.stat(self.out_dir.parent).st_dev
        except OSError:
            same = False
        if same:
            return self.cache_dir / f"shadow-{self.key}"
        return self.out_dir.parent / f".{self.out_dir.name}.briefs-shadow"

    def _load_state(self) -> dict:
        state = cache.load(self.state_path, ("output", str(self.out_dir)))
        if not isinstance(state, dict):
            state = {"live": None, "shadow": None, "live_id": None}
        return state

    def _save_state(self) -> None:
        if self.persist:
            cache.save(self.state_path, ("output", str(self.out_dir)), self.state)
        elif not self._disowned:  # once: from now on only memory knows the truth
            cache.save(self.state_path, ("output", str(self.out_dir)),
                       {"live": None, "shadow": None, "live_id": None})
            self._disowned = True

    def close(self) -> None:
        """Save the record (for ``persist=False``, at the end of a preview session)."""
        if not self.persist:
            cache.save(self.state_path, ("output", str(self.out_dir)), self.state)

    # ------------------------------------------------------------------ reading the record

    def live_manifest(self) -> dict[str, Entry]:
        """What ``public/`` holds, if we know it and nobody changed it since; else {}."""
        live = self.state.get("live")
        if live is None or not self.out_dir.is_dir():
            return {}
        if self._disowned:  # a preview session: nobody else writes its folder
            return live
        if not self.persist:
            # The preview's own folder, inside the cache: its first build trusts the record
            # and checks the folder once the editor is reading (check_live).
            self._live_unchecked = True
            return live
        return live if _verify(self.out_dir, live) else {}

    def check_live(self) -> bool:
        """The preview, while idle: True when the output folder holds what its record says
        (or was already checked). False: the record is dropped, and the next build writes
        every file again."""
        if not self._live_unchecked:
            return True
        self._live_unchecked = False
        live = self.state.get("live")
        if live is None or _verify(self.out_dir, live):
            return True
        self.state["live"] = None
        self.state["shadow"] = None
        return False

    def begin(self) -> Generation:
        """Start filling the shadow with the next build."""
        live = self.live_manifest()
        known = None
        shadow = self.state.get("shadow")
        if shadow is not None and self.shadow_dir.is_dir():
            known = dict(shadow)
        unchecked = known is not None and not self._shadow_checked
        if known is None:
            known = _scan(self.shadow_dir)  # unknown contents: every file will be rewritten
        # Mark the shadow dirty before touching it: a kill from here on leaves a record that
        # says "unknown", never a wrong one.
        self.state["shadow"] = None
        self._save_state()
        self.shadow_dir.mkdir(parents=True, exist_ok=True)
        return Generation(self.shadow_dir, known, live, unchecked=unchecked)

    @property
    def live_id(self) -> str | None:
        """Identifies the generation in the output folder (see pipeline's build state)."""
        return self.state.get("live_id")

    def finish(self, gen: Generation, live_id: str, differs: bool | None = None) -> bool:
        """Publish the new build if it differs from the live output (``differs``: the caller
        already knows whether it does). True when it did."""
        if differs is None:
            differs = bool(gen.changed() or gen.removed())
        if gen.live and not differs and self.out_dir.is_dir():
            self.state["shadow"] = gen.known  # untouched output; the shadow is as recorded
            self.state["live_id"] = live_id
            self._save_state()
            return False
        gen.complete(self.out_dir)
        self._shadow_checked = True  # checked and filled; after the swap it is the old live
        self._live_unchecked = False  # the checked copy goes live
        old_live = self.state.get("live") if gen.live else None
        if self.out_dir.exists() or self.out_dir.is_symlink():
            if self.out_dir.is_symlink() or not self.out_dir.is_dir():
                raise BuildError(Diagnostic(str(self.out_dir), None, None,
                                            "output path exists and is not a folder",
                                            "remove it or choose another --out"))
            if not exchange(self.shadow_dir, self.out_dir):
                # No atomic exchange here (not Linux, or the filesystem refuses):
                # two renames, with a short window where the output is missing.
                aside = self.shadow_dir.with_name(self.shadow_dir.name + ".old")
                shutil.rmtree(aside, ignore_errors=True)
                os.rename(self.out_dir, aside)
                os.rename(self.shadow_dir, self.out_dir)
                os.rename(aside, self.shadow_dir)
            self.state["shadow"] = old_live  # None when we never knew what it held
        else:
            os.rename(self.shadow_dir, self.out_dir)
            self.state["shadow"] = None
        self.state["live"] = gen.manifest()
        self.state["live_id"] = live_id
        self._save_state()
        return True

    def sync_shadow(self) -> int:
        """Make the shadow hold the live output now (hard links, or copies where the filesystem
        has none), so the next build only writes what it changes (a preview does this while the
        editor is still reading). Returns the number of files linked or copied."""
        live = self.live_manifest()
        if not live:
            return 0
        gen = self.begin()
        gen.carry_many(live)
        gen.complete(self.out_dir)
        self._shadow_checked = True
        copied = gen.written
        self.state["shadow"] = gen.known
        self._save_state()
        return copied

    def abort(self, gen: Generation) -> None:
        """A failed build: the output is untouched; remember what the shadow holds now."""
        self.state["shadow"] = gen.known
        self._save_state()




_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def spread(folder: str) -> None:
    """Mark ``folder`` as a "top directory" for ext4's allocator (``chattr +T``), so that its
    subfolders -- one per page -- are placed across the disk's block groups. Why: ext4 will
    not reuse an inode freed in the last minute or so, and finds the next free one by reading
    past every such inode in the group, once per new file or folder. After deleting an
    output folder (a clean build, ``rm -rf public``), making its replacement in the same
    groups crawled: 10,000 folders with a page each took 8-20 s of system time here instead
    of under 1 s, and about 2 s with the mark (``benchmarks/fs_inodes.py``). Other
    filesystems have no such flag; then this does nothing."""
    if fcntl is None or not sys.platform.startswith("linux"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        raw = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0))
        flags = struct.unpack("l", raw)[0]
        if not flags & _FS_TOPDIR_FL:
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("l", flags | _FS_TOPDIR_FL))
    except OSError:  # not ext4 (or not allowed): nothing to do
        pass
    finally:
        os.close(fd)


def foreign_folder(out_dir: Path, site_dir: Path, label: str) -> Diagnostic | None:
    """Why a build must not replace ``out_dir``'s contents, or None when it may.

    Writing a build replaces everything in the output folder (the old files go to the shadow
    and are deleted by a later build), so the folder must not be, or be above, the site
    folder, nor be inside its content/, templates/ or static/; and it must be missing, empty,
    or hold a built site already (an index.html). ``label`` names it in the message."""
    target, site = Path(out_dir).resolve(), Path(site_dir).resolve()
    if target == site or site.is_relative_to(target) or any(
            target.is_relative_to(site / part) for part in ("content", "templates", "static")):
        return Diagnostic(label, None, None, f"{out_dir} holds the site's own files",
                          "write the output to a folder outside content/, templates/ and "
                          "static/, and not above the site")
    if target.exists() and not target.is_dir():
        return Diagnostic(label, None, None, f"{out_dir} is not a folder",
                          "remove it or choose another output folder")
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").is_file():
        return Diagnostic(label, None, None, f"{out_dir} is not empty and holds no built site",
                          "its contents would be replaced: choose an empty or new folder, or "
                          "move its files away")
    return None


def output_key(out_dir: Path) -> str:
    """Names the cache files of one output folder (a site can have several: public, preview)."""
    return hashlib.blake2b(str(Path(out_dir).absolute()).encode(), digest_size=6).hexdigest()


def _holds(root: str, rel: str, entry: Entry) -> bool:
    """True when the file is there with the recorded size and mtime."""
    try:
        st = os.stat(f"{root}/{rel}")
    except OSError:
        return False
    return st.st_size == entry[1] and st.st_mtime_ns == entry[2]


def _verify(folder: Path, manifest: dict[str, Entry]) -> bool:
    """True when every recorded file is there with the recorded size and mtime."""
    root = os.fspath(folder)
    return all(_holds(root, rel, entry) for rel, entry in manifest.items())


def _scan(folder: Path) -> dict[str, Entry]:
    """Files in a folder we know nothing about: listed so stale ones get removed, never trusted
    (an empty hash matches no page, so every page is written again)."""
    found: dict[str, Entry] = {}
    if not folder.is_dir():
        return found
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(folder).as_posix()
            found[rel] = ("", -1, -1)
    return found


_RENAME_EXCHANGE = 2
_libc = None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system can't."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        fn = _libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
