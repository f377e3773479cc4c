"""Feedback: browse and filter the feedback of the organisations the person acts for, work the
safeguarding and complaint triage queue, and write "you said, we did" responses and move them
on, all through feedback-intake's API with the person's own token (the API decides what they
may see and do; a refusal is shown as the API gives it)."""

import asyncio
import re
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.hub_api import ApiProblem, field_id, hub_api
from console.pagination import CursorPages, Paged
from console.signin import SignedIn, StaffUser
from console.templating import render

router = APIRouter(prefix="/feedback", include_in_schema=False)

PER_PAGE = 20
QUEUE_LIMIT = 500  # the review queue's API gives the oldest 500 at most; the page shows them in pages

SERVICE_AREAS = {
    "general_practice": "General practice",
    "musculoskeletal": "Musculoskeletal",
    "ophthalmology": "Eye services (ophthalmology)",
    "dermatology": "Skin services (dermatology)",
    "mental_health": "Mental health",
    "maternity": "Maternity",
    "urgent_care": "Urgent care",
    "community": "Community services",
    "other": "Other",
}
CHANNELS = {
    "fft_sms": "FFT by text message",
    "fft_online": "FFT online",
    "fft_paper": "FFT on paper",
    "fft_telephone": "FFT by telephone",
    "online_comment": "Online comment",
    "ppg_meeting": "PPG meeting",
    "coproduction_workshop": "Co-production workshop",
}
FFT_ANSWERS = {
    "very_good": "Very good",
    "good": "Good",
    "neither_good_nor_poor": "Neither good nor poor",
    "poor": "Poor",
    "very_poor": "Very poor",
    "dont_know": "Don't know",
}
TRIAGE_FLAGS = {"risk_of_harm": "Possible risk of harm", "complaint": "Possible complaint"}
REVIEW_STATUSES = {
    "not_required": ("No review needed", "grey"),
    "pending": ("Awaiting review", "orange"),
    "cleared": ("Cleared", "green"),
    "safeguarding_referral": ("Referred for safeguarding", "red"),
    "complaint_referral": ("Referred as a complaint", "yellow"),
    "withheld": ("Withheld", "grey"),
}
# The API's decision values (POST /v1/reviews/{id}), with what each means for the text.
DECISIONS = {
    "cleared": ("Cleared: nothing to act on", "The text may be shown with the rest of the feedback."),
    "safeguarding_referral": (
        "Referred for safeguarding",
        "You have raised it with the safeguarding lead; the text stays out of shared views.",
    ),
    "complaint_referral": (
        "Referred as a complaint",
        "You have passed it to the complaints team; the text stays out of shared views.",
    ),
    "withheld": ("Withheld", "Acted on or not, the text must never be shown."),
}
RESPONSE_STATUSES = {
    "planned": ("Planned", "blue", "The change is agreed and will happen."),
    "in_progress": ("In progress", "orange", "The change is under way."),
    "done": ("Done", "green", "The change has been made. Give the date it was made."),
    "not_possible": ("Not possible", "red", "The change cannot be made. Say why."),
}
RESPONSE_LABELS = {
    "organisation_code": "Organisation",
    "theme": "Theme",
    "submission_ids": "Feedback it answers",
    "you_said": "You said",
    "we_did": "We did",
    "status": "Status",
    "status_reason": "Why it is not possible",
    "evidence_url": "Link to more",
    "change_due": "Change due",
    "changed_at": "Date changed",
}
# Clearer words for what the API says when a field is left empty.
WHEN_EMPTY = {
    "decision": "Select your decision on this feedback",
    "you_said": "Enter what patients said",
    "we_did": "Enter what changed, or will change",
    "status": "Select where the change stands",
    "organisation_code": "Select the organisation responding",
}
DATE_FIELDS = ("occurred_from", "occurred_to", "change_due", "changed_at")
EMPTY_MESSAGES = ("Field required", "String should have at least 1 character", "Input should be")


def _field(api_field: str) -> str:
    """The form field an API error names (query parameters come as ``query.name``)."""
    return api_field.removeprefix("query.")


def _anchor(name: str) -> str:
    if name in DATE_FIELDS:
        return f"#{name}-day"
    if name in ("(body)", ""):
        return "#maincontent"
    return "#" + field_id(name)


