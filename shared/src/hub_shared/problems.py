"""RFC 9457 problem details for every error a service returns: field-by-field for bad
input, never a bare 500 page."""

from typing import Any

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from hub_shared.failures import is_transient
from hub_shared.logging import get_logger

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5
log = get_logger(__name__)


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=request.url.path),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def field_errors(errors: Any) -> list[dict[str, str]]:
    """Pydantic errors as {field, message, type}; field is a dotted path into the body."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "(body)", "message": err.get("msg", ""), "type": err.get("type", "")})
    return out


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers for this path (asking each route, as routing does)."""
    return [
        method
        for method in METHODS
        if any(
            isinstance(route, BaseRoute) and route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors())
        return problem_response(
            Problem(422, "Invalid request", f"{len(errors)} field(s) failed validation", errors=errors), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first route whose path matched; list every method
            # this path answers to (GET and PATCH on one resource are separate routes).
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=headers), request)

    async def _dependency_down(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, sa_exc.DataError) and "NUL (0x00)" in str(exc.orig):
            # PostgreSQL text cannot hold a NUL character; no one means to send one.
            return problem_response(
                Problem(
                    422,
                    "Invalid request",
                    "Text may not contain the NUL character (\\u0000).",
                    errors=[{"field": "(body)", "message": "contains the NUL character", "type": "nul_character"}],
                ),
                request,
            )
        if not is_transient(exc):
            raise exc  # a bug, not an outage: the 500 handler below logs it
        # The request was not applied: a retry (Idempotency-Key makes it safe) will succeed.
        dependency = "broker" if isinstance(exc, KafkaError) else "database"
        log.warning("dependency unavailable", path=request.url.path, dependency=dependency, error=repr(exc))
        return problem_response(
            Problem(
                503,
                "Service temporarily unavailable",
                f"The {dependency} cannot be reached; nothing was changed. Retry after the time given.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                dependency=dependency,
            ),
            request,
        )

    # Handlers for these types run inside the app (not in the server-error layer), so an
    # outage is an answer, not an exception.
    for kind in (sa_exc.DBAPIError, sa_exc.TimeoutError, sa_exc.DisconnectionError, KafkaError, OSError):
        app.add_exception_handler(kind, _dependency_down)  # type: ignore[arg-type]

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            Problem(500, "Internal error", "The error was logged with this request's correlation id."), request
        )
