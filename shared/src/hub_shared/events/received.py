"""``feedback.received.v1`` as a msgspec ``Struct``: the hub's busiest event (one per piece of
feedback), so it is built, encoded, decoded and validated by msgspec's compiled code
rather than as a pydantic model per event.

``FeedbackReceivedV1`` (pydantic, ``feedback.py``) stays the published contract (the
AsyncAPI documents show it) and what a test or an outside producer may build; this struct
is what intake builds and every reader decodes. ``shared/tests/test_received_struct.py``
holds the two equal: the same fields, the same values accepted and refused, the same JSON."""

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

import msgspec

from hub_shared.events.feedback import (
    AgeBand,
    Channel,
    EthnicGroup,
    FeedbackReceivedV1,
    FftAnswer,
    ServiceArea,
    Sex,
    TriageFlag,
)

PostcodeDistrict = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")]
Score = Annotated[float, msgspec.Meta(ge=-1, le=1)]


class DemographicsStruct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``Demographics``: voluntary, as the person gave them at the time."""

    age_band: AgeBand | None = None
    sex: Sex | None = None
    ethnic_group: EthnicGroup | None = None
    postcode_district: PostcodeDistrict | None = None


class FeedbackReceived(msgspec.Struct, kw_only=True):
    """``FeedbackReceivedV1``, field for field (unknown fields are ignored, as there)."""

    event_type: ClassVar[str] = FeedbackReceivedV1.event_type

    submission_id: uuid.UUID
    organisation_code: str
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None = None
    text: str | None = None
    occurred_at: datetime
    received_at: datetime
    counts_for: str | None = None
    place_code: str | None = None
    submitted_by: str | None = None
    demographics: DemographicsStruct | None = None
    redactions: dict[str, int] = msgspec.field(default_factory=dict)
    triage_flags: list[TriageFlag] = msgspec.field(default_factory=list)
    review_required: bool = False
    sentiment: Score | None = None
    themes: list[str] = msgspec.field(default_factory=list)
    themes_version: str | None = None


def received_from(data: Any) -> FeedbackReceived:
    """Validate decoded JSON (a dict) as the event's data; raises ``msgspec.ValidationError``.
    Lax as pydantic is with JSON input (a number in a string, a whole float)."""
    return msgspec.convert(data, FeedbackReceived, strict=False)
