"""Opportunities: the list, a new opportunity (checked with membership's preview before
anything is sent: how many would be invited and their bands), sending it, following the
replies and the waiting list, and recording attendance. Every call goes to membership's API
with the person's own token; what it refuses is shown as it says."""

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.hub_api import ApiProblem, field_id, hub_api
from console.pagination import Paged
from console.signin import SignedIn
from console.templating import AREAS, render
from hub_shared.events import AgeBand, OpportunityKind, ServiceArea
from hub_shared.organisations import Kind, reference

router = APIRouter(prefix="/opportunities", include_in_schema=False)
PATH, LABEL, ABOUT = next(a for a in AREAS if a[0] == "/opportunities")
LONDON = ZoneInfo("Europe/London")
DRAFT = "opportunity_draft"

KIND_NAMES = {
    "workshop": "Workshop",
    "seminar": "Seminar",
    "survey": "Survey",
    "coproduction_session": "Co-production session",
    "group_vacancy": "Group vacancy",
}
AGE_NAMES = {"under_16": "Under 16", "85_plus": "85 and over", "prefer_not_to_say": "Prefer not to say"}
LABELS = {
    "kind": "Kind",
    "title": "Title",
    "description": "Description",
    "starts_at": "Date it starts",
    "starts_at_time": "Time it starts",
    "closes_at": "Replies close",
    "online": "Where",
    "location": "Place",
    "capacity": "Places",
    "targeting": "Who to invite",
    "targeting.group_ids": "Groups",
    "targeting.interests": "Interests",
    "targeting.organisation_codes": "Practices",
    "targeting.age_bands": "Age bands",
    "organisation_code": "Organisation",
    "member_ids": "Attended",
    "attended_on": "Date attended",
}
# A model-level check names its field at the start of the message ("location: say where it is").
NAMED = re.compile(r"^(?:Value error, )?(?P<field>[a-z_.]+): (?P<message>.+)$")


def nice(value: str | None) -> str:
    if not value:
        return "Not stated"
    return value.replace("_", " ").capitalize()


def band_name(value: str) -> str:
    if value == "not_stated":
        return "Not stated"
    if re.fullmatch(r"\d+_\d+", value):
        return value.replace("_", " to ")
    return AGE_NAMES.get(value) or nice(value)


