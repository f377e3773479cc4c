"""The HTTP shell every service shares: problem details, correlation ids, /healthz,
/readyz (database and broker), /metrics, the AsyncAPI document next to FastAPI's OpenAPI
one, and what protects every page and API response:

* **Security headers** (``SecurityHeaders``) on every response: a Content-Security-Policy
  (the service's own scripts, styles and images only; no plugins; forms post to the service
  itself; never framed: ``frame-ancestors 'none'``), ``Referrer-Policy: same-origin`` (links
  in pages carry tokens), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Cross-Origin-Opener-Policy``, and ``Cache-Control: no-store`` on HTML. The API documents
  (``/docs``, ``/redoc``) get the looser policy their bundled viewers need.
* **Forms from other sites are refused** (``SameSiteForms``): a browser's POST (PUT, PATCH,
  DELETE) whose ``Origin`` (or ``Sec-Fetch-Site``) says it came from another site gets 403,
  so no page can sign a person in or out, or act with their cookie, from elsewhere. Clients
  that are not browsers send neither header and are not affected; a path that is meant to be
  posted from elsewhere (RFC 8058 one-click unsubscribe, by mail providers) is named.

And what public pages (no token) share: a limit per client address (``public_limit``) and
answers in steady time (``steady_timing``), so neither the count nor the timing of an answer
tells whether an address is known. The client address is the connection's, or what a trusted
proxy says (``HUB_TRUSTED_PROXIES``, none by default: ``server_options``)."""

import asyncio
import functools
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub_shared import correlation, problems
from hub_shared.asyncapi import as_cloudevents
from hub_shared.auth import TokenVerifier
from hub_shared.db import create_engine, session_factory
from hub_shared.health import check_dependencies
from hub_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from hub_shared.organisation_feed import following
from hub_shared.organisations import reference
from hub_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from hub_shared.consumer import EventConsumer


def server_options(settings: ServiceSettings) -> dict[str, Any]:
    """How uvicorn serves every service's HTTP. ``X-Forwarded-For`` and ``-Proto`` are believed
    only from the proxies in ``HUB_TRUSTED_PROXIES`` (uvicorn would otherwise believe any
    loopback peer, and a client could pick the address its rate limit counts under)."""
    trusted = settings.trusted_proxies.strip()
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 20,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }


async def public_limit(request: Request) -> None:
    """The per-client limit on a service's public forms (``app.state.public_rate_limit``); a
    ``Problem`` (429) past it."""
    client = request.client.host if request.client else "unknown"
    await request.app.state.public_rate_limit.check(f"public:{client}")


@asynccontextmanager
async def steady_timing(request: Request) -> AsyncIterator[None]:
    """Answer no sooner than the service's ``public_response_floor_ms``, so an answer that did
    less work (an address not known, an email not sent) takes the same time."""
    started = time.monotonic()
    try:
        yield
    finally:
        floor = request.app.state.settings.public_response_floor_ms / 1000
        await asyncio.sleep(max(0.0, floor - (time.monotonic() - started)))


_CORRELATION_HEADER = correlation.HEADER.lower().encode()


class RequestContext:
    """Pure ASGI middleware: binds the correlation id (taken from the request or new),
    returns it in the response, and records request metrics by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The labelled metrics of each (method, route[, status]), looked up once: prometheus'
        # ``labels()`` takes a lock and builds its key on every call, on every request.
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(_CORRELATION_HEADER, b"").decode() or None
        cid = correlation.bind(given)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (_CORRELATION_HEADER, cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            matched = scope.get("route")  # the template, without convertors ({id:uuid} -> {id})
            route = str(getattr(matched, "path_format", None) or getattr(matched, "path", "unmatched"))
            method: str = scope["method"]
            counted = (method, route, str(status))
            if (counter := self._counters.get(counted)) is None:
                counter = self._counters[counted] = HTTP_REQUESTS.labels(*counted)
            counter.inc()
            if (timer := self._timers.get((method, route))) is None:
                timer = self._timers[method, route] = HTTP_LATENCY.labels(method, route)
            timer.observe(time.perf_counter() - started)


class BodySizeLimit:
    """Pure ASGI: refuses request bodies over a per-path limit with 413, whether the size
    is declared (Content-Length) or only discovered while streaming."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        problem = problems.Problem(
            413, "Request too large", f"The body of {scope['path']} may be at most {limit} bytes."
        )
        body = json.dumps(problem.body(instance=scope["path"])).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", problems.MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# Only the service's own resources; inline style attributes are allowed (the emails previewed
