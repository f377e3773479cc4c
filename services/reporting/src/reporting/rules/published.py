"""Published results kept by their exact inputs, so that the disclosure audit runs once per set
of figures, not once per request.

Why a kept result is never stale: every key is the whole input of a deterministic function
(every count of every organisation, month and theme that goes into the output, and the trend
beside it). Any new fact changes a count, so it changes the key, and the next request publishes
afresh; nothing is ever invalidated by time or by hand. Each cache is bounded (least recently
used first out), so the memory kept stays small whatever readers ask for.

A cache may be read and written from more than one thread (the FFT views are published on a
thread of their own: ``cross_output.fft_views_off_loop``), so each holds a lock: even a read
of a least-recently-used cache reorders it."""

import threading
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache


class Kept:
    """A bounded cache of published results (least recently used out); ``forget`` empties
    every one."""

    def __init__(self, size: int) -> None:
        self._cache: LRUCache[Any, Any] = LRUCache(maxsize=size)
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Any) -> Any:
        """The result kept for ``key``, or None."""
        with self._lock:
            return self._cache.get(key)

    def get_or_make(self, key: Any, make: Callable[[], Any]) -> Any:
        """The result kept for ``key``, else ``make()``'s, kept. ``make`` runs without the
        lock held: a reader of another key is never kept waiting by an audit."""
        found = self.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._cache[key] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)


_ALL: list[Kept] = []


def kept(size: int) -> Kept:
    """A bounded cache of published results; ``forget`` empties every one."""
    return Kept(size)


def forget() -> None:
    """Forget every published result (benchmarks of the cold path, tests)."""
    for cache in _ALL:
        cache.clear()
