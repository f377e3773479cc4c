"""Entry points: ``create_app`` for the console, and ``cli`` for the image's commands
(``migrate``, ``api``)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import typer
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console import SERVICE_NAME
from console.hub_api import ApiProblem, api_clients
from console.pages import emails, feedback, groups, home, opportunities, reports, sign_in
from console.security import ForgedRequest, SecurityHeaders, protect_forms
from console.sessions import ServerSideSessions, SessionStore
from console.settings import ConsoleSettings
from console.signin import SignInRefused, SignInRequired, provider_client
from console.templating import HERE, NHSUK, render
from hub_shared import migrations
from hub_shared.db import create_engine, ping, session_factory
from hub_shared.logging import configure_logging, get_logger
from hub_shared.organisation_feed import following
from hub_shared.web import RequestContext, server_options

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
log = get_logger(__name__)


@cache
def nhsuk_css() -> str:
    """NHS.UK frontend's stylesheet without its @font-face rules (the Frutiger font is loaded
    from another host, which the policy forbids): text falls back to Arial."""
    return FONT_FACE.sub("", next(NHSUK.glob("nhsuk-frontend-*.min.css")).read_text())


def create_app(
    settings: ConsoleSettings | None = None, *, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> FastAPI:
    """The console. ``transports`` serves a service's API in-process (tests)."""
    settings = settings or ConsoleSettings()
    engine = create_engine(settings.database_url)
    store = SessionStore(
        session_factory(engine),
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.api_clients = api_clients(settings.service_urls, settings.api_timeout_seconds, transports)
        async with following(settings):  # sign-in and pages name organisations: keep them current
            yield
        for client in app.state.api_clients.values():
            await client.aclose()
        await engine.dispose()

    app = FastAPI(
        title="ICS Engagement Hub — staff console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(protect_forms)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = store
    app.state.oauth = provider_client(settings)

    for router in (sign_in.router, home.router, opportunities.router, groups.router, feedback.router):
        app.include_router(router)
    for router in (emails.router, reports.router):
        app.include_router(router)
    install_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await ping(engine)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {exc.__class__.__name__}"
        try:
            await app.state.oauth.load_server_metadata()
            checks["identity provider"] = "ok"
        except Exception as exc:
            checks["identity provider"] = f"down: {exc.__class__.__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/static/nhsuk-frontend.min.css", include_in_schema=False)
    async def nhsuk_stylesheet() -> Response:
        return Response(nhsuk_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/static/nhsuk-frontend.min.js", include_in_schema=False)
    async def nhsuk_script() -> FileResponse:
        cached = {"Cache-Control": "public, max-age=3600"}
        return FileResponse(NHSUK / "nhsuk-frontend.min.js", media_type="text/javascript", headers=cached)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(NHSUK / "assets" / "images" / "favicon.ico", media_type="image/x-icon")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/assets", StaticFiles(directory=NHSUK / "assets", check_dir=False), name="assets")

    issuer = settings.identity_provider.issuer or ""
    provider = urlsplit(issuer)
    app.add_middleware(
        ServerSideSessions,
        store=store,
        cookie_name="console_session" if settings.insecure_cookies_for_development else "__Host-console_session",
        secure=not settings.insecure_cookies_for_development,
    )
    app.add_middleware(
        SecurityHeaders,
        provider_origin=f"{provider.scheme}://{provider.netloc}" if provider.netloc else "",
        https=settings.public_url.startswith("https://"),
    )
    app.add_middleware(RequestContext)
    return app


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, _exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        query = {"next": target}
        if request.scope.get("console.session_ended"):
            query["ended"] = "1"
        return RedirectResponse(f"/sign-in?{urlencode(query)}", status_code=303)

    @app.exception_handler(SignInRefused)
    async def refused(request: Request, exc: SignInRefused) -> Response:
        log.warning("sign-in refused", reason=exc.reason)
        return render(
            request,
            "refused.html",
            status_code=403,
            heading="You cannot use the hub with this account",
            reason=exc.reason,
            link_href="/sign-in",
            link_text="Try signing in again",
        )

    @app.exception_handler(ForgedRequest)
    async def forged(request: Request, exc: ForgedRequest) -> Response:
        log.warning("form refused", reason=exc.reason, path=request.url.path)
        return render(
            request,
            "refused.html",
            status_code=403,
            heading="This form could not be accepted",
            reason=f"Nothing was changed: {exc.reason}.",
            advice="If you filled it in on this site, go back, reload the page and send it again.",
        )

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> Response:
        headings = {
            403: "You cannot see or change this",
            404: "Page not found",
            409: "This has changed meanwhile",
            503: "Sorry, there is a problem with the service",
        }
        return render(
            request,
            "refused.html",
            status_code=exc.status if exc.status in headings else 502,
            heading=headings.get(exc.status, "Sorry, there is a problem with the service"),
            reason=exc.detail or exc.title,
            advice="Try again in a minute." if exc.status == 503 else None,
        )

    @app.exception_handler(404)
    async def not_found(request: Request, _exc: Exception) -> Response:
        return render(request, "refused.html", status_code=404, heading="Page not found", reason="Check the address.")


cli = typer.Typer(help=f"{SERVICE_NAME}: the staff console.", no_args_is_help=True, pretty_exceptions_enable=False)


@cli.command()
def migrate() -> None:
    """Apply the console's database migrations (its session store)."""
    settings = ConsoleSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    migrations.upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied", database=settings.database_url.split("@")[-1])


@cli.command()
def api() -> None:
    """Serve the console."""
    settings = ConsoleSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    uvicorn.run(create_app(settings), **server_options(settings))
