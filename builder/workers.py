"""Worker processes for the stages that run in parallel (content, links, render, check).

Workers are forked, so they share the parent's pages without copying them, and they start
with the signal handling a worker needs rather than the parent's:
- SIGTERM does what it does by default, ending the process at once. ``Pool``'s exit sends it
  to every worker; a worker that inherited the preview's handler (which turns SIGTERM into
  KeyboardInterrupt so that ``kill`` stops ``briefs serve`` cleanly) could miss it and leave
  the pool's exit waiting for ever (seen: ``briefs serve`` hung in its first build);
- SIGINT is ignored: Ctrl-C reaches the whole process group, and the parent alone turns it
  into a clean stop (leaving the pool ends the workers), without a traceback from each one.

A pool can be left before one of its workers has got that far (the others did the tasks), so
the workers are forked with SIGTERM blocked: a SIGTERM sent then waits in the kernel until the
worker has its default handler, instead of reaching the parent's handler or being dropped by
CPython's fork handling (which clears signals it had noted but not yet handled) and leaving
the worker, and the pool's exit, waiting for ever.
"""

from __future__ import annotations

import multiprocessing
import signal


def _reset_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # (see the module docstring)


def pool(jobs: int):
    """A pool of ``jobs`` forked worker processes (use it as a context manager)."""
    # Blocked in this thread while it forks the workers, which inherit the mask; the pool's
    # own threads (which fork any replacement worker) keep it, and a SIGTERM for this process
    # goes to a thread that does not block it, or waits the milliseconds until it does not.
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return multiprocessing.get_context("fork").Pool(jobs, initializer=_reset_signals)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
