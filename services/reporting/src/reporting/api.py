"""HTTP routes for reporting consumers, scoped by the caller's authority. Every figure is
published under the rule set nhse-fft-v1 and passes the disclosure audit (counts of 1 to
4 people, and whatever would reveal them, are "*")."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from hub_shared import correlation
from hub_shared.auth import Principal, TokenVerifier, authenticate, require_scope
from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.events import ServiceArea
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE
from reporting import fft_csv as fft_csv_layout
from reporting import handlers, queries, snapshots
from reporting.disclosure import shown_count
from reporting.publication import RULE_SET
from reporting.schemas import (
    CommentPublic,
    FftReportPublic,
    ScorecardPublic,
    SnapshotPublic,
    ThemeReportPublic,
    TrendPointPublic,
)

COOKIE = "hub_token"

router = APIRouter(prefix="/v1/reports", tags=["reports"])
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (401, 403, 404, 409, 422)}
ODS = r"^[A-Za-z0-9]{3,6}$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


Reader = Annotated[Principal, Depends(require_scope("reports:read"))]
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="The dashboard's sign-in cookie")


async def csv_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """A download is read with the bearer token, or from the dashboard with its sign-in cookie
    (HttpOnly, SameSite=Strict, so another site cannot make the browser use it)."""
    if credentials is None and cookie is None:
        return await require_scope("reports:read").admit(request, await authenticate(request, None))
    token = credentials.credentials if credentials is not None else str(cookie)
    verifier: TokenVerifier = request.app.state.token_verifier
    return await require_scope("reports:read").admit(request, verifier.verify(token))


CsvReader = Annotated[Principal, Depends(csv_reader)]
Org = Annotated[str, Path(pattern=ODS, description="ODS code: a practice, a place or the ICB")]
Month = Annotated[str | None, Query(pattern=MONTH, description="YYYY-MM; default all months")]


class FeedbackVolumePublic(BaseModel):
    organisation_code: str
    received: int | str
    organisations_included: list[str]


@router.get(
    "/feedback-volume/{organisation_code}",
    responses=ERRORS,
    summary="Individual feedback received for an organisation and everything under it",
)
async def feedback_volume(organisation_code: Org, principal: Reader, session: Session) -> FeedbackVolumePublic:
    code = authorise(principal, organisation_code)
    included = reference().descendants(code)
    received = await handlers.feedback_received(session, included)
    return FeedbackVolumePublic(organisation_code=code, received=shown_count(received), organisations_included=included)


CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV, NHS England's layout"}
}


@router.get(
    "/fft/{organisation_code}.csv",
    responses={**ERRORS, **CSV},
    response_class=Response,
    summary="The FFT report as CSV, column for column in NHS England's FFT publication layout (nhse-fft-v1)",
)
async def fft_csv(
    organisation_code: Org,
    principal: CsvReader,
    session: Session,
    month: Month = None,
    service_area: ServiceArea | None = None,
) -> Response:
    code = authorise(principal, organisation_code)
    filters = queries.FftFilter(month=month, service_area=service_area.value if service_area else None)
    report = await queries.fft_report(session, reference(), code, filters)
    filename = f"fft-{code}-{month or 'all'}{'-' + service_area.value if service_area else ''}.csv"
    return Response(
        fft_csv_layout.write(report["rows"], reference(), month),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/fft/{organisation_code}",
    responses=ERRORS,
    summary="Friends and Family Test: counts and % positive/negative for the organisation and those under it",
)
async def fft(
    organisation_code: Org,
    principal: Reader,
    session: Session,
    month: Month = None,
    service_area: ServiceArea | None = None,
) -> FftReportPublic:
    code = authorise(principal, organisation_code)
    filters = queries.FftFilter(month=month, service_area=service_area.value if service_area else None)
    return FftReportPublic.model_validate(await queries.fft_report(session, reference(), code, filters))


@router.get("/fft/{organisation_code}/trend", responses=ERRORS, summary="% positive by month (NHS England formula)")
async def fft_trend(organisation_code: Org, principal: Reader, session: Session) -> list[TrendPointPublic]:
    trend = await queries.fft_trend(session, reference(), authorise(principal, organisation_code))
    return [TrendPointPublic.model_validate(t) for t in trend]


@router.get("/themes/{organisation_code}", responses=ERRORS, summary="Themes and sentiment of free text, with trends")
async def themes(organisation_code: Org, principal: Reader, session: Session, month: Month = None) -> ThemeReportPublic:
    report = await queries.theme_report(session, reference(), authorise(principal, organisation_code), month)
    return ThemeReportPublic.model_validate(report)


@router.get(
    "/comments/{organisation_code}",
    responses=ERRORS,
    summary="Free text, newest first; text awaiting safeguarding or complaint review is withheld",
)
async def comments(
    organisation_code: Org,
    principal: Reader,
    session: Session,
    month: Month = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CommentPublic]:
    found = await queries.comments(session, reference(), authorise(principal, organisation_code), month, limit)
    return [CommentPublic.model_validate(c) for c in found]


@router.get("/scorecard/{organisation_code}", responses=ERRORS, summary="The involvement scorecard")
async def scorecard(organisation_code: Org, principal: Reader, session: Session) -> ScorecardPublic:
    found = await queries.scorecard(session, reference(), authorise(principal, organisation_code))
    return ScorecardPublic.model_validate(found)


class SnapshotCreate(BaseModel):
    month: str = Field(pattern=MONTH, description="A closed month, YYYY-MM")


@router.post(
    "/snapshots",
    status_code=201,
    responses=ERRORS,
    summary="Publish a closed month's snapshot as a report.published.v1 event (scope reports:publish)",
)
async def publish_snapshot(
    body: SnapshotCreate,
    principal: Annotated[Principal, Depends(require_scope("reports:publish"))],
    session: Session,
) -> SnapshotPublic:
    icb = authorise(principal, reference().icb_of())
    event = await snapshots.publish_snapshot(session, reference(), body.month, correlation_id=correlation.current())
    await session.commit()
    return SnapshotPublic(
        month=event.month,
        published_at=event.published_at,
        organisation_code=icb,
        rows=len(event.fft),
        rule_set=RULE_SET,
    )
