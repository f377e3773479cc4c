"""The dashboard for ICS reporting consumers: server-rendered HTML with NHS.UK frontend
styles, charts as accessible inline SVG (each with a data table), filters by place,
practice, service area and month. The browser holds the bearer token in an HttpOnly
cookie set by the sign-in form; every page checks it exactly as the API does."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub_shared.auth import Principal, TokenVerifier
from hub_shared.events import ServiceArea
from hub_shared.organisations import Kind, reference
from hub_shared.problems import Problem
from reporting import queries
from reporting.disclosure import SUPPRESSED

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# NHS.UK frontend, installed by `make install` (npm) next to the service.
STATIC = HERE.parents[1] / "web" / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
COOKIE = "hub_token"
router = APIRouter(include_in_schema=False)


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
async def sign_in(request: Request, token: Annotated[str, Form()]) -> Response:
    verifier: TokenVerifier = request.app.state.token_verifier
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


def _bars(points: list[dict[str, Any]], value: str, label: str) -> dict[str, Any]:
    """Geometry for a simple SVG bar chart; suppressed points are drawn as gaps, marked *."""
    width, height, gap = 640, 200, 8
    n = max(1, len(points))
    bar = (width - gap * (n + 1)) / n
    bars = []
    for i, p in enumerate(points):
        v = p.get(value)
        shown = v if isinstance(v, (int, float)) else None
        h = 0 if shown is None else height * shown / 100
        bars.append(
            {
                "x": gap + i * (bar + gap),
                "y": height - h,
                "w": bar,
                "h": h,
                "label": p[label],
                "value": SUPPRESSED if v == SUPPRESSED else ("–" if v is None else v),
            }
        )
    return {"width": width, "height": height, "bars": bars}


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    organisation: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{3,6}$")] = None,
    service_area: ServiceArea | None = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> Response:
    principal = _principal(request)
    if principal is None:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    organisations = reference()
    code = (organisation or principal.organisation).upper()
    if organisations.get(code) is None or not organisations.may_act_for(principal.organisation, code):
        code = principal.organisation
    choices = [
        o for o in organisations if o.code in organisations.descendants(principal.organisation) and o.successor is None
    ]
    async with request.app.state.sessions() as session:
        filters = queries.FftFilter(month=month, service_area=service_area.value if service_area else None)
        fft = await queries.fft_report(session, organisations, code, filters)
        trend = await queries.fft_trend(session, organisations, code)
        themes = await queries.theme_report(session, organisations, code, month)
        scorecard = await queries.scorecard(session, organisations, code)
    theme_max = max([t["mentions"] for t in themes["themes"] if isinstance(t["mentions"], int)] or [1])
    context = {
        "principal": principal,
        "organisation": organisations.get(code),
        "choices": [{"code": o.code, "name": o.name, "kind": o.kind.value} for o in choices],
        "service_areas": [s.value for s in ServiceArea],
        "months": [t["month"] for t in trend],
        "selected": {
            "organisation": code,
            "service_area": service_area.value if service_area else "",
            "month": month or "",
        },
        "fft": fft,
        "trend": trend,
        "trend_chart": _bars(trend[-12:], "pct_positive", "month"),
        "themes": themes["themes"],
        "theme_max": theme_max,
        "scorecard": scorecard,
        "is_practice": organisations.get(code).kind is Kind.PRACTICE,  # type: ignore[union-attr]
    }
    return TEMPLATES.TemplateResponse(request, "dashboard.html", context)
