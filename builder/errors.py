"""Diagnostics: user mistakes as data with a position and a fix.

Every stage reports problems as :class:`Diagnostic` values and raises :class:`BuildError`
carrying all of them at once; only ``cli.py`` prints them and chooses the exit code, so a user
never sees a traceback for a mistake in their content, config or templates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located as precisely as we know it."""

    path: str
    """File the problem is in, relative to the site folder where possible."""
    line: int | None = None
    """1-based line, or None when the whole file is meant."""
    col: int | None = None
    """1-based column, or None when unknown."""
    message: str = ""
    """What is wrong."""
    hint: str | None = None
    """How to fix it, shown in parentheses."""
    severity: str = "error"
    """``error`` stops the build; ``warning`` is reported and the build goes on."""

    def location(self) -> str:
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.col is not None:
                loc += f":{self.col}"
        return loc

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class BuildError(Exception):
    """Raised with every diagnostic a stage collected; the build stops and ``public/`` is kept."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = sorted(set(diagnostics), key=_order)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def _order(d: Diagnostic) -> tuple:
    return (d.path, d.line or 0, d.col or 0, d.message)


def error(path: str, message: str, hint: str | None = None, line: int | None = None,
          col: int | None = None) -> Diagnostic:
    return Diagnostic(path=path, line=line, col=col, message=message, hint=hint)


def warning(path: str, message: str, hint: str | None = None, line: int | None = None,
            col: int | None = None) -> Diagnostic:
    return Diagnostic(path=path, line=line, col=col, message=message, hint=hint,
                      severity="warning")
