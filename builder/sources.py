"""Source files: find them, read them as UTF-8, split YAML front matter from the Markdown body.

Nothing here knows what an article is; ``content.py`` turns a :class:`SourceFile` into one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from . import yamlio
from .errors import Diagnostic

CONTENT_KINDS = ("articles", "topics", "pages")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A content file found on disk, before it is read."""

    kind: str
    """``articles``, ``topics`` or ``pages``."""
    rel: str
    """Path relative to the site folder, with ``/`` separators (used in every message)."""
    abspath: str
    mtime_ns: int
    size: int


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A content file read and split, not yet validated."""

    ref: SourceRef
    front: dict
    """Parsed front matter (empty when the file has none)."""
    front_text: str
    """Front matter text, kept to locate values when reporting problems."""
    body: str
    """Markdown after the closing ``---``."""
    body_line: int
    """File line on which ``body`` starts (1-based)."""
    digest: str
    """Hash of the file's bytes: the key of everything cached about it."""


class SourceError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


_MARKDOWN_LIKE = re.compile(r"\.(?:md|markdown|mdown|mkd|mkdn|mdwn)$", re.IGNORECASE)
"""Names an editor may have meant as content (``.MD``, ``.markdown``): warned about."""


def _skip(name: str) -> bool:
    # Editors' temporary and backup files must never become pages.
    return (name.startswith((".", "#", "~")) or name.endswith(("~", ".swp", ".tmp"))
            or not name.endswith(".md"))


def discover(site_dir: Path) -> tuple[list[SourceRef], list[Diagnostic]]:
    """All content files, sorted by path; symlinked folders are followed once, loops reported."""
    refs: list[SourceRef] = []
    problems: list[Diagnostic] = []
    root = os.fspath(site_dir)
    for kind in CONTENT_KINDS:
        top = os.path.join(root, "content", kind)
        if not os.path.isdir(top):
            if os.path.lexists(top):
                problems.append(Diagnostic(f"content/{kind}", None, None, "is not a folder",
                                           f"make content/{kind}/ a folder of .md files"))
            continue
        seen_dirs: dict[tuple[int, int], str] = {}  # folder (device, inode) -> where found
        stack: list[tuple[str, str, tuple]] = [(top, f"content/{kind}", ())]
        while stack:
            folder, rel_folder, parents = stack.pop()
            try:
                st = os.stat(folder)
                key = (st.st_dev, st.st_ino)
                if key in parents:
                    problems.append(Diagnostic(
                        rel_folder, None, None, "symbolic link loop in content",
                        "remove the link that points back to a parent folder"))
                    continue
                if key in seen_dirs:  # two links to one folder: its files would count twice
                    problems.append(Diagnostic(
                        rel_folder, None, None,
                        f"the same folder as {seen_dirs[key]} (through a symbolic link)",
                        "keep one of the two"))
                    continue
                seen_dirs[key] = rel_folder
                entries = sorted(os.scandir(folder), key=lambda e: e.name)  # (a fixed order)
            except OSError as exc:
                problems.append(Diagnostic(rel_folder, None, None,
                                           f"cannot read folder: {exc.strerror}"))
                continue
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                rel = f"{rel_folder}/{name}"
                try:
                    if entry.is_dir():
                        if kind == "articles":  # topics and pages are flat folders
                            stack.append((entry.path, rel, parents + (key,)))
                        else:
                            problems.append(Diagnostic(
                                rel, None, None, f"folder not read: {kind} are the .md files "
                                f"directly in content/{kind}/", "move its files up",
                                severity="warning"))
                        continue
                    if _skip(name):
                        if _MARKDOWN_LIKE.search(name) and not name.startswith(("#", "~")):
                            problems.append(Diagnostic(
                                rel, None, None, "not read: content files end in .md",
                                f"rename it to {_MARKDOWN_LIKE.sub('', name)}.md",
                                severity="warning"))
                        continue
                    st = entry.stat()
                except OSError as exc:
                    problems.append(Diagnostic(rel, None, None, f"cannot read: {exc.strerror}",
                                               "a broken symbolic link? remove or fix it"))
                    continue
                if not stat.S_ISREG(st.st_mode):  # reading a named pipe would never end
                    problems.append(Diagnostic(rel, None, None,
                                               "not a plain file (a pipe, socket or device)",
                                               "remove it from content/"))
                    continue
                refs.append(SourceRef(kind, rel, entry.path, st.st_mtime_ns, st.st_size))
    refs.sort(key=lambda r: r.rel)
    return refs, problems


