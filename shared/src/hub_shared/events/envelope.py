"""CloudEvents 1.0 in structured JSON mode over Kafka.

Extension attributes: ``tenant`` (the ODS code of the organisation the event belongs to)
and ``correlationid``. Messages are keyed by the event's subject (the aggregate id) so one
aggregate's events stay in order within a partition."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ValidationError

from hub_shared.events.feedback import (
    FeedbackReceivedV1,
    FeedbackRejectedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FeedbackSubmittedV1,
    FftMonthlyReturnV1,
    MemberErasedV1,
    ReportPublishedV1,
)
from hub_shared.events.membership import (
    AttendanceRecordedV1,
    GroupMembershipChangedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberContactV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
    OpportunityPublishedV1,
    UpdateDueV1,
)
from hub_shared.events.notification import (
    NotificationStatusChangedV1,
    RecipientSuppressedV1,
    UnsubscribeReceivedV1,
)

EVENT_TYPES: dict[str, type[BaseModel]] = {
    model.event_type: model  # type: ignore[attr-defined]
    for model in (
        FeedbackReceivedV1,
        FeedbackReviewedV1,
        FftMonthlyReturnV1,
        FeedbackRespondedV1,
        FeedbackRejectedV1,
        FeedbackSubmittedV1,
        MemberErasedV1,
        ReportPublishedV1,
        MemberJoinedV1,
        MemberConfirmedV1,
        MemberPreferencesChangedV1,
        MemberLeftV1,
        GroupMembershipChangedV1,
        OpportunityPublishedV1,
        InvitationIssuedV1,
        InvitationAnsweredV1,
        AttendanceRecordedV1,
        UpdateDueV1,
        MemberContactV1,
        NotificationStatusChangedV1,
        RecipientSuppressedV1,
        UnsubscribeReceivedV1,
    )
}


class InvalidEvent(ValueError):
    """A message that is not a valid hub event: it can only be dead-lettered."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    tenant: str
    correlation_id: str
    data: BaseModel


def new_envelope(data: BaseModel, *, source: str, subject: str, tenant: str, correlation_id: str) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=source,
        type=data.event_type,  # type: ignore[attr-defined]
        subject=subject,
        time=datetime.now(UTC),
        tenant=tenant,
        correlation_id=correlation_id,
        data=data,
    )


def encode(envelope: Envelope) -> ce_kafka.KafkaMessage:
    event = CloudEvent(
        attributes={
            "id": envelope.id,
            "source": envelope.source,
            "type": envelope.type,
            "subject": envelope.subject,
            "time": envelope.time,
            "datacontenttype": "application/json",
            "tenant": envelope.tenant,
            "correlationid": envelope.correlation_id,
        },
        data=envelope.data.model_dump(mode="json"),
    )
    return ce_kafka.to_structured_event(event, key_mapper=lambda e: e.get_subject())


def decode(value: bytes | None, key: bytes | None = None, headers: dict[str, bytes] | None = None) -> Envelope:
    """Parse and validate a Kafka message; raise InvalidEvent with the reason if it is not one."""
    if not value:
        raise InvalidEvent("empty message")
    try:
        event = ce_kafka.from_structured_event(ce_kafka.KafkaMessage(headers=headers or {}, key=key, value=value))
    except Exception as exc:  # the SDK raises several unrelated types for malformed input
        raise InvalidEvent(f"not a CloudEvents 1.0 structured JSON message: {exc}") from exc
    event_type = event.get_type()
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    tenant = event.get_extension("tenant")
    if not tenant:
        raise InvalidEvent("missing the 'tenant' extension attribute")
    data: Any = event.get_data()
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise InvalidEvent(f"data is not JSON: {exc}") from exc
    try:
        payload = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"{event_type} data is invalid: {exc.errors(include_url=False)}") from exc
    time = event.get_time() or datetime.now(UTC)
    return Envelope(
        id=event.get_id(),
        source=event.get_source(),
        type=event_type,
        subject=event.get_subject() or "",
        time=time,
        tenant=str(tenant),
        correlation_id=str(event.get_extension("correlationid") or uuid.uuid4()),
        data=payload,
    )
