"""Every template, and each one previewed with sample data and a sample sign-off: public
pages, so no organisation's own branding is shown here. Staff preview their organisation's
emails through the bearer API (``GET /v1/templates/{kind}/preview``, the console's Emails area)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from notification.handlers.branding import sample_preview
from notification.pages.html import NOT_FOUND, framed, page
from notification.rules import kinds

router = APIRouter(include_in_schema=True, tags=["pages"])


@router.get("/templates", response_class=HTMLResponse, summary="Every template, to preview")
async def templates_page(request: Request) -> HTMLResponse:
    return page(request, "templates", title="Email templates", kinds=kinds.ALL)


@router.get(
    "/templates/{kind}", response_class=HTMLResponse, responses=NOT_FOUND, summary="A template with sample data"
)
async def preview_page(request: Request, kind: str) -> HTMLResponse:
    preview = sample_preview(request.app.state.settings, kind)
    return page(
        request,
        "preview",
        title=f"Preview: {kind.replace('_', ' ')}",
        preview=preview.model_copy(update={"html": framed(preview.html)}),
    )
