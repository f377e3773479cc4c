"""Published responses ("you said, we did") as reporting's read model: the latest state of
each (``ResponseFact``), for the scorecard."""

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, FeedbackRespondedV1
from reporting.models import ResponseFact


async def on_feedback_responded(session: AsyncSession, envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, FeedbackRespondedV1)
    fact = await session.get(ResponseFact, data.response_id)
    if fact is None:
        fact = ResponseFact(response_id=data.response_id, first_responded_at=data.responded_at)
        session.add(fact)
    fact.organisation_code = data.organisation_code
    fact.theme = data.theme
    fact.status = data.status.value
    fact.earliest_feedback_at = data.earliest_feedback_at
    fact.changed_at = data.changed_at
