"""The GP Patient Survey's practice results as reporting's read model: each event is one
ICB's year, replacing what reporting held for that ICB and year."""

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, GpPatientSurveyPublishedV1
from reporting.models import SurveyResultFact


async def on_gp_patient_survey(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, GpPatientSurveyPublishedV1)
    await session.execute(
        delete(SurveyResultFact).where(SurveyResultFact.year == data.year, SurveyResultFact.icb_code == data.icb_code)
    )
    await session.execute(
        insert(SurveyResultFact),
        [
            {
                "year": data.year,
                "practice_code": r.practice_code,
                "icb_code": data.icb_code,
                "question": data.question,
                "base": r.base,
                "share": r.share,
                "lower": r.lower,
                "upper": r.upper,
            }
            for r in data.results
        ],
    )
