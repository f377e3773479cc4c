"""Development only: a mailbox page over the local mail sink's Maildir
(``NOTIFICATION_MAILBOX_DIR``), to read what the hub sent. It shows every email with its
live links, so it answers only in development mode (``HUB_DEVELOPMENT_MODE=1``, as under
``make run``; the settings refuse a mailbox folder otherwise) and only to this machine
(a loopback client address); anyone else gets 404, as if there were none."""

import ipaddress
import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_shared.problems import Problem
from hub_shared.settings import development_mode
from notification.pages.html import NOT_FOUND, framed, page

router = APIRouter(include_in_schema=True, tags=["pages"])


def _loopback(request: Request) -> bool:
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _maildir(request: Request) -> mailbox.Maildir:
    folder = request.app.state.settings.mailbox_dir
    if not folder or not development_mode() or not _loopback(request):
        raise Problem(
            404, "No mailbox", "In development, set NOTIFICATION_MAILBOX_DIR to the local mail sink's Maildir."
        )
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
        html=framed(html.get_content()) if html is not None else None,  # type: ignore[attr-defined]
        text=text.get_content() if text is not None else "",  # type: ignore[attr-defined]
    )
