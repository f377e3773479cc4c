"""The dashboard for ICS reporting consumers: server-rendered pages built from NHS.UK
frontend's own Jinja macros (``nhsuk-frontend-jinja``, matching the installed
``nhsuk-frontend``), with every asset served by the service itself. It works without
JavaScript: filters are a plain form, the organisation table sorts by links, the chart is
inline SVG with a data table. The browser holds the bearer token in an HttpOnly cookie
set by the sign-in form; every page checks it exactly as the API does, and the CSV
download takes the same cookie. What the page shows (the table and the monthly trend
beside it) is audited together under nhse-fft-v1."""

import math
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup

from hub_shared.auth import Principal, TokenVerifier
from hub_shared.authorisation import may_see
from hub_shared.events import ServiceArea
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from reporting.api.deps import COOKIE
from reporting.queries import scorecard as scorecard_queries
from reporting.queries.fft import FftFilter, answers_by_month, fft_table
from reporting.queries.themes import theme_report
from reporting.rules.disclosure import SUPPRESSED
from reporting.rules.publication import RULE_SET, RULE_SET_SUMMARY, trend_rows
from reporting.schemas import MONTH, ODS

HERE = Path(__file__).resolve().parent


def percent_text(value: Any) -> str:
    return "–" if value is None else SUPPRESSED if value == SUPPRESSED else f"{value}%"


def count_text(value: Any) -> str:
    return "–" if value is None else str(value)


TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader([FileSystemLoader(HERE / "templates"), PackageLoader("nhsuk_frontend_jinja")]),
        autoescape=select_autoescape(["html", "jinja"]),
        undefined=ChainableUndefined,  # as nhsuk-frontend-jinja's macros expect
    )
)
# NHS.UK frontend and Swagger UI, installed by `make install` (npm) next to the service.
NODE_MODULES = HERE.parents[2] / "web" / "node_modules"
NHSUK = NODE_MODULES / "nhsuk-frontend" / "dist" / "nhsuk"
SWAGGER_UI = NODE_MODULES / "swagger-ui-dist"
TEMPLATES.env.filters["pct"] = percent_text
TEMPLATES.env.filters["count"] = count_text
router = APIRouter(include_in_schema=False)
SORTS = {"name": "Organisation", "total": "Total", "pct_positive": "% positive"}
NAME_CELL = '<span class="hub-depth hub-depth--{}">{} <span class="nhsuk-u-secondary-text-colour">{}</span></span>'
ANSWER_HEADINGS = {
    "very_good": "Very good",
    "good": "Good",
    "neither_good_nor_poor": "Neither",
    "poor": "Poor",
    "very_poor": "Very poor",
    "dont_know": "Don't know",
}


