"""Reports: reporting's figures for the organisations the person acts for, read from
reporting's API with their own token (the API decides what they may see, and its 403 is
shown as a page): the FFT table, the trend of % positive, themes, the involvement
scorecard, how representative patient partners are, and how far emails reached, each with
its CSV. Every figure is shown exactly as the API publishes it (``*`` where withheld).

Routes: ``/reports`` (the list), ``/reports/fft``, ``/reports/trend``, ``/reports/themes``,
``/reports/scorecard``, ``/reports/representativeness``, ``/reports/email-reach``, and
``/reports/<report>.csv`` for each (the FFT CSV is reporting's own, passed through)."""

import csv
import io
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from console.hub_api import ApiProblem, hub_api
from console.pages.charts import bar_widths, line_chart, month_label, nested_rows
from console.pagination import Paged
from console.signin import SignedIn, StaffUser
from console.templating import AREAS, render
from hub_shared.events import ServiceArea
from hub_shared.organisations import reference

router = APIRouter(prefix="/reports", include_in_schema=False)
PATH, LABEL, ABOUT = next(a for a in AREAS if a[0] == "/reports")

# (path, title, what it shows): the area's reports, in the order they are listed.
REPORTS: list[tuple[str, str, str]] = [
    ("fft", "Friends and Family Test", "Answers and % positive by organisation, each place's practices under it"),
    ("trend", "Trend", "% positive by month, beside the ICS"),
    ("themes", "Themes", "What people wrote about, and how they felt about it"),
    ("scorecard", "Involvement scorecard", "Feedback volume, channels and how fast feedback was answered"),
    ("representativeness", "Representativeness", "Patient partners against the registered population"),
    ("email-reach", "Email reach", "Invitations delivered and updates that reached the people who gave feedback"),
]
TITLES = {path: title for path, title, _ in REPORTS}
ANSWERS = {
    "very_good": "Very good",
    "good": "Good",
    "neither_good_nor_poor": "Neither good nor poor",
    "poor": "Poor",
    "very_poor": "Very poor",
    "dont_know": "Don't know",
}
# How the FFT table may be sorted (siblings only: practices stay under their place).
SORTS = {
    "name": "Organisation name, A to Z",
    "total-desc": "Most responses first",
    "total": "Fewest responses first",
    "pct_positive-desc": "Highest % positive first",
    "pct_positive": "Lowest % positive first",
}
SUPPRESSION = {
    "first-level": "1 to 4 responses",
    "second-level": "withheld so that a smaller one cannot be worked out",
    "cascade": "withheld so that a practice's figures cannot be worked out",
}
LABELS = {"month": "Month", "service_area": "Service area", "organisation_code": "Organisation"}


def shown(value: Any, suffix: str = "") -> str:
    """A figure as the API gives it: ``*`` withheld, ``–`` none."""
    if value is None:
        return "–"
    if value == "*":
        return "*"
    return f"{value}{suffix}"


def _organisation(user: StaffUser, organisation: str | None) -> str:
    return (organisation or user.organisation).strip().upper()


def _filters(
    request: Request, user: StaffUser, code: str, *, months: list[str] | None = None, area: str | None = None
) -> dict[str, Any]:
    """The filter form's choices: the organisations the person acts for (the API still
    decides), service areas and the months with answers."""
    choices = [{"value": c, "text": f"{n} ({c})", "selected": c == code} for c, n in user.acts_for]
    if code not in {c for c, _ in user.acts_for}:
        found = reference().get(code)
        choices.append({"value": code, "text": f"{found.name if found else code} ({code})", "selected": True})
    month = request.query_params.get("month") or ""
    month_items = [{"value": "", "text": "All months", "selected": not month}]
    month_items += [{"value": m, "text": month_label(m, long=True), "selected": m == month} for m in months or []]
    if month and month not in (months or []):
        month_items.append({"value": month, "text": month, "selected": True})
    return {
        "organisations": choices,
        "service_areas": [{"value": "", "text": "All services", "selected": not area}]
        + [
            {"value": s.value, "text": s.value.replace("_", " ").capitalize(), "selected": s.value == area}
            for s in ServiceArea
        ],
        "months": month_items,
    }


def given(**params: Any) -> dict[str, Any]:
    """Query parameters with the empty ones left out (httpx would send ``None`` as ``x=``)."""
    return {k: v for k, v in params.items() if v not in (None, "")}