def form_errors(problem: ApiProblem, labels: dict[str, str]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The API's refusal as the fields' own messages and NHS.UK's error summary."""
    if not problem.errors:
        return {}, [{"text": problem.detail or problem.title, "href": "#maincontent"}]
    errors: dict[str, str] = {}
    for api_field, message in problem.errors.items():
        name = _field(api_field)
        message = message.removeprefix("Value error, ")
        if name in WHEN_EMPTY and message.startswith(EMPTY_MESSAGES):
            message = WHEN_EMPTY[name]
        elif name in labels:
            message = f"{labels[name]}: {message}"
        errors[name] = message[:1].upper() + message[1:]
    summary = [{"text": message, "href": _anchor(name)} for name, message in errors.items()]
    return errors, summary


def _date_parts(source: Any, name: str) -> dict[str, str]:
    return {part: (source.get(f"{name}[{part}]") or "").strip() for part in ("day", "month", "year")}


def _iso_date(parts: dict[str, str]) -> str | None:
    """A date input's parts as the API's ISO date; what cannot be read is passed on as typed,
    for the API to refuse with its own field error."""
    if not any(parts.values()):
        return None
    day, month, year = parts["day"], parts["month"], parts["year"]
    if day.isdigit() and month.isdigit() and year.isdigit():
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"


def _parts_of(iso: str | None) -> dict[str, str]:
    if not iso:
        return {}
    year, month, day = iso[:10].split("-")
    return {"day": str(int(day)), "month": str(int(month)), "year": year}


def _day(iso: str | None) -> str:
    """An API date or time as people read it (1 October 2026)."""
    if not iso:
        return ""
    try:
        found = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{found.day} {found:%B %Y}"


def _organisations(user: StaffUser) -> list[tuple[str, str]]:
    return user.acts_for


def _organisation_name(user: StaffUser, code: str) -> str:
    return dict(user.acts_for).get(code, code)


def _tag(status: str) -> dict[str, str]:
    text, colour = REVIEW_STATUSES.get(status, (status, "grey"))
    return {"text": text, "classes": f"nhsuk-tag--{colour}"}


def _shown_text(item: dict[str, Any]) -> str | None:
    """Text awaiting review or withheld stays out of the shared list (the queue shows it to reviewers)."""
    if item["review_status"] in ("pending", "withheld", "safeguarding_referral", "complaint_referral"):
        return None
    return item.get("text")


def _context(user: StaffUser) -> dict[str, Any]:
    return {
        "SERVICE_AREAS": SERVICE_AREAS,
        "CHANNELS": CHANNELS,
        "FFT_ANSWERS": FFT_ANSWERS,
        "TRIAGE_FLAGS": TRIAGE_FLAGS,
        "DECISIONS": DECISIONS,
        "RESPONSE_STATUSES": RESPONSE_STATUSES,
        "review_tag": _tag,
        "day": _day,
        "shown_text": _shown_text,
        "organisation_name": lambda code: _organisation_name(user, code),
        "organisations": _organisations(user),
    }


# ---- browse and filter ----


@router.get("")
async def index(request: Request, user: SignedIn) -> HTMLResponse:
    query = request.query_params
    dates = {name: _date_parts(query, name) for name in ("occurred_from", "occurred_to")}
    params: dict[str, Any] = {"limit": PER_PAGE}
    for name in ("organisation_code", "service_area", "channel", "cursor"):
        if query.get(name):
            params[name] = query[name]
    start, end = _iso_date(dates["occurred_from"]), _iso_date(dates["occurred_to"])
    if start:
        params["occurred_from"] = f"{start}T00:00:00Z"
    if end:
        try:  # up to the end of the day given
            params["occurred_to"] = f"{date.fromisoformat(end) + timedelta(days=1)}T00:00:00Z"
        except ValueError:
            params["occurred_to"] = end
    items: list[dict[str, Any]] = []
    pages = None
    errors: dict[str, str] = {}
    summary: list[dict[str, str]] = []
    try:
        page = await hub_api(request).get("intake", "/v1/feedback", params=params)
        items = page["items"]
        pages = CursorPages.of(request, page["next_cursor"])
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors, summary = form_errors(
            problem,
            {"occurred_from": "From", "occurred_to": "To", "organisation_code": "Organisation", "cursor": "Page"},
        )
    filtered = any(query.get(n) for n in ("organisation_code", "service_area", "channel")) or any(
        v for d in dates.values() for v in d.values()
    )
    return render(
        request,
        "feedback/index.html",
        items=items,
        pages=pages,
        filters=query,
        dates=dates,
        filtered=filtered,
        errors=errors,
        error_summary=summary,
        **_context(user),
    )


# ---- the triage queue ----


@router.get("/triage")
async def triage(request: Request, user: SignedIn) -> HTMLResponse:
    queue = await hub_api(request).get("intake", "/v1/reviews", params={"limit": QUEUE_LIMIT})
    decided = request.query_params.get("decided")
    return render(
        request,
        "feedback/triage.html",
        pages=Paged.of(request, queue, per_page=PER_PAGE),
        queued=len(queue),
        decided=decided,
        decision=DECISIONS.get(request.query_params.get("decision", ""), ("", ""))[0],
        **_context(user),
    )


async def _decision_page(
    request: Request, user: SignedIn, submission_id: uuid.UUID, *, chosen: str | None = None, **context: Any
) -> HTMLResponse:
    item = await hub_api(request).get("intake", f"/v1/feedback/{submission_id}")
    status = 422 if context.get("errors") or context.get("error_summary") else 200
    return render(
        request, "feedback/decide.html", status_code=status, item=item, chosen=chosen, **context, **_context(user)
    )


@router.get("/triage/{submission_id:uuid}")
async def decide_page(request: Request, user: SignedIn, submission_id: uuid.UUID) -> HTMLResponse:
    return await _decision_page(request, user, submission_id)


@router.post("/triage/{submission_id:uuid}")
async def decide(request: Request, user: SignedIn, submission_id: uuid.UUID) -> Response:
    form = await request.form()
    decision = str(form.get("decision") or "")
    body = {"decision": decision} if decision else {}
    try:
        await hub_api(request).post("intake", f"/v1/reviews/{submission_id}", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors, summary = form_errors(problem, {"decision": "Decision"})
        return await _decision_page(request, user, submission_id, chosen=decision, errors=errors, error_summary=summary)
    query = urlencode({"decided": str(submission_id), "decision": decision})
    return RedirectResponse(f"/feedback/triage?{query}", status_code=303)


# ---- "you said, we did" ----

NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _next_cursor(link_header: str | None) -> str | None:
    found = NEXT_LINK.search(link_header or "")
    if not found:
        return None
    cursors = parse_qs(urlsplit(found.group(1)).query).get("cursor") or []
    return cursors[0] if cursors else None


@router.get("/responses")
async def responses(request: Request, user: SignedIn) -> HTMLResponse:
    params: dict[str, Any] = {"limit": PER_PAGE}
    if request.query_params.get("cursor"):
        params["cursor"] = request.query_params["cursor"]
    answer = await hub_api(request).request("intake", "GET", "/v1/responses", params=params)
    return render(
        request,
        "feedback/responses.html",
        responses=answer.data,
        pages=CursorPages.of(request, _next_cursor(answer.headers.get("link"))),
        **_context(user),
    )


async def _answered(request: Request, ids: list[str]) -> list[dict[str, Any]]:
    """The feedback items a response answers, as the API shows them to this person."""
    api = hub_api(request)
    valid = []
    for raw in dict.fromkeys(ids):
        try:
            valid.append(str(uuid.UUID(raw)))
        except ValueError:
            continue
    return list(await asyncio.gather(*(api.get("intake", f"/v1/feedback/{i}") for i in valid)))


def _new_response_page(request: Request, user: StaffUser, **context: Any) -> HTMLResponse:
    status = 422 if context.get("errors") or context.get("error_summary") else 200
    return render(request, "feedback/respond.html", status_code=status, **context, **_context(user))


@router.get("/responses/new")
async def new_response(request: Request, user: SignedIn) -> HTMLResponse:
    answered = await _answered(request, request.query_params.getlist("submission"))
    default_organisation = user.organisation
    if answered and len({i["organisation_code"] for i in answered}) == 1:
        default_organisation = answered[0]["organisation_code"]
    return _new_response_page(
        request,
        user,
        answered=answered,
        values={"organisation_code": default_organisation, "submission_ids": [i["id"] for i in answered]},
        dates={"change_due": {}, "changed_at": {}},
    )


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """A form's values for its inputs: nothing (None) shows as empty, not "None"."""
    return {name: ("" if value is None else value) for name, value in values.items()}


def _text(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


@router.post("/responses/new")
async def create_response(request: Request, user: SignedIn) -> Response:
    form = await request.form()
    chosen = [str(i) for i in form.getlist("submission_ids")]
    offered = [str(i) for i in form.getlist("offered")]
    dates = {name: _date_parts(form, name) for name in ("change_due", "changed_at")}
    body: dict[str, Any] = {
        "organisation_code": _text(form, "organisation_code") or "",
        "theme": _text(form, "theme"),
        "submission_ids": chosen,
        "you_said": _text(form, "you_said") or "",
        "we_did": _text(form, "we_did") or "",
        "status_reason": _text(form, "status_reason"),
        "evidence_url": _text(form, "evidence_url"),
        "change_due": _iso_date(dates["change_due"]),
        "changed_at": _iso_date(dates["changed_at"]),
    }
    if _text(form, "status"):
        body["status"] = _text(form, "status")
    try:
        created = await hub_api(request).post("intake", "/v1/responses", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors, summary = form_errors(problem, RESPONSE_LABELS)
        return _new_response_page(
            request,
            user,
            answered=await _answered(request, offered),
            values=_shown({**body, "status": _text(form, "status"), "submission_ids": chosen}),
            dates=dates,
            errors=errors,
            error_summary=summary,
        )
    return RedirectResponse(f"/feedback/responses/{created['id']}?published=1", status_code=303)


async def _response_page(request: Request, user: StaffUser, response_id: uuid.UUID, **context: Any) -> HTMLResponse:
    response = await hub_api(request).get("intake", f"/v1/responses/{response_id}")
    answered = Paged.of(request, response["submission_ids"], per_page=10)
    status = 422 if context.get("errors") or context.get("error_summary") else 200
    context.setdefault(
        "values", _shown({n: response[n] for n in ("status", "status_reason", "we_did", "evidence_url")})
    )
    context.setdefault("dates", {n: _parts_of(response[n]) for n in ("change_due", "changed_at")})
    return render(
        request,
        "feedback/response.html",
        status_code=status,
        response=response,
        answered=answered,
        answered_items=await _answered(request, answered.rows),
        published=request.query_params.get("published") == "1",
        moved=request.query_params.get("moved") == "1",
        **context,
        **_context(user),
    )


@router.get("/responses/{response_id:uuid}")
async def response_page(request: Request, user: SignedIn, response_id: uuid.UUID) -> HTMLResponse:
    return await _response_page(request, user, response_id)


@router.post("/responses/{response_id:uuid}")
async def move_on(request: Request, user: SignedIn, response_id: uuid.UUID) -> Response:
    """PATCH /v1/responses/{id}: the new status and only the fields filled in."""
    form = await request.form()
    dates = {name: _date_parts(form, name) for name in ("change_due", "changed_at")}
    body: dict[str, Any] = {}
    for name in ("status", "status_reason", "we_did", "evidence_url"):
        if _text(form, name):
            body[name] = _text(form, name)
    for name, parts in dates.items():
        if _iso_date(parts):
            body[name] = _iso_date(parts)
    try:
        await hub_api(request).patch("intake", f"/v1/responses/{response_id}", json=body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        errors, summary = form_errors(problem, RESPONSE_LABELS)
        return await _response_page(
            request,
            user,
            response_id,
            values=_shown({name: _text(form, name) for name in ("status", "status_reason", "we_did", "evidence_url")}),
            dates=dates,
            errors=errors,
            error_summary=summary,
        )
    return RedirectResponse(f"/feedback/responses/{response_id}?moved=1", status_code=303)


# ---- one item (last: its path would otherwise take /triage and /responses) ----


@router.get("/{submission_id:uuid}")
async def item(request: Request, user: SignedIn, submission_id: uuid.UUID) -> HTMLResponse:
    found = await hub_api(request).get("intake", f"/v1/feedback/{submission_id}")
    return render(request, "feedback/item.html", item=found, **_context(user))