def _principal(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(token)
    except Problem:
        return None
    return principal if "reports:read" in principal.scopes else None


@router.get("/dashboard/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, error: str | None = None) -> Response:
    return TEMPLATES.TemplateResponse(request, "sign_in.html", {"error": error})


@router.post("/dashboard/sign-in")
async def sign_in(request: Request, token: Annotated[str, Form()] = "") -> Response:
    verifier: TokenVerifier = request.app.state.token_verifier
    if not token.strip():
        return TEMPLATES.TemplateResponse(request, "sign_in.html", {"error": "Enter your access token"}, 401)
    try:
        principal = verifier.verify(token.strip())
    except Problem as exc:
        return TEMPLATES.TemplateResponse(request, "sign_in.html", {"error": exc.detail}, status_code=401)
    if "reports:read" not in principal.scopes:
        return TEMPLATES.TemplateResponse(
            request, "sign_in.html", {"error": "This token lacks the reports:read scope."}, status_code=403
        )
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/dashboard/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/dashboard/sign-in?signed_out=1", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def line_chart(series: list[dict[str, Any]], months: list[str]) -> dict[str, Any]:
    """Geometry of an SVG line chart of % positive by month: y from 0 to 100 %, one line per
    series (gaps where a month is withheld or empty), withheld months marked *."""
    width, height = 480, 300
    left, right, top, bottom = 68, 36, 28, 56  # left: room for "100%" at the axis
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(months))
    step = plot_w / max(1, n - 1) if n > 1 else 0

    def x(i: int) -> float:
        return round(left + (i * step if n > 1 else plot_w / 2), 1)

    def y(v: float) -> float:
        return round(top + plot_h * (1 - v / 100), 1)

    label_every = max(1, math.ceil(n / 5))
    lines = []
    for s in series:
        by_month = {p["month"]: p["pct_positive"] for p in s["points"]}
        segments: list[list[tuple[float, float]]] = [[]]
        points, withheld = [], []
        for i, month in enumerate(months):
            value = by_month.get(month)
            if isinstance(value, int):
                segments[-1].append((x(i), y(value)))
                points.append({"x": x(i), "y": y(value), "value": value, "month": month})
            else:
                if segments[-1]:
                    segments.append([])
                if value == SUPPRESSED:
                    withheld.append({"x": x(i), "month": month})
        paths = [" ".join(f"{'M' if j == 0 else 'L'}{px},{py}" for j, (px, py) in enumerate(seg)) for seg in segments]
        lines.append({**s, "paths": [p for p in paths if p], "points": points, "withheld": withheld})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "y_ticks": [{"y": y(v), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)],
        "x_ticks": [
            {"x": x(i), "label": _month_label(m)} for i, m in enumerate(months) if i % label_every == 0 or i == n - 1
        ],
        "lines": lines,
    }


def _month_label(month: str) -> str:
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    year, number = month.split("-")
    return f"{names[int(number) - 1]} {year[2:]}"


