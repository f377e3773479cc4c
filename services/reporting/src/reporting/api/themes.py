"""Themes and sentiment of free text, with trends."""

from fastapi import APIRouter

from hub_shared.authorisation import authorise
from hub_shared.db import Session
from hub_shared.organisations import reference
from reporting.api.deps import ERRORS, PREFIX, TAGS, Month, Org, Reader
from reporting.queries.themes import theme_report
from reporting.schemas import ThemeReportPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.get("/themes/{organisation_code}", responses=ERRORS, summary="Themes and sentiment of free text, with trends")
async def themes(organisation_code: Org, principal: Reader, session: Session, month: Month = None) -> ThemeReportPublic:
    report = await theme_report(session, reference(), authorise(principal, organisation_code), month)
    return ThemeReportPublic.model_validate(report)
