"""Every template, and each one previewed with sample data and an organisation's branding
(the ICB's unless another is named)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_shared.db import Session
from hub_shared.organisations import reference
from notification.handlers.branding import preview_of
from notification.pages.html import NOT_FOUND, page
from notification.rules import kinds

router = APIRouter(include_in_schema=True, tags=["pages"])


@router.get("/templates", response_class=HTMLResponse, summary="Every template, to preview")
async def templates_page(request: Request, organisation_code: str | None = None) -> HTMLResponse:
    organisation_code = organisation_code or reference().icb_of()
    return page(request, "templates", title="Email templates", kinds=kinds.ALL, organisation_code=organisation_code)


@router.get(
    "/templates/{kind}", response_class=HTMLResponse, responses=NOT_FOUND, summary="A template with sample data"
)
async def preview_page(
    request: Request, kind: str, session: Session, organisation_code: str | None = None
) -> HTMLResponse:
    organisation_code = organisation_code or reference().icb_of()
    preview = await preview_of(session, request.app.state.settings, kind, organisation_code)
    return page(
        request,
        "preview",
        title=f"Preview: {kind.replace('_', ' ')}",
        preview=preview,
        organisation_code=organisation_code,
    )
