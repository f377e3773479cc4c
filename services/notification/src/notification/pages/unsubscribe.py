"""One-click unsubscribe (RFC 8058): a GET asks first (link scanners GET), a POST
unsubscribes at once, as a mail client's one-click POST wants."""

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from hub_shared.db import Session, commit
from hub_shared.links import LinkProblem
from notification.handlers.unsubscribes import unsubscribe
from notification.links import UnsubscribeLinks
from notification.pages.html import page

router = APIRouter(include_in_schema=True, tags=["pages"])
INVALID_LINK: dict[int | str, dict[str, Any]] = {
    # A link whose signature fails, or that has expired, is a credential refused: 403.
    403: {"description": "The link is not valid (a page saying so)", "content": {"text/html": {}}}
}


def _links(request: Request) -> UnsubscribeLinks:
    return request.app.state.unsubscribe_links  # type: ignore[no-any-return]


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses=INVALID_LINK,
    summary="Asks before unsubscribing (link scanners GET)",
)
async def unsubscribe_page(request: Request, token: str = Query(max_length=2000)) -> HTMLResponse:
    try:
        _links(request).load(token)
    except LinkProblem:
        return page(request, "unsubscribe", 403, title="Link not valid", state="invalid")
    return page(request, "unsubscribe", title="Unsubscribe", state="confirm", action=str(request.url))


@router.post(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses=INVALID_LINK,
    summary="Unsubscribe at once (RFC 8058 one-click)",
)
async def unsubscribe_now(request: Request, session: Session, token: str = Query(max_length=2000)) -> HTMLResponse:
    try:
        claims = _links(request).load(token)
    except LinkProblem:
        return page(request, "unsubscribe", 403, title="Link not valid", state="invalid")
    await unsubscribe(session, claims)
    await commit(session)
    return page(request, "unsubscribe", title="You have unsubscribed", state="done")
