"""Event contracts: the CloudEvents 1.0 envelope and one pydantic model per event type.

The type name carries the version (``feedback.received.v1``). A breaking change is a new
type and a new model, never an edit of a published one."""

from hub_shared.events.envelope import (
    EVENT_TYPES,
    Envelope,
    InvalidEvent,
    decode,
    encode,
    new_envelope,
)
from hub_shared.events.feedback import (
    AgeBand,
    Channel,
    Demographics,
    EthnicGroup,
    FeedbackReceivedV1,
    FeedbackRejectedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FeedbackSubmittedV1,
    FftAnswer,
    FftMonthlyReturnV1,
    MemberErasedV1,
    ReportPublishedV1,
    ResponseStatus,
    ReviewDecision,
    ServiceArea,
    Sex,
    TriageFlag,
)

__all__ = [
    "EVENT_TYPES",
    "AgeBand",
    "Channel",
    "Demographics",
    "Envelope",
    "EthnicGroup",
    "FeedbackReceivedV1",
    "FeedbackRejectedV1",
    "FeedbackRespondedV1",
    "FeedbackReviewedV1",
    "FeedbackSubmittedV1",
    "FftAnswer",
    "FftMonthlyReturnV1",
    "InvalidEvent",
    "MemberErasedV1",
    "ReportPublishedV1",
    "ResponseStatus",
    "ReviewDecision",
    "ServiceArea",
    "Sex",
    "TriageFlag",
    "decode",
    "encode",
    "new_envelope",
]