def refresh(site_dir: Path, refs: list[SourceRef], paths: set[str],
            touched: dict[str, SourceRef | None] | None = None) -> list[SourceRef] | None:
    """``refs`` brought up to date for the files at ``paths`` (absolute; added, changed or
    removed), without walking the content folders: what the preview does after a save.
    Returns None when a path is a folder or anything ``discover`` would treat specially; then
    call ``discover``. ``touched`` gets each content file looked at: rel -> its new ref, or
    None when it is gone."""
    touched = {} if touched is None else touched
    root = os.fspath(site_dir)
    by_rel = {r.rel: r for r in refs}
    for path in paths:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        parts = rel.split("/")
        if parts[0] != "content":
            continue  # templates, static, site.yaml: not content
        if any(p.startswith(".") for p in parts):
            continue  # hidden files and folders are never content (as in discover)
        if len(parts) < 3 or parts[1] not in CONTENT_KINDS:
            return None
        kind, name = parts[1], parts[-1]
        if os.path.isdir(path) or (rel not in by_rel
                                   and any(r.startswith(rel + "/") for r in by_rel)):
            return None  # a folder appeared, moved or went: walk again
        if (len(parts) > 3 and kind != "articles") or _skip(name):
            continue
        try:
            st = os.stat(path)
        except FileNotFoundError:
            by_rel.pop(rel, None)
            touched[rel] = None
            continue
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # not a plain file: discover reports it
        real = os.path.realpath(path)
        if not real.startswith(os.path.realpath(os.path.join(root, "content")) + os.sep):
            return None  # through a symbolic link: let discover decide
        by_rel[rel] = touched[rel] = SourceRef(kind, rel, os.path.join(root, *parts),
                                               st.st_mtime_ns, st.st_size)
    return sorted(by_rel.values(), key=lambda r: r.rel)


MAX_BYTES = 10 * 1024 * 1024  # no article is this long; a file this big is a mistake


def read(ref: SourceRef, data: bytes | None = None) -> SourceFile:
    """Read, decode and split one file; raise SourceError with a located diagnostic."""
    if data is None:
        if ref.size > MAX_BYTES:
            raise SourceError(Diagnostic(ref.rel, None, None,
                                         f"file is larger than {MAX_BYTES // 2**20} MB",
                                         "split it into several articles"))
        try:
            with open(ref.abspath, "rb") as fh:
                # read(n) would allocate n bytes up front; read() sizes the buffer from the file
                data = fh.read()
        except FileNotFoundError:
            raise SourceError(Diagnostic(ref.rel, None, None,
                                         "file disappeared during the build",
                                         "run the build again")) from None
        except OSError as exc:
            raise SourceError(Diagnostic(ref.rel, None, None, f"cannot read: {exc.strerror}",
                                         "check the file's permissions")) from None
    if len(data) > MAX_BYTES:
        raise SourceError(Diagnostic(ref.rel, None, None,
                                     f"file is larger than {MAX_BYTES // 2**20} MB",
                                     "split it into several articles"))
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(Diagnostic(ref.rel, line, col,
                                     f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                                     "save the file as UTF-8")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SourceError(Diagnostic(ref.rel, line, None, "file contains a NUL byte",
                                     "is this a binary file? remove it from content/"))
    front_text, body, body_line = split_front_matter(text, ref.rel)
    front: dict = {}
    if front_text.strip():
        try:
            loaded = yamlio.load(front_text, ref.rel, line_offset=1)
        except yamlio.YamlError as exc:
            raise SourceError(exc.diagnostic) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise SourceError(Diagnostic(ref.rel, 2, 1,
                                         "front matter must be 'key: value' lines",
                                         "e.g. `title: My article`"))
        front = loaded or {}
    return SourceFile(ref, front, front_text, body, body_line, digest)


def split_front_matter(text: str, rel: str) -> tuple[str, str, int]:
    """(front matter text, body, body's first line). The file must start with ``---``."""
    if not text.strip():
        raise SourceError(Diagnostic(rel, 1, 1, "file is empty",
                                     "add front matter with at least title and date, or delete it"))
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if first.rstrip() != "---":
        raise SourceError(Diagnostic(
            rel, 1, 1, "no front matter: the file must start with a '---' line",
            "add `---`, `title: ...`, `date: ...` and a closing `---` above the text"))
    pos = first_end + 1
    line = 2
    while pos <= len(text):
        end = text.find("\n", pos)
        current = text[pos:] if end < 0 else text[pos:end]
        if current.rstrip() in ("---", "..."):
            front = text[first_end + 1:pos]
            body = "" if end < 0 else text[end + 1:]
            return front, body, line + 1
        if end < 0:
            break
        pos = end + 1
        line += 1
    raise SourceError(Diagnostic(rel, 1, 1, "front matter is not closed",
                                 "add a line with `---` after the last front matter key"))
