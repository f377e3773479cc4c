"""Individual feedback received for organisations, summed from the rollup."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.models import FeedbackCount


async def feedback_received(session: AsyncSession, organisation_codes: list[str]) -> int:
    total = await session.scalar(
        select(func.sum(FeedbackCount.submissions)).where(FeedbackCount.organisation_code.in_(organisation_codes))
    )
    return int(total or 0)
