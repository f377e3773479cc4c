"""Per-tenant rate limits (the ``limits`` library: moving window, its asyncio flavour so
a check never blocks the event loop: the thread-based memory store starts a timer thread
per burst, ~2.5 ms of a request under load). In memory by default, which is per process
(per API worker); point ``storage_uri`` at Redis or Memcached (``async+redis://...``) to
share the window between workers and replicas."""

import time

from limits import parse
from limits.aio import strategies
from limits.storage import storage_from_string

from hub_shared.problems import Problem


class RateLimit:
    def __init__(self, spec: str, storage_uri: str = "memory://") -> None:
        self._item = parse(spec)  # e.g. "600/minute"
        self._spec = spec
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = strategies.MovingWindowRateLimiter(storage_from_string(uri))  # type: ignore[arg-type]

    async def check(self, tenant: str) -> None:
        if await self._limiter.hit(self._item, tenant):
            return
        reset = (await self._limiter.get_window_stats(self._item, tenant)).reset_time
        retry_after = max(1, int(reset - time.time()) + 1)
        raise Problem(
            429,
            "Too many requests",
            f"{tenant} is limited to {self._spec}; retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