FILTER_MESSAGES = {
    "month": "Choose a month from the list (a month is written YYYY-MM, like 2025-06)",
    "service_area": "Choose a service area from the list",
}


def filter_errors(problem: ApiProblem) -> dict[str, Any]:
    """The API's refusal of a filter, for the form: each field's message by its input's id,
    or the API's own words at the top when it names no field."""
    errors = {}
    for api_field, message in problem.errors.items():
        name = api_field.split(".")[-1]
        errors[name] = FILTER_MESSAGES.get(name, f"{LABELS.get(name, name)}: {message}")
    if errors:
        return {"errors": errors}
    return {"error_summary": problem.summary(LABELS)}


def _query(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


async def _months(request: Request, code: str) -> list[str]:
    trend = await hub_api(request).get("reporting", f"/v1/reports/fft/{code}/trend")
    return [t["month"] for t in reversed(trend)]


def _page(request: Request, current: str, code: str, **context: Any) -> HTMLResponse:
    found = reference().get(code)
    return render(
        request,
        f"reports/{current.replace('-', '_')}.html",
        current=current,
        reports=REPORTS,
        title=TITLES[current],
        code=code,
        organisation_name=found.name if found else code,
        shown=shown,
        **context,
    )


def _csv(filename: str, header: list[str], rows: Iterable[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("")
async def index(request: Request, user: SignedIn) -> HTMLResponse:
    return render(request, "reports/index.html", label=LABEL, about=ABOUT, reports=REPORTS)


# --- Friends and Family Test -------------------------------------------------------------


@router.get("/fft")
async def fft(
    request: Request,
    user: SignedIn,
    organisation: Annotated[str | None, Query()] = None,
    service_area: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query()] = None,
    sort: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    code = _organisation(user, organisation)
    months = await _months(request, code)
    params = given(month=month, service_area=service_area)
    filters = _filters(request, user, code, months=months, area=service_area)
    sort = sort if sort in SORTS else "name"
    sorts = [{"value": k, "text": t, "selected": k == sort} for k, t in SORTS.items()]
    try:
        report = await hub_api(request).get("reporting", f"/v1/reports/fft/{code}", params=params)
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return _page(
            request,
            "fft",
            code,
            filters=filters,
            sorts=sorts,
            report=None,
            status_code=422,
            **filter_errors(problem),
        )
    rows = nested_rows(report["rows"], sort.removesuffix("-desc"), sort.endswith("-desc"))
    pages = Paged.of(request, rows, per_page=50)
    return _page(
        request,
        "fft",
        code,
        filters=filters,
        report=report,
        root=report["rows"][0] if report["rows"] else None,
        rows=pages.rows,
        pages=pages,
        answers=ANSWERS,
        sorts=sorts,
        suppression=SUPPRESSION,
        csv_href="/reports/fft.csv" + _query(organisation=code, month=month, service_area=service_area),
    )


@router.get("/fft.csv")
async def fft_csv(
    request: Request,
    user: SignedIn,
    organisation: Annotated[str | None, Query()] = None,
    service_area: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query()] = None,
) -> Response:
    """reporting's own CSV (NHS England's layout), fetched with the person's token."""
    code = _organisation(user, organisation)
    params = given(month=month, service_area=service_area)
    result = await hub_api(request).request("reporting", "GET", f"/v1/reports/fft/{code}.csv", params=params)
    disposition = result.headers.get("content-disposition") or f'attachment; filename="fft-{code}.csv"'
    return Response(
        result.data or "", media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


# --- Trend -------------------------------------------------------------------------------


async def _trend(request: Request, code: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, str]:
    """The organisation's trend and, where the person may see it, the ICS's beside it."""
    api = hub_api(request)
    trend = await api.get("reporting", f"/v1/reports/fft/{code}/trend")
    icb = reference().icb_of(code)
    icb_trend = None
    if icb != code:
        try:
            icb_trend = await api.get("reporting", f"/v1/reports/fft/{icb}/trend")
        except ApiProblem as problem:
            if problem.status != 403:
                raise
    return trend, icb_trend, icb


@router.get("/trend")
async def trend(request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None) -> HTMLResponse:
    code = _organisation(user, organisation)
    points, icb_points, icb = await _trend(request, code)
    found = reference().get(code)
    series: list[dict[str, Any]] = [{"label": found.name if found else code, "css": "selected", "points": points}]
    if icb_points is not None:
        series.append({"label": reference().ics_name(icb), "css": "ics", "points": icb_points})
    months = sorted({p["month"] for s in series for p in s["points"]})
    by_month_icb = {p["month"]: p for p in icb_points or []}
    rows = [{**p, "ics": by_month_icb.get(p["month"], {}).get("pct_positive")} for p in reversed(points)]
    pages = Paged.of(request, rows, per_page=24)
    return _page(
        request,
        "trend",
        code,
        filters=_filters(request, user, code),
        chart=line_chart(series, months[-12:]) if months else None,
        rows=pages.rows,
        pages=pages,
        with_ics=icb_points is not None,
        month_label=month_label,
        csv_href="/reports/trend.csv" + _query(organisation=code),
    )


@router.get("/trend.csv")
async def trend_csv(request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None) -> Response:
    code = _organisation(user, organisation)
    points = await hub_api(request).get("reporting", f"/v1/reports/fft/{code}/trend")
    return _csv(
        f"fft-trend-{code}.csv",
        ["Period", "Organisation Code", "Total Responses", "Percentage Positive", "Withheld"],
        ([p["month"], code, p["total"], p["pct_positive"], "yes" if p["suppressed"] else "no"] for p in points),
    )


# --- Themes ------------------------------------------------------------------------------


@router.get("/themes")
async def themes(
    request: Request,
    user: SignedIn,
    organisation: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    code = _organisation(user, organisation)
    months = await _months(request, code)
    filters = _filters(request, user, code, months=months)
    try:
        report = await hub_api(request).get("reporting", f"/v1/reports/themes/{code}", params=given(month=month))
    except ApiProblem as problem:
        if problem.status not in (400, 422):
            raise
        return _page(request, "themes", code, filters=filters, report=None, status_code=422, **filter_errors(problem))
    widths = bar_widths([t["mentions"] for t in report["themes"]])
    rows = [{**t, "bar": w} for t, w in zip(report["themes"], widths, strict=True)]
    return _page(
        request,
        "themes",
        code,
        filters=filters,
        report=report,
        rows=rows,
        month=month,
        csv_href="/reports/themes.csv" + _query(organisation=code, month=month),
    )


@router.get("/themes.csv")
async def themes_csv(
    request: Request,
    user: SignedIn,
    organisation: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query()] = None,
) -> Response:
    code = _organisation(user, organisation)
    report = await hub_api(request).get("reporting", f"/v1/reports/themes/{code}", params=given(month=month))
    return _csv(
        f"themes-{code}-{month or 'all'}.csv",
        ["Period", "Organisation Code", "Theme", "Mentions", "Mean Sentiment", "Taxonomy", "Rule Set"],
        (
            [
                month or "all",
                code,
                t["theme"],
                t["mentions"],
                t["mean_sentiment"],
                report["taxonomy"],
                report["rule_set"],
            ]
            for t in report["themes"]
        ),
    )


# --- Scorecard, representativeness, email reach -------------------------------------------


async def _scorecard(request: Request, code: str) -> dict[str, Any]:
    data: dict[str, Any] = await hub_api(request).get("reporting", f"/v1/reports/scorecard/{code}")
    return data


def scorecard_rows(card: dict[str, Any]) -> list[tuple[str, Any]]:
    ysd = card.get("you_said_we_did") or {}
    rows: list[tuple[str, Any]] = [
        ("Feedback received", card.get("feedback_volume")),
        ("Individual submissions", card.get("individual_submissions")),
        ("Responses in monthly FFT returns", card.get("fft_return_responses")),
        ("Registered patients", card.get("registered_patients")),
        ("Registered patients as of (month)", card.get("registered_population_month")),
        ("Feedback per 1,000 registered patients", card.get("rate_per_1000_registered")),
    ]
    survey = card.get("involvement_reported_by_patients")
    if survey:
        interval = survey.get("confidence_interval")
        rows += [
            (f"GP Patient Survey {survey['year']}: felt involved in decisions about their care", survey.get("share")),
            ("GP Patient Survey: 95% confidence interval", f"{interval[0]} to {interval[1]}" if interval else None),
            ("GP Patient Survey: base (patients who answered)", survey.get("base")),
            ("GP Patient Survey: flag", survey.get("flag") or "none"),
        ]
    rows += [(f"Channel: {name.replace('_', ' ')}", n) for name, n in sorted((card.get("channels") or {}).items())]
    rows += [
        ("PPG and co-production channels used", ", ".join(card.get("involvement_channels_used") or []) or "none"),
        ("Themes raised", ysd.get("themes_raised")),
        ("Themes with a published response", ysd.get("themes_with_published_response")),
        ("Share of themes answered", ysd.get("share_of_themes_answered")),
        ("Responses published", ysd.get("responses")),
        ("Median days to response", ysd.get("median_days_to_response")),
        ("Median days to change", ysd.get("median_days_to_change")),
    ]
    return rows


@router.get("/scorecard")
async def scorecard(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    code = _organisation(user, organisation)
    card = await _scorecard(request, code)
    return _page(
        request,
        "scorecard",
        code,
        filters=_filters(request, user, code),
        card=card,
        rows=scorecard_rows(card),
        csv_href="/reports/scorecard.csv" + _query(organisation=code),
    )


@router.get("/scorecard.csv")
async def scorecard_csv(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> Response:
    code = _organisation(user, organisation)
    card = await _scorecard(request, code)
    return _csv(
        f"scorecard-{code}.csv",
        ["Organisation Code", "Measure", "Value", "Rule Set"],
        ([code, name, value, card.get("rule_set")] for name, value in scorecard_rows(card)),
    )


def band_rows(membership: dict[str, Any]) -> list[dict[str, Any]]:
    bands = (membership.get("representation") or {}).get("bands") or []
    widths = bar_widths([b.get("per_1000") for b in bands])
    return [{**b, "bar": w} for b, w in zip(bands, widths, strict=True)]


@router.get("/representativeness")
async def representativeness(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    code = _organisation(user, organisation)
    card = await _scorecard(request, code)
    membership = card.get("membership") or {}
    names = {c: (o.name if (o := reference().get(c)) else c) for c in membership.get("representativeness_by_place", {})}
    return _page(
        request,
        "representativeness",
        code,
        filters=_filters(request, user, code),
        card=card,
        membership=membership,
        bands=band_rows(membership),
        place_names=names,
        csv_href="/reports/representativeness.csv" + _query(organisation=code),
    )


@router.get("/representativeness.csv")
async def representativeness_csv(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> Response:
    code = _organisation(user, organisation)
    card = await _scorecard(request, code)
    membership = card.get("membership") or {}
    score = (membership.get("representation") or {}).get("representativeness")
    return _csv(
        f"representativeness-{code}.csv",
        ["Organisation Code", "Age Band", "Sex", "Members", "Registered Patients", "Members per 1000", "Score"],
        (
            [code, b["age_band"], b["sex"], b["members"], b["registered_patients"], b["per_1000"], score]
            for b in band_rows(membership)
        ),
    )


async def _reach(request: Request, code: str) -> dict[str, Any]:
    data: dict[str, Any] = await hub_api(request).get("reporting", f"/v1/reports/notifications/{code}")
    return data


@router.get("/email-reach")
async def email_reach(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    code = _organisation(user, organisation)
    reach = await _reach(request, code)
    pages = Paged.of(request, reach["invitations_by_opportunity"], per_page=25)
    return _page(
        request,
        "email-reach",
        code,
        filters=_filters(request, user, code),
        reach=reach,
        opportunities=pages.rows,
        pages=pages,
        csv_href="/reports/email-reach.csv" + _query(organisation=code),
    )


@router.get("/email-reach.csv")
async def email_reach_csv(
    request: Request, user: SignedIn, organisation: Annotated[str | None, Query()] = None
) -> Response:
    code = _organisation(user, organisation)
    reach = await _reach(request, code)
    rows: list[list[Any]] = []
    i = reach["invitations"]
    rows.append([code, "invitations", "all", i["sent"], i["delivered"], i["failed"], i["unknown"], ""])
    for o in reach["invitations_by_opportunity"]:
        rows.append(
            [code, "invitations", o["opportunity_id"], o["sent"], o["delivered"], o["failed"], o["unknown"], ""]
        )
    rows.append([code, "you said, we did updates", "all", "", "", "", "", reach["updates_reached_contributors"]])
    for r in reach["updates_by_response"]:
        rows.append([code, "you said, we did updates", r["response_id"], "", "", "", "", r["reached"]])
    return _csv(
        f"email-reach-{code}.csv",
        ["Organisation Code", "Emails", "Opportunity or Response", "Sent", "Delivered", "Failed", "Unknown", "Reached"],
        rows,
    )
