"""YAML reading with positions: one loader for site.yaml and front matter.

PyYAML's C loader is fast but forgiving in ways that hide mistakes, so the loader here
- rejects duplicate keys (PyYAML keeps the last one silently),
- keeps ``2024-12-02``-looking values as strings, so dates are parsed in one place
  (``content.parse_date``) with one error message, instead of YAML turning ``2024-13-40``
  into a ValueError without a position,
- reports every YAML error as a :class:`Diagnostic` with the file's own line and column.

Positions of keys and values are only needed when something is wrong, so they are computed on
demand (:func:`locate`) by composing the node tree, keeping the common path to one C parse.
"""

from __future__ import annotations

import re

import yaml

from .errors import Diagnostic

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKey(yaml.constructor.ConstructorError):
    def __init__(self, key, first_line: int, mark):
        super().__init__(None, None, f"duplicate key {key!r}", mark)
        self.first_line = first_line


class Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader: no arbitrary objects, no duplicate keys, timestamps kept as text."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                try:
                    key = self.construct_object(key_node, deep=True)
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain value", key_node.start_mark)
                if key in seen:
                    raise DuplicateKey(key, seen[key], key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


Loader.add_constructor("tag:yaml.org,2002:timestamp",
                       lambda loader, node: loader.construct_scalar(node))


def _friendly(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str | None, object]:
    """Reword PyYAML's messages into what a news editor can act on; returns the best mark."""
    p = (exc.problem or str(exc)).strip()
    mark = exc.problem_mark or exc.context_mark
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "a tab character is used for indentation", "indent YAML with spaces", mark
    if "while scanning a quoted scalar" in (exc.context or ""):
        return "a quoted value is not closed", "add the closing quote", exc.context_mark or mark
    if "mapping values are not allowed" in p:
        return "unexpected ':' in a value", "put quotes around values that contain ': '", mark
    if "could not find expected ':'" in p:
        return "a line is not a 'key: value' pair", "check quotes and indentation", mark
    return f"invalid YAML: {p}", None, mark


def load(text: str, path: str, line_offset: int = 0):
    """Parse ``text``; on error raise a list with one located Diagnostic.

    ``line_offset`` is the number of file lines before ``text`` starts (front matter starts
    after the opening ``---``), so reported lines are lines of the file.
    """
    fast = simple_mapping(text)
    if fast is not None:
        return fast
    try:
        return yaml.load(text, Loader=Loader)
    except DuplicateKey as exc:
        mark = exc.problem_mark
        raise YamlError(Diagnostic(
            path, mark.line + 1 + line_offset, mark.column + 1, exc.problem,
            f"it is first given on line {exc.first_line + 1 + line_offset}; keep one")) from None
    except yaml.MarkedYAMLError as exc:
        message, hint, mark = _friendly(exc, text)
        line = mark.line + 1 + line_offset if mark else None
        col = mark.column + 1 if mark else None
        raise YamlError(Diagnostic(path, line, col, message, hint)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlError(Diagnostic(path, None, None, f"invalid YAML: {exc}")) from None
    except RecursionError:
        raise YamlError(Diagnostic(path, None, None, "YAML nested too deeply")) from None


class YamlError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def locate(text: str, keys: tuple, line_offset: int = 0) -> tuple[int | None, int | None]:
    """(line, col) in the file of the value at ``keys`` (mapping keys / list indices).

    A key path ending in a mapping key points at the key; a path ending in an index points at
    that list item. Falls back to the deepest part found, then to (None, None).
    """
    try:
        node = yaml.compose(text, Loader=_Base)
    except yaml.YAMLError:
        return None, None
    best = (None, None)
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            for k, v in node.value:
                if getattr(k, "value", None) == key:
                    best = (k.start_mark.line + 1 + line_offset, k.start_mark.column + 1)
                    node = v
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            best = (node.start_mark.line + 1 + line_offset, node.start_mark.column + 1)
        else:
            return best
    return best


# ----------------------------------------------------------------------------- the common case

# Front matter is nearly always `key: value` lines with plain or quoted text, `[a, b]` lists
# and `- item` lists. For those, simple_mapping() gives what the YAML loader gives without
# running it (which costs about 0.13 ms a file, more than the rest of reading one): anything
# else -- nesting, comments after values, escapes, anchors, numbers, a line it does not know --
# returns None, and the loader reads the text, reporting any mistake with its position.
# tests/test_yamlio.py checks that every mapping it returns is what the loader returns.
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?")
_ITEM = re.compile(r"( *)- +(.*)")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_STOPS = re.compile(r"[,\[\]{}:#]")
# One item of a one-line [a, "b", 'c'] list and the comma after it, if any.
_FLOW_ITEM = re.compile(r""" *(?:"([^"]*)"|'((?:[^']|'')*)'|([^,"' ][^,]*?)) *(,|\Z)""")
# What YAML reads as a line break or refuses to read (yaml.reader.Reader.NON_PRINTABLE)
_UNSAFE = re.compile("[^\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
                     "|[\u2028\u2029\ufeff]")
_ASCII_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f]")  # (the same, for ASCII text)
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_STR = "tag:yaml.org,2002:str"
_NO = object()


def simple_mapping(text: str) -> dict | None:
    """The mapping ``text`` holds, when it is written in the simplest YAML (see above);
    otherwise None."""
    if (_ASCII_UNSAFE if text.isascii() else _UNSAFE).search(text):
        return None
    out: dict = {}
    key = None  # the key whose value is a `- item` list being read
    indent = None
    for line in text.split("\n"):
        line = line.rstrip(" ")
        if not line or line[0] == "#":
            continue
        if key is not None:
            m = _ITEM.fullmatch(line)
            if m:
                if indent is None:
                    indent = m.group(1)
                value = _scalar(m.group(2), flow=False)
                if m.group(1) != indent or value is _NO:
                    return None
                if out[key] is None:
                    out[key] = []
                out[key].append(value)
                continue
            key = None
        m = _KEY.fullmatch(line)
        if m is None or _key_tag(m.group(1)) != _STR or m.group(1) in out:
            return None
        rest = m.group(2)
        if not rest:
            out[m.group(1)] = None
            key, indent = m.group(1), None
        elif rest[0] == "[":
            value = _flow_list(rest)
            if value is None:
                return None
            out[m.group(1)] = value
        else:
            value = _scalar(rest, flow=False)
            if value is _NO:
                return None
            out[m.group(1)] = value
    return out or None


def _scalar(s: str, flow: bool):
    """One scalar written on one line, as the loader reads it, or _NO when unsure."""
    first = s[0]
    if first == '"':
        inner = s[1:-1]
        if len(s) < 2 or s[-1] != '"' or '"' in inner or "\\" in inner:
            return _NO
        return inner
    if first == "'":
        inner = s[1:-1]
        if len(s) < 2 or s[-1] != "'" or "'" in inner.replace("''", ""):
            return _NO
        return inner.replace("''", "'")
    if (first in _INDICATORS or ": " in s or s[-1] == ":" or " #" in s
            or (flow and _FLOW_STOPS.search(s))):
        return _NO
    tag = _resolve(s)
    if tag == _STR or tag == "tag:yaml.org,2002:timestamp":  # (dates are kept as text)
        return s
    if tag == "tag:yaml.org,2002:bool":
        return _BOOLS[s.lower()]
    if tag == "tag:yaml.org,2002:null":
        return None
    return _NO  # a number: the loader knows its forms


def _flow_list(s: str) -> list | None:
    """``[a, "b", 'c']`` on one line, or None when unsure."""
    if s[-1] != "]" or s.count("[") != 1:
        return None
    inner, pos, out = s[1:-1], 0, []
    if not inner.strip(" "):
        return []
    while True:
        m = _FLOW_ITEM.match(inner, pos)
        if m is None:
            return None
        double, single, plain, end = m.groups()
        if double is not None:
            if "\\" in double:
                return None
            out.append(double)
        elif single is not None:
            out.append(single.replace("''", "'"))
        else:
            value = _scalar(plain, flow=True)
            if value is _NO or value is None:
                return None
            out.append(value)
        if not end:
            return out
        pos = m.end()


_key_tags: dict[str, str] = {}


def _key_tag(key: str) -> str:
    tag = _key_tags.get(key)
    if tag is None:
        tag = _key_tags[key] = _resolve(key)
    return tag


def _resolve(value: str) -> str:
    """The tag the loader gives a plain scalar (yaml.resolver.BaseResolver.resolve)."""
    resolvers = Loader.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[0] if value else "", []) + resolvers.get(None, []):
        if regexp.match(value):
            return tag
    return _STR
