"""The correlation id follows one piece of work through HTTP, events and every log line."""

import uuid
from contextvars import ContextVar

import structlog

HEADER = "X-Correlation-ID"
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current() -> str:
    value = _current.get()
    if value is None:
        value = str(uuid.uuid4())
        bind(value)
    return value


def bind(value: str | None) -> str:
    value = value or str(uuid.uuid4())
    _current.set(value)
    structlog.contextvars.bind_contextvars(correlation_id=value)
    return value
