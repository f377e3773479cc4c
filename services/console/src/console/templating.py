"""Rendering the console's pages: NHS.UK frontend's own Jinja macros (nhsuk-frontend-jinja)
inside one layout (``templates/base.html``: header with the areas' navigation and the
signed-in person, the error summary, the footer). ``render`` gives every template:

* ``user``: the signed-in ``StaffUser`` (or None);
* ``csrf_field()``: the hidden input every form needs (the check is app-wide);
* ``errors`` (when passed): {field id: message} for the fields' own messages, and
  ``error_summary``: the items of NHS.UK's error summary (from ``ApiProblem.summary()`` or
  built from ``errors``), shown at the top of the page;
* ``area``: which navigation item is current (from the path);
* ``cspNonce``: for the one inline script the NHS.UK template has;
* ``ics_name``: the name of the signed-in user's ICS (of several, theirs) from the reference data;
* ``when(iso)`` and ``day(iso)``: a time or date as every page and email writes it."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from console.security import csp_nonce
from console.signin import StaffUser
from hub_shared.dates import day, when
from hub_shared.organisations import reference
from hub_shared.templates import COMPILED

HERE = Path(__file__).resolve().parent
NHSUK = HERE.parents[1] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TEMPLATES = Environment(
    loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), PackageLoader("nhsuk_frontend_jinja", "templates")]),
    autoescape=select_autoescape(["html", "jinja"]),
    undefined=ChainableUndefined,  # the macros read optional nested params (params.navigation.colour)
    bytecode_cache=COMPILED,
)
TEMPLATES.globals.update(when=when, day=day)

# The console's areas, in the header's order: (path, label, what it is for).
AREAS: list[tuple[str, str, str]] = [
    ("/opportunities", "Opportunities", "Invite patient partners to workshops, groups and surveys; follow who comes"),
    ("/groups", "Groups", "Patient Participation Groups and co-production groups, their members and imports"),
    ("/feedback", "Feedback", "Browse feedback, work the triage queue and say what changed (you said, we did)"),
    ("/emails", "Emails", "Email templates with your branding, and what became of every email sent"),
    ("/reports", "Reports", "Friends and Family Test, themes, the involvement scorecard and CSV downloads"),
]


def current_area(path: str) -> str | None:
    for prefix, _label, _about in AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    errors: dict[str, str] = context.get("errors") or {}
    if errors and "error_summary" not in context:
        context["error_summary"] = [
            {"text": message, "href": "#" + (name if name != "form" else "maincontent")}
            for name, message in errors.items()
        ]
    token = request.session.get("csrf", "")

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))

    user = StaffUser.of(request)
    html = TEMPLATES.get_template(template).render(
        request=request,
        user=user,
        areas=AREAS,
        area=current_area(request.url.path),
        csrf_token=token,
        csrf_field=csrf_field,
        cspNonce=csp_nonce(request),
        assetPath="/assets",
        ics_name=reference().ics_name(user.organisation if user is not None else None),  # the user's ICS
        errors=errors,
        **{k: v for k, v in context.items() if k != "errors"},
    )
    return HTMLResponse(html, status_code=status_code)
