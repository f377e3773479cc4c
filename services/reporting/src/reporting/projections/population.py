"""The registered population, month by month, as reporting's read model: each event is one
ICB's month, replacing what reporting held for that ICB and month."""

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, RegisteredPopulationPublishedV1
from reporting.models import RegisteredPopulation


async def on_registered_population(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, RegisteredPopulationPublishedV1)
    await session.execute(
        delete(RegisteredPopulation).where(
            RegisteredPopulation.month == data.month, RegisteredPopulation.icb_code == data.icb_code
        )
    )
    await session.execute(
        insert(RegisteredPopulation),
        [
            {
                "month": data.month,
                "practice_code": c.practice_code,
                "age_band": c.age_band.value,
                "sex": c.sex.value,
                "icb_code": data.icb_code,
                "patients": c.patients,
            }
            for c in data.counts
        ],
    )
