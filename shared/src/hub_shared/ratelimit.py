"""Per-tenant rate limits (the ``limits`` library: moving window). In memory by default,
which is per process; point ``storage_uri`` at Redis or Memcached to share the window
between replicas."""

import time

from limits import parse, storage, strategies

from hub_shared.problems import Problem


class RateLimit:
    def __init__(self, spec: str, storage_uri: str = "memory://") -> None:
        self._item = parse(spec)  # e.g. "600/minute"
        self._spec = spec
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def check(self, tenant: str) -> None:
        if self._limiter.hit(self._item, tenant):
            return
        reset = self._limiter.get_window_stats(self._item, tenant).reset_time
        retry_after = max(1, int(reset - time.time()) + 1)
        raise Problem(
            429,
            "Too many requests",
            f"{tenant} is limited to {self._spec}; retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
