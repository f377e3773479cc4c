"""What every page shares: the NHS.UK design system's own component macros
(nhsuk-frontend-jinja) over membership's templates, styled by the nhsuk-frontend package the
build installs; rendering a page; form errors in the words a page shows; the page for a
link that expired or was tampered with; and the page for too many requests."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from pydantic import ValidationError

from hub_shared.dates import when
from hub_shared.events import Frequency, ServiceArea
from hub_shared.links import LinkProblem
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from hub_shared.templates import COMPILED
from hub_shared.web import public_limit
from membership.links import SINGLE_USE, Purpose, links_of, was_used
from membership.schemas import phone_as_written

PACKAGE = Path(__file__).resolve().parents[1]
STATIC = PACKAGE.parents[1] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TEMPLATES = Environment(
    loader=ChoiceLoader([FileSystemLoader(PACKAGE / "templates"), PackageLoader("nhsuk_frontend_jinja", "templates")]),
    autoescape=select_autoescape(["html", "jinja"]),
    undefined=ChainableUndefined,  # the macros read optional nested params (params.navigation.colour)
    bytecode_cache=COMPILED,
)
TEMPLATES.globals.update(when=when, phone_as_written=phone_as_written)

AREA_NAMES = {
    "general_practice": "GP practices",
    "musculoskeletal": "Muscles, bones and joints (MSK)",
    "ophthalmology": "Eyes",
    "dermatology": "Skin",
    "mental_health": "Mental health",
    "maternity": "Maternity",
    "urgent_care": "Urgent and emergency care",
    "community": "Community services",
    "other": "Something else",
}
FREQUENCY_NAMES = {
    "as_it_happens": "As it happens",
    "daily": "A daily digest",
    "weekly": "A weekly digest",
    "never": "Never (I will look at my preferences page instead)",
}
LABELS = {
    "name": "Full name",
    "email": "Email address",
    "phone": "Phone number",
    "postcode": "Postcode",
    "practice_code": "GP practice",
    "consent_to_contact": "Consent",
    "group_ids": "Groups",
}


def nice(value: str) -> str:
    return value.replace("_", " ").capitalize()


def options(enum: Any, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [(e.value, (names or {}).get(e.value) or nice(e.value)) for e in enum]


def _organisation_code(organisation: Any) -> str | None:
    """The code of the organisation a page is about (an ``Organisation`` or a code), if any:
    its ICB names the page in a hub serving several."""
    code = getattr(organisation, "code", organisation)
    return code if isinstance(code, str) and code else None


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(
        request=request,
        assetPath="/static/assets",
        ics_name=reference().ics_name(_organisation_code(context.get("organisation"))),
        areas=options(ServiceArea, AREA_NAMES),
        frequencies=options(Frequency, FREQUENCY_NAMES),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors as {field: message} in the words the page should show."""
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        field = loc[0] if loc else ""
        if ":" in message and not loc:
            field, message = (s.strip() for s in message.split(":", 1))
        if field == "consent_to_contact":
            message = "Tick the box to agree to be contacted"
        elif err.get("type") == "missing" or (err.get("type") == "string_too_short" and not err.get("input")):
            message = f"Enter your {LABELS.get(field, field).lower()}"
        if field == "email" and err.get("type") != "missing":
            message = "Enter an email address in the correct format, like name@example.com"
        if field == "demographics" and len(loc) > 1:
            field = loc[1]
        errors.setdefault(field or "form", message)
    return errors


def problem_errors(problem: Problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.extensions.get("errors", [])} or {"form": problem.detail or ""}


def sessions(request: Request) -> Any:
    return request.app.state.sessions


def link_page(request: Request, reason: str) -> HTMLResponse:
    # As the API answers: a link not valid is refused (403), one that no longer works is gone (410).
    return render(request, "link_problem.html", status_code=403 if reason == "invalid" else 410, reason=reason)


async def link_landing(request: Request, purpose: Purpose, token: str, template: str, **context: Any) -> HTMLResponse:
    """The page an emailed link opens: only a button, so mail scanners that fetch links
    change nothing; or the page for a link that expired, was tampered with or (a
    confirmation link) was already used, said before any button is offered."""
    try:
        claims = links_of(request).load(purpose, token)
        if purpose in SINGLE_USE:
            async with sessions(request)() as session:
                if await was_used(session, claims):
                    raise LinkProblem("used")
    except LinkProblem as exc:
        return link_page(request, exc.reason)
    return render(request, template, token=token, **context)


async def too_many_requests(request: Request) -> HTMLResponse | None:
    """The page saying so when this client is past the public forms' limit; else None."""
    try:
        await public_limit(request)
    except Problem as exc:
        response = render(request, "too_many.html", status_code=429, retry_after=exc.headers or {})
        response.headers.update(exc.headers or {})
        return response
    return None
