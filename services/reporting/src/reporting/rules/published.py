"""Published results kept by their exact inputs, so that the disclosure audit runs once per set
of figures, not once per request.

Why a kept result is never stale: every key is the whole input of a deterministic function
(every count of every organisation, month and theme that goes into the output, and the trend
beside it). Any new fact changes a count, so it changes the key, and the next request publishes
afresh; nothing is ever invalidated by time or by hand. Each cache is bounded (least recently
used first out), so the memory kept stays small whatever readers ask for.

The FFT views are published off the event loop (``cross_output.fft_views_off_loop``): their
cache is read on the loop and written by the audit's thread, under ``LOCK``."""

import threading
from typing import Any

from cachetools import LRUCache

_ALL: list[LRUCache[Any, Any]] = []
LOCK = threading.Lock()  # an LRU read reorders the cache: reads and writes alike hold it


def kept(size: int) -> LRUCache[Any, Any]:
    """A bounded cache of published results; ``forget`` empties every one."""
    cache: LRUCache[Any, Any] = LRUCache(maxsize=size)
    _ALL.append(cache)
    return cache


def forget() -> None:
    """Forget every published result (benchmarks of the cold path, tests)."""
    with LOCK:
        for cache in _ALL:
            cache.clear()
