"""Every asset the dashboard and /docs use, served by the service itself from the installed
packages (npm ``nhsuk-frontend`` and ``swagger-ui-dist``), so the pages work offline.

NHS.UK frontend's compiled stylesheet loads the Frutiger web font from assets.nhs.uk (a
licensed font, not in the package); the copy served here leaves those ``@font-face`` rules
out, so text falls back to the stack's next font (Arial) with no request to another host."""

import re
from functools import cache

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from reporting.pages.dashboard import HERE, NHSUK, SWAGGER_UI

router = APIRouter(include_in_schema=False)
FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


@cache
def nhsuk_css() -> str:
    css = next(NHSUK.glob("nhsuk-frontend-*.min.css")).read_text()
    return FONT_FACE.sub("", css)


@router.get("/static/nhsuk-frontend.min.css")
async def nhsuk_stylesheet() -> Response:
    return Response(nhsuk_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(NHSUK / "assets" / "images" / "favicon.ico", media_type="image/x-icon")


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="ICS Engagement Hub — reporting API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/favicon.ico",
    )


def mount(app: FastAPI) -> None:
    """Replace FastAPI's CDN-loading /docs (and /redoc) with the local one, and serve the assets."""
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in ("/docs", "/redoc")]
    app.include_router(router)
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/assets", StaticFiles(directory=NHSUK / "assets"), name="assets")
