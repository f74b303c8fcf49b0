"""Full-text search: the Pagefind stage and its configuration.

The pipeline hands :func:`run_search_stage` one :class:`SearchRecord` per article and topic;
the stage indexes them with Pagefind's Python API into date-sharded bundles under
``pagefind/`` and skips every shard whose records did not change. The search page
(``theme/templates/search.html`` with ``assets/search.js``) merges the shards in the browser.
"""

from .config import SearchConfig
from .records import SearchRecord


def __getattr__(name: str):
    # The stage brings asyncio and Pagefind's client; `import builder.config` (every command's
    # start-up) needs only the settings class, so the stage loads when first asked for.
    if name in ("PAGEFIND_DIR", "SearchStats", "run_search_stage"):
        from . import stage
        return getattr(stage, name)
    raise AttributeError(name)

__all__ = ["PAGEFIND_DIR", "SearchConfig", "SearchRecord", "SearchStats", "run_search_stage"]
