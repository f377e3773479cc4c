"""Free text for an organisation and those under it, newest first."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import FeedbackFact


async def comments(
    session: AsyncSession, organisations: Organisations, code: str, month: str | None, limit: int
) -> list[dict[str, Any]]:
    """Free text, newest first. Text flagged for review is left out until a reviewer clears it."""
    query = (
        select(FeedbackFact)
        .where(FeedbackFact.organisation_code.in_(organisations.descendants(code)), FeedbackFact.text.is_not(None))
        .where((FeedbackFact.review_required.is_(False)) | (FeedbackFact.review_decision == "cleared"))
        .order_by(FeedbackFact.received_at.desc())
        .limit(limit)
    )
    if month:
        query = query.where(FeedbackFact.month == month)
    return [
        {
            "organisation_code": f.organisation_code,
            "month": f.month,
            "service_area": f.service_area,
            "text": f.text,
            "sentiment": f.sentiment,
            "themes": f.themes,
        }
        for f in (await session.scalars(query)).all()
    ]
