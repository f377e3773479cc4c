"""What every page shares: an HTML page from ``templates/pages`` in the ICS's name, and the
not-found answer pages document."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE
from hub_shared.templates import COMPILED

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such template, message or mailbox (RFC 9457 problem details)", "content": {MEDIA_TYPE: {}}}
}
PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
    bytecode_cache=COMPILED,
)


def framed(html: str) -> str:
    """An email's HTML as a sandboxed iframe shows it (no scripts, no same origin): its links
    open in a new tab, outside the sandbox, as they would from a mail client."""
    return '<base target="_blank">' + html


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = PAGES.get_template(f"pages/{template}.html").render(ics_name=reference().ics_name(), **context)
    return HTMLResponse(html, status_code=status_code)
