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