def nested_rows(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """The table's rows with each organisation's children right under it, siblings sorted
    (withheld and empty values last), with their depth for indenting."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        value = row["name"] if sort == "name" else row.get(sort)
        missing = not isinstance(value, (int, str)) or value == SUPPRESSED
        return (missing, value if not missing else 0)

    children: dict[str | None, list[dict[str, Any]]] = {}
    codes = {r["organisation_code"] for r in rows}
    for row in rows:
        up = row["parent"] if row["parent"] in codes else None
        children.setdefault(up, []).append(row)
    out: list[dict[str, Any]] = []

    def walk(up: str | None, depth: int) -> None:
        present = [r for r in children.get(up, []) if not key(r)[0]]
        absent = [r for r in children.get(up, []) if key(r)[0]]
        for row in sorted(present, key=key, reverse=descending) + sorted(absent, key=lambda r: r["name"]):
            name = Markup(
                '<span class="hub-depth hub-depth--{}">{} <span class="nhsuk-u-secondary-text-colour">{}</span></span>'
            )
            out.append({**row, "depth": depth, "name_html": name.format(depth, row["name"], row["organisation_code"])})
            walk(row["organisation_code"], depth + 1)

    walk(None, 0)
    return out


def _choice(value: str | None, pattern: str, allowed: set[str] | None = None) -> tuple[str | None, bool]:
    """An optional filter: empty means "all"; a malformed value is dropped, and said so."""
    if value is None or value.strip() == "":
        return None, True
    value = value.strip()
    ok = re.fullmatch(pattern, value) is not None and (allowed is None or value in allowed)
    return (value if ok else None), ok


def _theme_rows(themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    most = max([t["mentions"] for t in themes if isinstance(t["mentions"], int)] or [1])
    bar = Markup('<span class="hub-bar" style="width: {}%"></span>')
    return [
        {**t, "bar_html": bar.format(round(100 * t["mentions"] / most, 1) if isinstance(t["mentions"], int) else 0)}
        for t in themes
    ]


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    organisation: Annotated[str | None, Query()] = None,
    service_area: Annotated[str | None, Query()] = None,
    month: Annotated[str | None, Query()] = None,
    sort: Annotated[str | None, Query()] = None,
    order: Annotated[str | None, Query()] = None,
) -> Response:
    principal = _principal(request)
    if principal is None:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    organisations = reference()
    errors = []
    code_in, ok = _choice(organisation, ODS)
    code = (code_in or principal.organisation).upper()
    if not ok or organisations.get(code) is None or not may_see(principal, code, organisations):
        if organisation:
            errors.append(
                {"text": f"You cannot see '{organisation}': showing {principal.organisation}", "href": "#organisation"}
            )
        code = principal.organisation.upper()
    area, ok = _choice(service_area, r"^[a-z_]+$", {s.value for s in ServiceArea})
    if not ok:
        errors.append(
            {"text": f"'{service_area}' is not a service area: showing all services", "href": "#service_area"}
        )
    chosen_month, ok = _choice(month, MONTH)
    if not ok:
        errors.append({"text": f"'{month}' is not a month (YYYY-MM): showing all months", "href": "#month"})
    sort = sort if sort in SORTS else "name"
    descending = order == "desc"
    icb = organisations.icb_of(code)
    filters = FftFilter(month=chosen_month, service_area=area)
    async with request.app.state.sessions() as session:
        by_month = await answers_by_month(session, organisations, code)
        table = await fft_table(session, organisations, code, filters, trend=by_month)
        icb_months = await answers_by_month(session, organisations, icb)
        themes = await theme_report(session, organisations, code, chosen_month)
        scorecard = await scorecard_queries.scorecard(session, organisations, code)
    trend = trend_rows(by_month)
    icb_trend = trend_rows(icb_months)
    months = sorted({t["month"] for t in icb_trend} | {t["month"] for t in trend})
    series = [{"label": organisations.get(code).name, "css": "selected", "points": trend}]  # type: ignore[union-attr]
    if code != icb:
        series.append({"label": f"{organisations.get(icb).name} (ICS)", "css": "ics", "points": icb_trend})  # type: ignore[union-attr]
    chart_months = months[-12:]
    choices = [
        o for o in organisations if o.code in organisations.descendants(principal.organisation) and o.successor is None
    ]
    icb_by_month = {t["month"]: t for t in icb_trend}
    query = {"organisation": code, "service_area": area or "", "month": chosen_month or ""}
    context = {
        "principal": principal,
        "organisation": organisations.get(code),
        "errors": errors,
        "choices": [{"value": o.code, "text": f"{o.name} ({o.code})", "selected": o.code == code} for o in choices],
        "service_areas": [{"value": "", "text": "All services", "selected": not area}]
        + [
            {"value": s.value, "text": s.value.replace("_", " ").capitalize(), "selected": s.value == area}
            for s in ServiceArea
        ],
        "months": [{"value": "", "text": "All months", "selected": not chosen_month}]
        + [{"value": m, "text": _month_label(m), "selected": m == chosen_month} for m in reversed(months)],
        "selected": query,
        "fft": {"rows": table.rows, "extra_suppression": table.extra_suppression},
        "root": table.rows[0],
        "rows": nested_rows(table.rows, sort, descending),
        "sort": sort,
        "descending": descending,
        "sorts": SORTS,
        "answer_headings": ANSWER_HEADINGS,
        "trend": [{**t, "ics": icb_by_month.get(t["month"], {}).get("pct_positive")} for t in reversed(trend)],
        "chart": line_chart(series, chart_months),
        "themes": _theme_rows(themes["themes"]),
        "scorecard": scorecard,
        "rule_set": RULE_SET,
        "rule_set_summary": RULE_SET_SUMMARY,
        "csv_href": f"/v1/reports/fft/{code}.csv?"
        + "&".join(f"{k}={v}" for k, v in (("month", chosen_month), ("service_area", area)) if v),
    }
    return TEMPLATES.TemplateResponse(request, "dashboard.html", context)
