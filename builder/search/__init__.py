"""Full-text search: the Pagefind stage and its configuration.

The pipeline hands :func:`run_search_stage` one :class:`SearchRecord` per article and topic;
the stage indexes them with Pagefind's Python API into date-sharded bundles under
``pagefind/`` and skips every shard whose records did not change. The search page
(``theme/templates/search.html`` with ``assets/search.js``) merges the shards in the browser.
"""

from .config import SearchConfig
from .records import SearchRecord
from .stage import PAGEFIND_DIR, SearchStats, run_search_stage

__all__ = ["PAGEFIND_DIR", "SearchConfig", "SearchRecord", "SearchStats", "run_search_stage"]