# and the dashboard's bars use them), inline scripts never (a page that needs one uses a nonce).
PAGE_POLICY: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# FastAPI's Swagger UI and ReDoc pages: their bundles (from jsDelivr unless a service serves
# them itself) and the inline script that starts them. They show no personal data.
DOCS_POLICY: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "img-src": "'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src": "'self' https://fonts.gstatic.com",
    "worker-src": "'self' blob:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (module docstring) to every response.
    ``nonce_key``: a fresh script nonce per request, kept in the scope under that key for the
    page to use, and allowed by the policy. ``https``: add Strict-Transport-Security."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: Mapping[str, str] = PAGE_POLICY,
        docs_paths: Collection[str] = DOCS_PATHS,
        nonce_key: str | None = None,
        https: bool = False,
    ) -> None:
        self.app = app
        self.policy = dict(policy)
        self.docs_paths = frozenset(docs_paths)
        self.nonce_key = nonce_key
        self.https = https
        self._fixed = {path: _policy(DOCS_POLICY) for path in self.docs_paths}
        # Without a nonce every page's policy is the same text: made once, not per response.
        self._page = None if nonce_key else _policy(self.policy)
        self._always = [
            (b"referrer-policy", b"same-origin"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self._always.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = self._fixed.get(scope["path"]) or self._page
        if header is None:
            directives = self.policy
            if self.nonce_key:
                nonce = secrets.token_urlsafe(16)
                scope[self.nonce_key] = nonce
                directives = {**directives, "script-src": f"{directives.get('script-src', '')} 'nonce-{nonce}'".strip()}
            header = _policy(directives)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                added = [(b"content-security-policy", header.encode()), *self._always]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in names:
                    added.append((b"cache-control", b"no-store"))
                message["headers"] = headers + [(k, v) for k, v in added if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _policy(directives: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SameSiteForms:
    """Pure ASGI middleware: a browser's state-changing request from another site is refused
    (403 problem), except on ``open_paths``. Same site means the ``Origin`` is this service's
    own (scheme, host and port as the request reached it); where a browser sends no
    ``Origin``, ``Sec-Fetch-Site`` must not say ``cross-site`` or ``same-site``."""

    def __init__(self, app: ASGIApp, *, open_paths: Collection[str] = ()) -> None:
        self.app = app
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
        if origin:
            host = headers.get(b"host", b"").decode("latin-1")
            own = {f"{scheme}://{host}" for scheme in ("http", "https")} if host else set()
            foreign = origin not in own  # "null" (a sandboxed or privacy-sensitive context) too
        else:
            foreign = fetch_site in {"cross-site", "same-site"}
        if not foreign:
            await self.app(scope, receive, send)
            return
        problem = problems.Problem(
            403,
            "Sent from another site",
            "This form must be sent from this service's own page: open the page again and send it from there.",
        )
        body = json.dumps(problem.body(instance=scope["path"])).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", problems.MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_service_app(
    *,
    title: str,
    description: str,
    settings: ServiceSettings,
    asyncapi: Callable[[async_sessionmaker[AsyncSession]], dict[str, Any]],
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None,
    on_shutdown: Callable[[FastAPI], Awaitable[None]] | None = None,
    body_limit_for: Callable[[str], int] = lambda _path: 1024 * 1024,
    cross_site_paths: Collection[str] = (),
) -> FastAPI:
    """A service's API: its store's engine and sessions on app.state, health, metrics, problem
    documents, security headers, body limits and its AsyncAPI document (`asyncapi` builds it
    from the sessions its consumers would use)."""
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with following(settings) as feed:
            app.state.organisation_feed = feed
            if on_startup:
                await on_startup(app)
            yield
            if on_shutdown:
                await on_shutdown(app)
        await engine.dispose()

    # The document only changes with the code: build it (a broker and its spec) once.
    asyncapi_once = functools.cache(lambda: as_cloudevents(asyncapi(sessions)))
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        responses={
            503: {
                "description": "A dependency (database or broker) is unavailable; nothing was changed. "
                "Retry after the `Retry-After` seconds.",
                "content": {problems.MEDIA_TYPE: {}},
            }
        },
    )
    document_body_errors(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.token_verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_path=settings.jwks_path,
        jwks_url=settings.jwks_url,
        identity_provider=settings.identity_provider,
    )
    problems.install(app)

    app.add_middleware(BodySizeLimit, limit_for=body_limit_for)
    app.add_middleware(SameSiteForms, open_paths=cross_site_paths)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Database and broker reachable, organisations held")
    async def readyz() -> JSONResponse:
        checks = await check_dependencies(engine, settings.kafka_bootstrap_servers)
        checks["organisations"] = "ok" if reference().icbs() else "none published yet (hub reference import)"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/asyncapi.json",
        tags=["operations"],
        summary="AsyncAPI document of the events this service publishes and consumes",
    )
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi_once()

    return app


BODY_ERRORS = {
    "400": "The body could not be read (e.g. it is not UTF-8)",
    "413": "The body is over this route's size limit",
}


def document_body_errors(app: FastAPI) -> None:
    """Every route that takes a body can answer 400 (FastAPI, for a body it cannot read)
    and 413 (``BodySizeLimit``), and every 422 is a problem document: say so in the OpenAPI
    document of every service."""
    generate = app.openapi
    made_for: list[object] = [None]  # the organisations the document names (an import changes them)

    def openapi() -> dict[str, Any]:
        if made_for[0] is not reference().generation:
            app.openapi_schema, made_for[0] = None, reference().generation
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    invalid = operation.get("responses", {}).get("422") if isinstance(operation, dict) else None
                    if invalid and "application/json" in invalid.get("content", {}):
                        # FastAPI's default 422 says JSON; problems.install answers problem+json.
                        invalid["description"] = "A field failed validation; each is named in `errors` (RFC 9457)"
                        invalid["content"] = {problems.MEDIA_TYPE: {}}
                    if isinstance(operation, dict) and "requestBody" in operation:
                        for status, description in BODY_ERRORS.items():
                            operation.setdefault("responses", {}).setdefault(
                                status,
                                {
                                    "description": f"{description} (RFC 9457 problem details)",
                                    "content": {problems.MEDIA_TYPE: {}},
                                },
                            )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def consumer_health_app(consumers: "list[EventConsumer]", engine: AsyncEngine, bootstrap_servers: str) -> FastAPI:
    """The consume process's probes: not ready while the database or broker is down or
    while a consumer waits out an unavailable dependency (it is paused, not failing)."""
    app = FastAPI(title="consumer health", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await check_dependencies(engine, bootstrap_servers)
        checks.update({f"consumer {c.group}": "paused: retrying" if c.paused else "ok" for c in consumers})
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
