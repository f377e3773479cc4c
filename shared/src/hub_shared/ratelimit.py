"""Per-tenant rate limits as a sliding window counter (the ``limits`` library's strategy:
the previous window's count, weighted by how much of it is still inside the window, plus
the current window's), kept in one of two stores:

* ``memory://`` (the default): in the process, which is per API worker. Right for one
  worker; with ``<PREFIX>_HTTP_WORKERS`` > 1 each worker would allow the whole rate.
* ``postgresql://...``: shared by every worker and replica. A worker leases a few
  permits at a time from a counter row per tenant and window (one statement that never
  grants past the limit) and spends them locally, so most requests make no round trip:
  the limit is never exceeded, and at most a lease per other worker goes unused.

Other ``limits`` stores (``redis://``, ``memcached://``) work too, one round trip a
request. The memory store counts in O(1): limits' moving window kept a list entry per
request and trimmed it on a thread, ~25% of a request at high rates."""

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass

import psycopg
from limits import RateLimitItem, parse
from limits.aio import strategies
from limits.storage import storage_from_string

from hub_shared.problems import RETRY_AFTER_SECONDS, Problem


class RateLimit:
    def __init__(self, spec: str, storage_uri: str = "memory://") -> None:
        self._item = parse(spec)  # e.g. "600/minute"
        self._spec = spec
        self._shared: SharedWindows | None = None
        self._limiter: strategies.SlidingWindowCounterRateLimiter | None = None
        if storage_uri.split("://")[0].split("+")[0] in ("postgresql", "postgres"):
            self._shared = SharedWindows(storage_uri, self._item)
        else:
            uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
            self._limiter = strategies.SlidingWindowCounterRateLimiter(storage_from_string(uri))  # type: ignore[arg-type]

    async def check(self, tenant: str) -> None:
        if self._shared is not None:
            if await self._shared.hit(tenant):
                return
            retry_after = self._shared.retry_after()
        else:
            assert self._limiter is not None
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

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()


@dataclass
class _Lease:
    window: int
    left: int


SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit_window (
    key text NOT NULL,
    window_no bigint NOT NULL,
    used integer NOT NULL,
    granted integer NOT NULL,
    PRIMARY KEY (key, window_no)
)"""
# One statement grants up to %(want)s permits, never past what the sliding window allows:
# limit - previous window's count x its weight - what this window already granted.
LEASE = """
WITH room AS (
    SELECT GREATEST(0, floor(%(limit)s - coalesce(
        (SELECT used FROM rate_limit_window WHERE key = %(key)s AND window_no = %(window)s - 1), 0
    ) * %(weight)s))::integer AS free
)
INSERT INTO rate_limit_window AS w (key, window_no, used, granted)
SELECT %(key)s, %(window)s, LEAST(%(want)s, free), LEAST(%(want)s, free) FROM room
ON CONFLICT (key, window_no) DO UPDATE SET
    granted = LEAST(%(want)s, GREATEST(0, (SELECT free FROM room) - w.used)),
    used = w.used + LEAST(%(want)s, GREATEST(0, (SELECT free FROM room) - w.used))
RETURNING granted"""
PRUNE = "DELETE FROM rate_limit_window WHERE window_no < %(window)s - 1"


class SharedWindows:
    """Sliding window counters in PostgreSQL, spent locally a lease at a time."""

    def __init__(self, url: str, item: RateLimitItem) -> None:
        self._url = "postgresql://" + url.split("://", 1)[1]  # libpq's form of a SQLAlchemy URL
        self._item = item
        self._period = item.get_expiry()
        # Small leases keep the unused share small; 1 (exact) for small limits.
        self._lease_size = max(1, min(item.amount // 100, 50))
        self._leases: dict[str, _Lease] = {}
        self._connection: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._pruned = -1

    async def hit(self, tenant: str) -> bool:
        key = self._item.key_for(tenant)
        window = int(time.time() // self._period)
        lease = self._leases.get(key)
        if lease is None or lease.window != window or lease.left == 0:
            async with self._lock:  # one lease at a time per worker; others may have refilled it
                lease = self._leases.get(key)
                if lease is None or lease.window != window or lease.left == 0:
                    lease = self._leases[key] = _Lease(window, await self._lease(key, window))
        if lease.left == 0:
            return False
        lease.left -= 1
        return True

    def retry_after(self) -> int:
        return max(1, math.ceil(self._period - time.time() % self._period))

    async def _lease(self, key: str, window: int) -> int:
        weight = 1 - (time.time() % self._period) / self._period  # of the previous window still inside
        try:
            connection = await self._connect()
            granted = await (
                await connection.execute(
                    LEASE,
                    {
                        "key": key,
                        "window": window,
                        "want": self._lease_size,
                        "limit": self._item.amount,
                        "weight": weight,
                    },
                )
            ).fetchone()
            if self._pruned != window:
                await connection.execute(PRUNE, {"window": window})
                self._pruned = window
        except psycopg.Error as exc:
            await self.close()  # a new connection next time
            raise Problem(
                503,
                "Service temporarily unavailable",
                "The rate limit store cannot be reached; nothing was changed. Retry after the time given.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                dependency="database",
            ) from exc
        assert granted is not None
        return int(granted[0])

    async def _connect(self) -> psycopg.AsyncConnection:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            with contextlib.suppress(psycopg.errors.UniqueViolation):  # another worker created it just now
                await self._connection.execute(SCHEMA)
        return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
