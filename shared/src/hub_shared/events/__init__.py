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
from hub_shared.events.feedback import Channel, FeedbackReceivedV1, FftAnswer, ServiceArea

__all__ = [
    "EVENT_TYPES",
    "Channel",
    "Envelope",
    "FeedbackReceivedV1",
    "FftAnswer",
    "InvalidEvent",
    "ServiceArea",
    "decode",
    "encode",
    "new_envelope",
]
