"""Projection handlers: one function per event type, applied inside the consumer's
transaction (with the inbox row), so each event counts exactly once."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, FeedbackReceivedV1
from reporting.models import FeedbackVolume


async def on_feedback_received(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackReceivedV1)
    volume = await session.get(FeedbackVolume, data.organisation_code, with_for_update=True)
    if volume is None:
        session.add(FeedbackVolume(organisation_code=data.organisation_code, received=1))
    else:
        volume.received += 1


async def feedback_received(session: AsyncSession, organisation_codes: list[str]) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(FeedbackVolume.received), 0)).where(
            FeedbackVolume.organisation_code.in_(organisation_codes)
        )
    )
    return int(total or 0)