def when(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(LONDON)
    return f"{moment:%-d %B %Y} at {moment:%H:%M}"


def practices_of(user: Any) -> list[tuple[str, str]]:
    organisations = reference()
    return [(c, n) for c, n in user.acts_for if (o := organisations.get(c)) and o.kind is Kind.PRACTICE]


def api_errors(problem: ApiProblem) -> dict[str, str]:
    """The API's field errors by field, with a model-level check's message moved to its field."""
    errors: dict[str, str] = {}
    for name, message in problem.errors.items():
        named = NAMED.match(message)
        if named and (name in ("(body)", "") or named["field"] == name.rsplit(".", 1)[-1]):
            errors.setdefault(named["field"] if name in ("(body)", "") else name, named["message"])
        else:
            errors.setdefault(name, message.removeprefix("Value error, "))
    if not errors:
        errors["form"] = problem.detail or problem.title
    return errors


def summary_of(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's items in the form's order, each linking to its field."""
    order = list(LABELS)
    errors = dict(sorted(errors.items(), key=lambda e: order.index(e[0]) if e[0] in order else len(order)))
    return [
        {
            "text": f"{LABELS[name]}: {message}" if name in LABELS else message,
            "href": "#" + (field_id(name) if name in LABELS else "maincontent"),
        }
        for name, message in errors.items()
    ]


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        return None


def body_from(form: dict[str, Any], organisation: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's request body from the form, and what the form itself could not read (the
    API checks everything else and says what is wrong)."""
    errors: dict[str, str] = {}
    if not form.get("kind"):
        errors["kind"] = "Choose the kind of opportunity"
    if not (form.get("title") or "").strip():
        errors["title"] = "Enter a title"
    if not (form.get("description") or "").strip():
        errors["description"] = "Enter a description"
    starts_on = _parse_date(form.get("starts_at", ""))
    starts_time = _parse_time(form.get("starts_at_time", "") or "")
    closes_on = _parse_date(form.get("closes_at", ""))
    if starts_on is None:
        errors["starts_at"] = "Enter the date it starts"
    if starts_time is None:
        errors["starts_at_time"] = "Enter the time it starts, for example 18:30"
    if closes_on is None:
        errors["closes_at"] = "Enter the date replies close"
    capacity: int | None = None
    if (form.get("capacity") or "").strip():
        try:
            capacity = int(form["capacity"])
        except ValueError:
            errors["capacity"] = "Enter the number of places as a whole number, or leave it empty"
    starts_at = datetime.combine(starts_on, starts_time, LONDON).isoformat() if starts_on and starts_time else None
    closes_at = datetime.combine(closes_on, time(23, 59), LONDON).isoformat() if closes_on else None
    online = form.get("online") == "yes"
    body = {
        "organisation_code": organisation,
        "kind": form.get("kind") or None,
        "title": (form.get("title") or "").strip(),
        "description": (form.get("description") or "").strip(),
        "starts_at": starts_at,
        "closes_at": closes_at,
        "online": online,
        "location": None if online else ((form.get("location") or "").strip() or None),
        "capacity": capacity,
        "targeting": {
            "group_ids": form.get("group_ids", []),
            "interests": form.get("interests", []),
            "organisation_codes": form.get("organisation_codes", []),
            "age_bands": form.get("age_bands", []),
            "under_represented_ethnic_groups": form.get("under_represented") == "yes",
        },
    }
    return body, errors


async def read_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {k: str(v) for k, v in form.items()}
    for name in ("group_ids", "interests", "organisation_codes", "age_bands"):
        out[name] = [str(v) for v in form.getlist(name)]
    return out


async def form_page(
    request: Request,
    user: Any,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    groups = await hub_api(request).get("membership", "/v1/groups")
    errors = errors or {}
    return render(
        request,
        "opportunities/new.html",
        status_code=status_code,
        form=form,
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        kinds=[(k.value, KIND_NAMES.get(k.value, nice(k.value))) for k in OpportunityKind],
        interests=[(a.value, nice(a.value)) for a in ServiceArea],
        age_bands=[(a.value, band_name(a.value)) for a in AgeBand if a is not AgeBand.PREFER_NOT_TO_SAY],
        groups=[(g["id"], f"{g['name']} ({nice(g['kind'])}, {g['organisation_code']})") for g in groups],
        practices=practices_of(user),
    )


def form_of(body: dict[str, Any]) -> dict[str, Any]:
    """A draft's body back into the form's fields (for Change)."""
    starts = datetime.fromisoformat(body["starts_at"]).astimezone(LONDON) if body.get("starts_at") else None
    closes = datetime.fromisoformat(body["closes_at"]).astimezone(LONDON) if body.get("closes_at") else None
    targeting = body.get("targeting") or {}
    return {
        "kind": body.get("kind") or "",
        "title": body.get("title") or "",
        "description": body.get("description") or "",
        "starts_at": f"{starts:%Y-%m-%d}" if starts else "",
        "starts_at_time": f"{starts:%H:%M}" if starts else "",
        "closes_at": f"{closes:%Y-%m-%d}" if closes else "",
        "online": "yes" if body.get("online") else "no",
        "location": body.get("location") or "",
        "capacity": str(body["capacity"]) if body.get("capacity") else "",
        "group_ids": targeting.get("group_ids", []),
        "interests": targeting.get("interests", []),
        "organisation_codes": targeting.get("organisation_codes", []),
        "age_bands": targeting.get("age_bands", []),
        "under_represented": "yes" if targeting.get("under_represented_ethnic_groups") else "",
    }


@router.get("")
async def index(request: Request, user: SignedIn) -> HTMLResponse:
    rows = await hub_api(request).get("membership", "/v1/opportunities")
    rows.sort(key=lambda o: o["starts_at"], reverse=True)
    pages = Paged.of(request, rows, per_page=20)
    return render(
        request, "opportunities/index.html", label=LABEL, about=ABOUT, pages=pages, kind_names=KIND_NAMES, when=when
    )


@router.get("/new")
async def new(request: Request, user: SignedIn, change: str | None = None) -> HTMLResponse:
    draft = request.session.get(DRAFT) if change else None
    form = form_of(draft) if draft else {"online": "no"}
    return await form_page(request, user, form)


@router.post("/new")
async def check(request: Request, user: SignedIn) -> Response:
    """Check the opportunity with membership's preview; nothing is sent yet."""
    form = await read_form(request)
    body, errors = body_from(form, user.organisation)
    try:
        preview = await hub_api(request).post("membership", "/v1/opportunities/preview", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return await form_page(request, user, form, {**api_errors(problem), **errors}, status_code=422)
    if errors:
        return await form_page(request, user, form, errors, status_code=422)
    request.session[DRAFT] = body
    groups = {g["id"]: g["name"] for g in await hub_api(request).get("membership", "/v1/groups")}
    return render(
        request,
        "opportunities/check.html",
        body=body,
        preview=preview,
        kind_names=KIND_NAMES,
        when=when,
        nice=nice,
        band_name=band_name,
        group_names=groups,
        organisation_name=lambda code: o.name if (o := reference().get(code)) else code,
    )


@router.post("/send")
async def send(request: Request, user: SignedIn) -> Response:
    body = request.session.get(DRAFT)
    if not body:
        return RedirectResponse("/opportunities/new", status_code=303)
    try:
        created = await hub_api(request).post("membership", "/v1/opportunities", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return await form_page(request, user, form_of(body), api_errors(problem), status_code=422)
    request.session.pop(DRAFT, None)
    request.session["flash"] = f"Sent: {created['invited']} invited to '{created['title']}'."
    return RedirectResponse(f"/opportunities/{created['id']}", status_code=303)


SHOW = {
    "all": "Everyone invited",
    "booked": "Booked",
    "waiting_list": "Waiting list",
    "answered": "Answered",
    "attended": "Attended",
}


async def detail_page(
    request: Request, opportunity_id: str, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    api = hub_api(request)
    opportunity = await api.get("membership", f"/v1/opportunities/{opportunity_id}")
    invitations = await api.get("membership", f"/v1/opportunities/{opportunity_id}/invitations")
    show = request.query_params.get("show", "all")
    show = show if show in SHOW else "all"
    shown = [
        i
        for i in invitations
        if show == "all"
        or (show == "answered" and i["answer"])
        or (show == "attended" and i["attended"])
        or i["place"] == show
    ]
    errors = errors or {}
    return render(
        request,
        "opportunities/detail.html",
        status_code=status_code,
        o=opportunity,
        pages=Paged.of(request, shown, per_page=50),
        show=show,
        shows=SHOW,
        flash=request.session.pop("flash", None),
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        kind_names=KIND_NAMES,
        when=when,
        nice=nice,
        band_name=band_name,
        today=date.today().isoformat(),
    )


@router.get("/{opportunity_id}")
async def detail(request: Request, user: SignedIn, opportunity_id: str) -> HTMLResponse:
    return await detail_page(request, opportunity_id)


@router.post("/{opportunity_id}/attendance")
async def attendance(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    form = await request.form()
    member_ids = [str(v) for v in form.getlist("member_ids")]
    attended_on = _parse_date(str(form.get("attended_on") or ""))
    if not member_ids:
        return await detail_page(request, opportunity_id, {"member_ids": "Select who attended"}, status_code=422)
    body: dict[str, Any] = {"member_ids": member_ids}
    if attended_on:
        body["attended_on"] = attended_on.isoformat()
    try:
        recorded = await hub_api(request).post(
            "membership", f"/v1/opportunities/{opportunity_id}/attendance", json=body
        )
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return await detail_page(request, opportunity_id, api_errors(problem), status_code=422)
    request.session["flash"] = f"Attendance recorded for {recorded['recorded']} more."
    return RedirectResponse(f"/opportunities/{opportunity_id}?show=attended", status_code=303)


# Changing or cancelling: a form, a check page saying who will be emailed, then the change.
CHANGE_DRAFT = "opportunity_change:{}"
CHANGE_FIELDS = ("title", "description", "starts_at", "closes_at", "online", "location", "capacity")
CHANGE_NAMES = {
    "title": "Title",
    "description": "Description",
    "starts_at": "Starts",
    "closes_at": "Replies close",
    "online": "Where",
    "location": "Where",
    "capacity": "Places",
}


def changeable(o: dict[str, Any]) -> bool:
    return o.get("status") in ("open", "closed")


def yes_sayers(o: dict[str, Any]) -> int:
    """Who a change or a cancellation emails: everyone booked and everyone waiting."""
    return int(o.get("booked", 0)) + int(o.get("waiting_list", 0))


async def change_form_page(
    request: Request, o: dict[str, Any], form: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    errors = errors or {}
    return render(
        request,
        "opportunities/change.html",
        status_code=status,
        o=o,
        form=form,
        errors=errors,
        error_summary=summary_of(errors) if errors else None,
        emailed=yes_sayers(o),
    )


@router.get("/{opportunity_id}/change")
async def change_form(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    o = await hub_api(request).get("membership", f"/v1/opportunities/{opportunity_id}")
    if not changeable(o):
        return RedirectResponse(f"/opportunities/{opportunity_id}", status_code=303)
    draft = request.session.get(CHANGE_DRAFT.format(opportunity_id)) if request.query_params.get("again") else None
    return await change_form_page(request, o, form_of(draft or o))


@router.post("/{opportunity_id}/change")
async def change_check(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    """Check the change with membership (a dry run): its field errors, or what would change
    and how many would be emailed. Nothing is saved or sent yet."""
    api = hub_api(request)
    o = await api.get("membership", f"/v1/opportunities/{opportunity_id}")
    form = await read_form(request)
    parsed, errors = body_from({**form, "kind": o["kind"]}, o["organisation_code"])
    body = {name: parsed[name] for name in CHANGE_FIELDS}
    # What the form could not read is left out, so the API still checks the rest.
    unreadable = {"starts_at" if name == "starts_at_time" else name for name in errors}
    try:
        checked = await api.patch(
            "membership",
            f"/v1/opportunities/{opportunity_id}?dry_run=true",
            json={name: value for name, value in body.items() if name not in unreadable},
        )
    except ApiProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        return await change_form_page(request, o, form, {**api_errors(problem), **errors}, status=422)
    if errors:
        return await change_form_page(request, o, form, errors, status=422)
    if not checked["changed"]:
        return await change_form_page(request, o, form, {"form": "Nothing has changed yet"}, status=422)
    request.session[CHANGE_DRAFT.format(opportunity_id)] = body
    return render(
        request,
        "opportunities/change_check.html",
        o=o,
        body=body,
        changed=sorted({CHANGE_NAMES[name] for name in checked["changed"]}),
        emailed=checked["emailed"],
        kind_names=KIND_NAMES,
        when=when,
    )


@router.post("/{opportunity_id}/change/confirm")
async def change_confirm(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    body = request.session.get(CHANGE_DRAFT.format(opportunity_id))
    if not body:
        return RedirectResponse(f"/opportunities/{opportunity_id}/change", status_code=303)
    api = hub_api(request)
    try:
        changed = await api.patch("membership", f"/v1/opportunities/{opportunity_id}", json=body)
    except ApiProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        o = await api.get("membership", f"/v1/opportunities/{opportunity_id}")
        return await change_form_page(request, o, form_of(body), api_errors(problem), status=422)
    request.session.pop(CHANGE_DRAFT.format(opportunity_id), None)
    request.session["flash"] = f"Changed. {_people(changed['emailed'])} emailed the new details."
    return RedirectResponse(f"/opportunities/{opportunity_id}", status_code=303)


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


async def cancel_page(
    request: Request, o: dict[str, Any], reason: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    errors = errors or {}
    return render(
        request,
        "opportunities/cancel.html",
        status_code=status,
        o=o,
        reason=reason,
        errors=errors,
        error_summary=[{"text": m, "href": "#reason"} for m in errors.values()] if errors else None,
        emailed=yes_sayers(o),
        when=when,
    )


@router.get("/{opportunity_id}/cancel")
async def cancel_form(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    o = await hub_api(request).get("membership", f"/v1/opportunities/{opportunity_id}")
    if not changeable(o):
        return RedirectResponse(f"/opportunities/{opportunity_id}", status_code=303)
    return await cancel_page(request, o)


@router.post("/{opportunity_id}/cancel")
async def cancel_check(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    """The reason read; the confirmation page says how many will be emailed it."""
    o = await hub_api(request).get("membership", f"/v1/opportunities/{opportunity_id}")
    reason = " ".join(str((await request.form()).get("reason") or "").split())
    if not reason:
        return await cancel_page(request, o, errors={"reason": "Enter why it is cancelled"}, status=422)
    if len(reason) > 1000:
        return await cancel_page(request, o, reason, {"reason": "Use 1,000 characters or fewer"}, status=422)
    return render(request, "opportunities/cancel_check.html", o=o, reason=reason, emailed=yes_sayers(o), when=when)


@router.post("/{opportunity_id}/cancel/confirm")
async def cancel_confirm(request: Request, user: SignedIn, opportunity_id: str) -> Response:
    reason = str((await request.form()).get("reason") or "")
    api = hub_api(request)
    try:
        cancelled = await api.post("membership", f"/v1/opportunities/{opportunity_id}/cancel", json={"reason": reason})
    except ApiProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        o = await api.get("membership", f"/v1/opportunities/{opportunity_id}")
        return await cancel_page(request, o, reason, {"reason": api_errors(problem).popitem()[1]}, status=422)
    if cancelled["emailed"]:
        request.session["flash"] = f"Cancelled. {_people(cancelled['emailed'])} emailed the reason."
    else:
        request.session["flash"] = "Cancelled. Nobody had said yes, so nobody was emailed."
    return RedirectResponse(f"/opportunities/{opportunity_id}", status_code=303)
