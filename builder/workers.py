"""Worker processes for the stages that run in parallel (content, links, render, check).

Workers are forked, so they share the parent's pages without copying them, and they start
with the signal handling a worker needs rather than the parent's:
- SIGTERM does what it does by default, ending the process at once. ``Pool``'s exit sends it
  to every worker; a worker that inherited the preview's handler (which turns SIGTERM into
  KeyboardInterrupt so that ``kill`` stops ``briefs serve`` cleanly) could miss it and leave
  the pool's exit waiting for ever (seen: ``briefs serve`` hung in its first build);
- SIGINT is ignored: Ctrl-C reaches the whole process group, and the parent alone turns it
  into a clean stop (leaving the pool ends the workers), without a traceback from each one.
"""

from __future__ import annotations

import multiprocessing
import signal


def _reset_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def pool(jobs: int):
    """A pool of ``jobs`` forked worker processes (use it as a context manager)."""
    return multiprocessing.get_context("fork").Pool(jobs, initializer=_reset_signals)
