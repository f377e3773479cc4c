"""Emails: what notification sends for the organisations the person acts for, read and
changed through notification's API with their own token (the API decides; its refusals are
shown as pages):

* ``/emails``: the branding, the templates, and what became of the emails sent (by status);
* ``/emails/branding``: change how emails sign off (sign-off, team name, contact email);
* ``/emails/templates/{kind}``: one template previewed with sample data and the branding.
  The email's HTML is served by ``/emails/templates/{kind}/preview.html`` under its own
  policy (no scripts, no requests, inline styles only) into a sandboxed frame;
* ``/emails/ledger``: every email, newest first, filtered by status, kind and dates, with
  the reason each failed or was withheld: never an address or a name (the API has none to give).
"""

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.hub_api import ApiProblem, field_id, hub_api
from console.pages.reports import given
from console.pagination import CursorPages
from console.signin import SignedIn, StaffUser
from console.templating import AREAS, render
from hub_shared.events import DeliveryStatus
from hub_shared.organisations import reference

router = APIRouter(prefix="/emails", include_in_schema=False)
PATH, LABEL, ABOUT = next(a for a in AREAS if a[0] == "/emails")

BRANDING_LABELS = {"sign_off": "Sign-off", "team_name": "Team name", "contact_email": "Contact email"}
LEDGER_LABELS = {
    "status": "Status",
    "kind": "Email",
    "created_from": "From",
    "created_to": "To",
    "organisation_code": "Organisation",
    "cursor": "Page",
}
STATUS_TEXT = {
    "created": "Queued",
    "held-for-digest": "Held for a digest",
    "sending": "Sending",
    "delivered": "Delivered",
    "temporary-failure": "Failed, will retry",
    "permanent-failure": "Failed: address refused",
    "technical-failure": "Failed: gave up",
    "unknown": "Outcome unknown",
    "withheld": "Not sent (consent)",
    "digested": "Sent in a digest",
}
STATUS_COLOUR = {
    "delivered": "green",
    "digested": "green",
    "temporary-failure": "orange",
    "permanent-failure": "red",
    "technical-failure": "red",
    "unknown": "yellow",
    "withheld": "grey",
}
FAILED = ["permanent-failure", "technical-failure", "temporary-failure", "unknown", "withheld"]
KIND_TEXT = {
    "confirm_email": "Confirm your email",
    "welcome": "Welcome (PPG import)",
    "already_member": "Already a member",
    "fresh_link": "A fresh link",
    "hear_back_confirmation": "Hear-back confirmation",
    "invitation": "Invitation",
    "place_offered": "Place offered",
    "reply_received": "Reply received",
    "reminder": "Reminder",
    "update": "You said, we did",
    "digest_daily": "Daily digest",
    "digest_weekly": "Weekly digest",
    "left": "You have left",
    "erased": "Your details were erased",
}
# The email's own HTML, in a frame: nothing runs, nothing is fetched, it cannot navigate.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)


def kind_text(kind: str) -> str:
    return KIND_TEXT.get(kind, kind.replace("_", " ").capitalize())


@router.get("")
async def index(request: Request, user: SignedIn, saved: Annotated[str | None, Query()] = None) -> HTMLResponse:
    api = hub_api(request)
    branding = await api.get("notification", f"/v1/branding/{user.organisation}")
    templates = await api.get("notification", "/v1/templates")
    summary = await api.get("notification", "/v1/notifications/summary")
    by_status: dict[str, int] = summary["by_status"]
    return render(
        request,
        "emails/index.html",
        label=LABEL,
        about=ABOUT,
        branding=branding,
        templates=templates,
        kind_text=kind_text,
        sent=sum(by_status.values()),
        by_status=[(s, STATUS_TEXT.get(s, s), by_status.get(s, 0)) for s in STATUS_TEXT if by_status.get(s)],
        failed=[(s, STATUS_TEXT[s], by_status.get(s, 0)) for s in FAILED if by_status.get(s)],
        saved=saved == "1",
    )


# --- Branding ------------------------------------------------------------------------------


@router.get("/branding")
async def branding_form(request: Request, user: SignedIn) -> HTMLResponse:
    branding = await hub_api(request).get("notification", f"/v1/branding/{user.organisation}")
    return render(request, "emails/branding.html", values=branding)


