"""Pages for people: one-click unsubscribe (GET asks, POST does it at once, as RFC 8058
wants of a mail client's POST), template previews with sample data, and in development a
mailbox page over the local mail sink's Maildir."""

import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub_shared.links import LinkProblem
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE, Problem
from notification import kinds
from notification.api import preview_of
from notification.links import UnsubscribeLinks
from notification.unsubscribe import unsubscribe

router = APIRouter(include_in_schema=True, tags=["pages"])
INVALID_LINK: dict[int | str, dict[str, Any]] = {
    400: {"description": "The link is not valid (a page saying so)", "content": {"text/html": {}}}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such template, message or mailbox (RFC 9457 problem details)", "content": {MEDIA_TYPE: {}}}
}
PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"), autoescape=select_autoescape(["html"])
)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    html = PAGES.get_template(f"pages/{template}.html").render(ics_name=settings.ics_name, **context)
    return HTMLResponse(html, status_code=status_code)


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
        return page(request, "unsubscribe", 400, title="Link not valid", state="invalid")
    return page(request, "unsubscribe", title="Unsubscribe", state="confirm", action=str(request.url))


@router.post(
    "/unsubscribe",
    response_class=HTMLResponse,
    responses=INVALID_LINK,
    summary="Unsubscribe at once (RFC 8058 one-click)",
)
async def unsubscribe_now(request: Request, token: str = Query(max_length=2000)) -> HTMLResponse:
    try:
        claims = _links(request).load(token)
    except LinkProblem:
        return page(request, "unsubscribe", 400, title="Link not valid", state="invalid")
    async with request.app.state.sessions() as session, session.begin():
        await unsubscribe(session, claims)
    return page(request, "unsubscribe", title="You have unsubscribed", state="done")


@router.get("/templates", response_class=HTMLResponse, summary="Every template, to preview")
async def templates_page(request: Request, organisation_code: str | None = None) -> HTMLResponse:
    organisation_code = organisation_code or reference().icb_of()
    return page(request, "templates", title="Email templates", kinds=kinds.ALL, organisation_code=organisation_code)


@router.get(
    "/templates/{kind}", response_class=HTMLResponse, responses=NOT_FOUND, summary="A template with sample data"
)
async def preview_page(request: Request, kind: str, organisation_code: str | None = None) -> HTMLResponse:
    organisation_code = organisation_code or reference().icb_of()
    async with request.app.state.sessions() as session:
        preview = await preview_of(request, session, kind, organisation_code)
    return page(
        request,
        "preview",
        title=f"Preview: {kind.replace('_', ' ')}",
        preview=preview,
        organisation_code=organisation_code,
    )


# ---- development: the local mail sink ----


def _maildir(request: Request) -> mailbox.Maildir:
    folder = request.app.state.settings.mailbox_dir
    if not folder:
        raise Problem(404, "No mailbox", "Set NOTIFICATION_MAILBOX_DIR to the local mail sink's Maildir.")
    path = Path(folder)
    for sub in ("tmp", "new", "cur"):  # a Maildir, whoever creates it first (this page or the sink)
        (path / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, factory=None, create=True)


def _parse(raw: mailbox.MaildirMessage) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw.as_bytes())  # type: ignore[return-value]


@router.get(
    "/mailbox",
    response_class=HTMLResponse,
    responses=NOT_FOUND,
    summary="Development: what the local mail sink received",
)
async def mailbox_page(request: Request) -> HTMLResponse:
    box = _maildir(request)
    messages = []
    for key, raw in box.items():
        email = _parse(raw)
        messages.append(
            {"key": key, "date": email.get("Date", ""), "to": email.get("To", ""), "subject": email.get("Subject", "")}
        )
    messages.sort(key=lambda m: m["key"], reverse=True)  # Maildir keys begin with the time received
    return page(request, "mailbox", title="Mailbox", messages=messages, folder=request.app.state.settings.mailbox_dir)


@router.get("/mailbox/{key}", response_class=HTMLResponse, responses=NOT_FOUND, summary="Development: one message")
async def message_page(request: Request, key: str) -> HTMLResponse:
    box = _maildir(request)
    try:
        email = _parse(box[key])
    except KeyError as exc:
        raise Problem(404, "No such message") from exc
    html = email.get_body(("html",))
    text = email.get_body(("plain",))
    return page(
        request,
        "message",
        title=str(email.get("Subject", "")),
        to=email.get("To", ""),
        sender=email.get("From", ""),
        date=email.get("Date", ""),
        unsubscribe=email.get("List-Unsubscribe"),
        html=html.get_content() if html is not None else None,  # type: ignore[attr-defined]
        text=text.get_content() if text is not None else "",  # type: ignore[attr-defined]
    )
