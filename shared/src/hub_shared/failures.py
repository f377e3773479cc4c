"""Which failures pass and which are the event's own: the one place that decides.

*Transient* failures are the world's, not the event's: the database or broker cannot be
reached, a connection was lost, a serialisation conflict or deadlock, a timeout. Work
that meets one waits and tries again for as long as it takes; it is never dead-lettered.

*Permanent* failures are the event's: it is invalid, a rule rejects it
(``PermanentFailure``), or the code fails on it every time (any other exception). They
get a bounded number of attempts and then the dead-letter topic.

A failure whose type says transient while the database answers a ping is counted: past
``HUB_CONSUMER_MAX_TRANSIENT_ATTEMPTS`` such attempts on one event, the event itself is
the problem (a misclassified bug) and it is treated as permanent, so nothing can block a
partition for good."""

import asyncio

from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc


class PermanentFailure(Exception):
    """Raised by a handler for an event that can never succeed: dead-letter it at once."""


class DependencyUnavailable(Exception):
    """Raised by code that found a dependency down: transient by definition."""


# Errors a driver raises when the server is unreachable, the connection dropped, or the
# transaction lost a race (psycopg's SerializationFailure and DeadlockDetected are
# OperationalErrors; SQLite's "database is locked" is one too).
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    DependencyUnavailable,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # connection pool exhausted
    sa_exc.DisconnectionError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    OSError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.LeaderNotAvailableError,
)


def is_transient(exc: BaseException) -> bool:
    """True when waiting and trying again can succeed without any change to the event."""
    if isinstance(exc, PermanentFailure):
        return False
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, kafka_errors.KafkaError) and getattr(exc, "retriable", False):
        return True
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, _TRANSIENT_TYPES)
