"""The Friends and Family Test report: as JSON, as CSV in NHS England's layout, and its trend by
month. The CSV route comes first: its path would otherwise match the JSON one's."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.events import ServiceArea
from hub_shared.organisations import reference
from reporting.api.deps import ERRORS, PREFIX, TAGS, Month, Org, Reader
from reporting.queries import fft as fft_queries
from reporting.rules import fft_csv as fft_csv_layout
from reporting.schemas import FftReportPublic, TrendPointPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


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
    principal: Reader,
    session: Session,
    month: Month = None,
    service_area: ServiceArea | None = None,
) -> Response:
    code = authorise(principal, organisation_code)
    filters = fft_queries.FftFilter(month=month, service_area=service_area.value if service_area else None)
    report = await fft_queries.fft_report(session, reference(), code, filters)
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
    filters = fft_queries.FftFilter(month=month, service_area=service_area.value if service_area else None)
    return FftReportPublic.model_validate(await fft_queries.fft_report(session, reference(), code, filters))


@router.get("/fft/{organisation_code}/trend", responses=ERRORS, summary="% positive by month (NHS England formula)")
async def fft_trend(organisation_code: Org, principal: Reader, session: Session) -> list[TrendPointPublic]:
    trend = await fft_queries.fft_trend(session, reference(), authorise(principal, organisation_code))
    return [TrendPointPublic.model_validate(t) for t in trend]
