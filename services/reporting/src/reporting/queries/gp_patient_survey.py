"""Involvement as patients report it: the GP Patient Survey's share of patients who felt
involved as much as they wanted to be in decisions about their care, for a practice, a place
or the ICS, from the latest survey year imported (``hub reference survey``), weighted as the
survey weights (``reporting.rules.survey_weighting``)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import SurveyResultFact
from reporting.rules.population import Population
from reporting.rules.survey_weighting import PracticeFigure, combine

MEASURE = "share of patients who felt involved as much as they wanted to be in decisions about their care"


async def involvement_reported(
    session: AsyncSession, organisations: Organisations, code: str, registered_population: Population
) -> dict[str, Any] | None:
    """The survey's figure for ``code`` with its base, interval and flag; None before any
    survey year is imported for its practices."""
    practices = organisations.practices_under(code)
    of_practices = SurveyResultFact.practice_code.in_(practices)
    year = (await session.execute(select(func.max(SurveyResultFact.year)).where(of_practices))).scalar_one_or_none()
    if year is None:
        return None
    rows = (await session.scalars(select(SurveyResultFact).where(of_practices, SurveyResultFact.year == year))).all()
    figures = [
        PracticeFigure(
            r.practice_code, r.base, r.share, r.lower, r.upper, registered_population.aged_16_and_over(r.practice_code)
        )
        for r in rows
    ]
    return {
        "source": "GP Patient Survey",
        "year": year,
        "question": rows[0].question if rows else None,
        "measure": MEASURE,
        **combine(figures),
        "practices": len(practices),
        "weighting": (
            "the survey's own result"
            if len(figures) == 1
            else f"practices weighted by registered patients aged 16 and over ({registered_population.month})"
        ),
    }
