"""Structured logs carrying service, tenant, event id and correlation id from structlog's
context variables: JSON for machines, structlog's console renderer for people.

``HUB_LOG_FORMAT``: ``json``, ``console``, or ``auto`` (the default: console when stderr is
a terminal). A supervisor that pipes its children's output (honcho under ``make run``) hides
the terminal from them, so ``deploy/run.sh`` sets ``console`` when it runs on one."""

import logging
import os
import sys

import structlog


def wants_console() -> bool:
    chosen = os.environ.get("HUB_LOG_FORMAT", "auto").strip().lower()
    if chosen in ("console", "json"):
        return chosen == "console"
    return sys.stderr.isatty()


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (a command run inside a test has its
    stderr swapped, and closed, around it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service: str, level: str = "INFO") -> None:
    renderer: structlog.types.Processor
    console = wants_console()
    if console:
        # Plain tracebacks: rich's, with every frame's locals, take seconds to render and
        # fill screens with request bodies.
        renderer = structlog.dev.ConsoleRenderer(
            colors=os.environ.get("NO_COLOR") is None, exception_formatter=structlog.dev.plain_traceback
        )
    else:
        renderer = structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S" if console else "iso", utc=not console),
            structlog.processors.StackInfoRenderer(),
            *([] if console else [structlog.processors.format_exc_info]),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    if console:
        # FastStream's own start/assignment/shutdown lines (long partition lists) drown the
        # hub's for a person; the hub logs what matters (started, batch consumed, paused).
        # A filter, not a level: the broker sets its logger's level when it is created.
        for name in ("faststream", "faststream.access", "faststream.access.kafka"):
            logging.getLogger(name).addFilter(_warnings_and_above)


def _warnings_and_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
