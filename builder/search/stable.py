"""Byte-identical Pagefind bundles: the same records always give the same files.

Pagefind keeps filters in hash maps with a random seed, so the order of the filters in a
bundle's ``pf_meta`` and of the values inside each ``pf_filter`` file changes from run to run,
and with it those files' hashed names and ``pagefind-entry.json``. Every other file is already
stable. A clean build and an incremental one must write the same bytes (the build's promise),
so this module rewrites those few files in sorted order and renames them after their new
content. Pagefind's files are gzip-compressed CBOR behind the signature ``pagefind_dcd``; the
small CBOR codec below covers the types Pagefind writes (integers, strings, arrays, maps).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from typing import Any

SIGNATURE = b"pagefind_dcd"


def stabilize(files: list[dict]) -> list[dict]:
    """Bundle files (``{"path", "content"}``) with filters in sorted order, renamed to match."""
    by_path = {f["path"].lstrip("/"): f for f in files}
    entry_path = "pagefind-entry.json"
    if entry_path not in by_path:
        return files
    entry = json.loads(by_path[entry_path]["content"])
    renamed: dict[str, str] = {}  # old hash name -> new
    out: dict[str, bytes] = {}
    for path, f in by_path.items():
        if path.startswith("filter/") and path.endswith(".pf_filter"):
            name, values = _load(f["content"])
            data = _dump([name, sorted(values, key=lambda v: v[0])])
            old = path[len("filter/"):-len(".pf_filter")]
            new = f"{old.split('_', 1)[0]}_{hashlib.sha256(data).hexdigest()[:7]}"
            renamed[old] = new
            out[f"filter/{new}.pf_filter"] = data
        elif path != entry_path and not path.endswith(".pf_meta"):
            out[path] = f["content"]
    for lang, info in entry.get("languages", {}).items():
        meta_path = f"pagefind.{info['hash']}.pf_meta"
        meta = _load(by_path[meta_path]["content"])
        meta = _replace(meta, renamed)
        meta[3] = sorted(meta[3])  # [[filter name, file hash], ...]
        data = _dump(meta)
        info["hash"] = f"{lang}_{hashlib.sha256(data).hexdigest()[:10]}"
        out[f"pagefind.{info['hash']}.pf_meta"] = data
    out[entry_path] = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    return [{"path": path, "content": data} for path, data in sorted(out.items())]


def _load(blob: bytes) -> Any:
    raw = gzip.decompress(blob)
    if not raw.startswith(SIGNATURE):
        raise ValueError("not a Pagefind data file")
    value, end = decode(raw, len(SIGNATURE))
    if end != len(raw):
        raise ValueError("trailing bytes in a Pagefind data file")
    return value


def _dump(value: Any) -> bytes:
    return gzip.compress(SIGNATURE + encode(value), compresslevel=9, mtime=0)


def _replace(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_replace(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, names) for k, v in value.items()}
    return value


def decode(data: bytes, i: int = 0) -> tuple[Any, int]:
    """One CBOR item from ``data`` at ``i``: (value, index after it)."""
    major, info = data[i] >> 5, data[i] & 31
    i += 1
    if info < 24:
        n = info
    elif info <= 27:
        size = 1 << (info - 24)
        n = int.from_bytes(data[i:i + size], "big")
        i += size
    else:
        raise ValueError(f"unsupported CBOR item {data[i - 1]:#x}")
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major == 2:
        return bytes(data[i:i + n]), i + n
    if major == 3:
        return data[i:i + n].decode(), i + n
    if major == 4:
        items = []
        for _ in range(n):
            item, i = decode(data, i)
            items.append(item)
        return items, i
    if major == 5:
        mapping = {}
        for _ in range(n):
            key, i = decode(data, i)
            mapping[key], i = decode(data, i)
        return mapping, i
    raise ValueError(f"unsupported CBOR major type {major}")


def encode(value: Any) -> bytes:
    """CBOR with the shortest lengths, as Pagefind (serde_cbor) writes it."""
    if isinstance(value, bool) or value is None:
        raise ValueError("unsupported value in a Pagefind data file")
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(encode(k) + encode(v) for k, v in value.items())
    raise ValueError(f"unsupported value in a Pagefind data file: {type(value).__name__}")


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError("integer too large for CBOR")
