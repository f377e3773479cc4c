"""Waking a worker when rows it works on are added, instead of asking the database all the time.

On PostgreSQL a trigger (``trigger_statements``) sends a notification on a channel when a
statement adds rows to a table: once per transaction, on commit (PostgreSQL folds repeats).
A worker that finds nothing to do waits on that channel (``Wakeup.wait``) and looks again
when it is notified, or after ``notified_poll`` seconds anyway: the safety net for a
notification missed while it reconnected, and for work that falls due with time. Where
there are no notifications (SQLite, or PostgreSQL while the listening connection is down)
it waits ``poll`` seconds instead."""

import asyncio
import contextlib
import time
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from hub_shared.logging import get_logger

log = get_logger(__name__)


def trigger_statements(table: str, channel: str) -> tuple[str, str]:
    """The statements (PostgreSQL) making every statement that adds rows to ``table`` notify
    ``channel``: a function ``hub_<table>_written`` and a trigger ``<table>_written``."""
    return (
        f"CREATE FUNCTION hub_{table}_written() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$",
        f"CREATE TRIGGER {table}_written AFTER INSERT ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION hub_{table}_written()",
    )


def drop_trigger_statements(table: str) -> tuple[str, str]:
    return (f"DROP TRIGGER {table}_written ON {table}", f"DROP FUNCTION hub_{table}_written()")


class Wakeup:
    """Waits until rows may have been added to a table whose inserts notify ``channel``."""

    def __init__(
        self, url: URL, channel: str, *, poll: float, notified_poll: float, retry_listening: float, waiter: str
    ) -> None:
        self._url = url
        self._channel = channel
        self._poll = poll
        self._notified_poll = notified_poll
        self._retry_listening = retry_listening
        self._waiter = waiter  # who waits, for the log
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._listen_again_at = 0.0  # after a failed attempt to listen, poll until then

    async def wait(self, stopping: asyncio.Event) -> None:
        """Until notified, ``notified_poll`` at most; ``poll`` while not listening. Returns at
        once on starting to listen (rows added before then were not announced) and when
        ``stopping`` is set."""
        if self._listener is None:
            if await self._listen() is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=self._poll)
            return
        notified = asyncio.ensure_future(self._notified(self._listener))
        stopped = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({notified, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not notified.done():  # stopping: the connection may be left mid-read
                notified.cancel()
                await asyncio.wait({notified})
                await self.close()
        if not notified.cancelled() and notified.exception() is not None:
            # The database went away: poll for now, and listen again once it is back.
            log.info(f"{self._waiter} stopped listening; polling", error=repr(notified.exception()))
            await self.close()

    async def _notified(self, listener: "psycopg.AsyncConnection[Any]") -> None:
        async for _ in listener.notifies(timeout=self._notified_poll, stop_after=1):
            pass

    async def _listen(self) -> "psycopg.AsyncConnection[Any] | None":
        """A connection of its own listening on the channel, where the store is PostgreSQL and
        it can be had; otherwise None (and polling) for a while."""
        if self._url.get_backend_name() != "postgresql" or time.monotonic() < self._listen_again_at:
            return None
        try:
            conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            listener = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, connect_timeout=5)
            await listener.execute(f"LISTEN {self._channel}")
        except Exception as exc:
            log.info(f"{self._waiter} cannot listen for new rows; polling", error=repr(exc))
            self._listen_again_at = time.monotonic() + self._retry_listening
            return None
        self._listener = listener
        return listener

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()