@router.post("/branding")
async def change_branding(
    request: Request,
    user: SignedIn,
    sign_off: Annotated[str, Form()] = "",
    team_name: Annotated[str, Form()] = "",
    contact_email: Annotated[str, Form()] = "",
) -> Response:
    values = {"sign_off": sign_off.strip(), "team_name": team_name.strip(), "contact_email": contact_email.strip()}
    body: dict[str, Any] = {
        "sign_off": values["sign_off"],
        "team_name": values["team_name"] or None,
        "contact_email": values["contact_email"] or None,
    }
    try:
        await hub_api(request).put("notification", f"/v1/branding/{user.organisation}", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return render(
            request,
            "emails/branding.html",
            status_code=422,
            values=values,
            errors={field_id(k): _branding_message(k, v) for k, v in problem.errors.items()},
            error_summary=[
                {"text": _branding_message(k, v), "href": "#" + field_id(k)} for k, v in problem.errors.items()
            ]
            or problem.summary(BRANDING_LABELS),
        )
    return RedirectResponse("/emails?saved=1", status_code=303)


def _branding_message(api_field: str, message: str) -> str:
    """The API's message for a field, in the words of the form."""
    if api_field == "contact_email":
        return "Enter the contact email in the correct format, like engagement@nhs.net"
    if api_field == "sign_off" and ("at least" in message or "required" in message.lower()):
        return "Enter a sign-off"
    label = BRANDING_LABELS.get(api_field)
    return f"{label}: {message}" if label else message


# --- Templates -----------------------------------------------------------------------------


@router.get("/templates/{kind}")
async def template(request: Request, user: SignedIn, kind: str) -> HTMLResponse:
    preview = await hub_api(request).get("notification", f"/v1/templates/{kind}/preview")
    return render(request, "emails/template.html", preview=preview, kind=kind, title=kind_text(kind))


@router.get("/templates/{kind}/preview.html")
async def template_html(request: Request, user: SignedIn, kind: str) -> Response:
    preview = await hub_api(request).get("notification", f"/v1/templates/{kind}/preview")
    return Response(
        preview["html"],
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": PREVIEW_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )


# --- The ledger --------------------------------------------------------------------------


def _day(value: str | None, *, after: bool = False) -> str | None:
    """A date from the form as the API's datetime (``to`` takes the whole day); anything
    else goes to the API as given, which says what is wrong with it."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return value
    return (day + timedelta(days=1) if after else day).isoformat() + "T00:00:00Z"


@router.get("/ledger")
async def ledger(
    request: Request,
    user: SignedIn,
    organisation: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    kind: Annotated[str | None, Query()] = None,
    created_from: Annotated[str | None, Query(alias="from")] = None,
    created_to: Annotated[str | None, Query(alias="to")] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    code = (organisation or user.organisation).strip().upper()
    params = given(
        organisation_code=code,
        status=status,
        kind=kind,
        created_from=_day(created_from),
        created_to=_day(created_to, after=True),
        cursor=cursor,
        limit=25,
    )
    filters = _ledger_filters(user, code, status, kind, created_from, created_to)
    try:
        page = await hub_api(request).get("notification", "/v1/notifications", params=params)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        errors = {_ledger_field(k): _ledger_message(k, v) for k, v in problem.errors.items()}
        return render(
            request,
            "emails/ledger.html",
            status_code=422,
            filters=filters,
            items=None,
            errors=errors,
            error_summary=[{"text": v, "href": "#" + k} for k, v in errors.items()] or problem.summary(LEDGER_LABELS),
        )
    pages = CursorPages.of(request, page["next_cursor"])
    names = {c: n for c, n in user.acts_for}
    items = [
        {
            **item,
            "organisation_name": names.get(item["organisation_code"], item["organisation_code"]),
            "kind_text": kind_text(item["kind"]),
            "status_text": STATUS_TEXT.get(item["status"], item["status"]),
            "colour": STATUS_COLOUR.get(item["status"], "blue"),
        }
        for item in page["items"]
    ]
    return render(request, "emails/ledger.html", filters=filters, items=items, pages=pages, code=code)


def _ledger_field(api_field: str) -> str:
    name = api_field.split(".")[-1]
    return {"created_from": "from", "created_to": "to", "organisation_code": "organisation"}.get(name, name)


def _ledger_message(api_field: str, message: str) -> str:
    name = api_field.split(".")[-1]
    if name in ("created_from", "created_to"):
        which = "from" if name == "created_from" else "to"
        return f"Enter the '{which}' date as a real date, like 2025-06-30"
    if name == "cursor":
        return "That page of results has expired: start again from the first page"
    label = LEDGER_LABELS.get(name)
    return f"{label}: {message}" if label else message


def _ledger_filters(
    user: StaffUser, code: str, status: str | None, kind: str | None, start: str | None, end: str | None
) -> dict[str, Any]:
    organisations = [{"value": c, "text": f"{n} ({c})", "selected": c == code} for c, n in user.acts_for]
    if code not in {c for c, _ in user.acts_for}:
        found = reference().get(code)
        organisations.append({"value": code, "text": f"{found.name if found else code} ({code})", "selected": True})
    statuses = [{"value": "", "text": "Any status", "selected": not status}] + [
        {"value": s.value, "text": STATUS_TEXT.get(s.value, s.value), "selected": s.value == status}
        for s in DeliveryStatus
    ]
    kinds = [{"value": "", "text": "Any email", "selected": not kind}] + [
        {"value": k, "text": t, "selected": k == kind} for k, t in KIND_TEXT.items()
    ]
    return {
        "organisations": organisations,
        "statuses": statuses,
        "kinds": kinds,
        "from": start or "",
        "to": end or "",
        "filtered": bool(status or kind or start or end),
    }
