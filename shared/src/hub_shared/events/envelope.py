"""CloudEvents 1.0 in structured JSON mode over Kafka (the specification's Kafka protocol
binding, written and read here directly: it is every producer's and consumer's hot path).

Extension attributes: ``tenant`` (the ODS code of the organisation the event belongs to)
and ``correlationid``. Messages are keyed by the event's subject (the aggregate id) so one
aggregate's events stay in order within a partition."""

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
import orjson
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
    MemberContactV2,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
    OpportunityCancelledV1,
    OpportunityChangedV1,
    OpportunityPublishedV1,
    UpdateDueV1,
)
from hub_shared.events.notification import (
    NotificationStatusChangedV1,
    RecipientSuppressedV1,
    UnsubscribeReceivedV1,
)
from hub_shared.events.received import FeedbackReceived, received_from
from hub_shared.events.reference import (
    GpPatientSurveyPublishedV1,
    OrganisationsPublishedV1,
    RegisteredPopulationPublishedV1,
)

# An event's data: its pydantic model, or (the busiest types) its msgspec struct.
EventData = BaseModel | FeedbackReceived

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
        OpportunityChangedV1,
        OpportunityCancelledV1,
        InvitationIssuedV1,
        InvitationAnsweredV1,
        AttendanceRecordedV1,
        UpdateDueV1,
        MemberContactV2,
        NotificationStatusChangedV1,
        RecipientSuppressedV1,
        UnsubscribeReceivedV1,
        OrganisationsPublishedV1,
        RegisteredPopulationPublishedV1,
        GpPatientSurveyPublishedV1,
    )
}


# The busiest types are read into msgspec structs (``received.py``), not pydantic models.
STRUCT_READERS: dict[str, Callable[[Any], msgspec.Struct]] = {FeedbackReceived.event_type: received_from}


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
    data: EventData
    # Not part of the CloudEvent: the record's ``authorization`` header ("Bearer <JWT>"),
    # by which an outside sender on the ingress topic proves who it is (intake verifies it).
    authorization: str | None = None


AUTHORIZATION_HEADER = "authorization"


def new_envelope(data: EventData, *, source: str, subject: str, tenant: str, correlation_id: str) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=source,
        type=data.event_type,  # type: ignore[union-attr]
        subject=subject,
        time=datetime.now(UTC),
        tenant=tenant,
        correlation_id=correlation_id,
        data=data,
    )


@dataclass(frozen=True)
class KafkaMessage:
    """A Kafka record in CloudEvents' structured content mode, keyed by the subject."""

    headers: dict[str, bytes]
    key: str
    value: bytes


STRUCTURED_HEADERS = {"content-type": b"application/cloudevents+json"}
_STRUCT_ENCODER = msgspec.json.Encoder()


def encode(envelope: Envelope) -> KafkaMessage:
    """CloudEvents 1.0 structured JSON (the Kafka protocol binding's structured mode)."""
    data = envelope.data
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "datacontenttype": "application/json",
        "tenant": envelope.tenant,
        "correlationid": envelope.correlation_id,
    }
    if isinstance(data, msgspec.Struct):  # encoded by msgspec's compiled encoder, struct and all
        body["data"] = data
        value = _STRUCT_ENCODER.encode(body)
    else:
        body["data"] = data.model_dump(mode="json")
        value = orjson.dumps(body)
    return KafkaMessage(headers=dict(STRUCTURED_HEADERS), key=envelope.subject, value=value)


def decode(value: bytes | None, key: bytes | None = None, headers: dict[str, bytes] | None = None) -> Envelope:
    """Parse and validate a structured-mode CloudEvents 1.0 JSON message; raise InvalidEvent
    with the reason if it is not a valid hub event.

    Read directly rather than through the SDK's generic reader: this is every consumer's
    hot path (the SDK's attribute validation and date parsing cost ~150 us an event),
    and the rules checked are the specification's: specversion "1.0", non-empty id,
    source and type, an RFC 3339 time with a zone, data as JSON (or data_base64)."""
    return _envelope(_body(value), headers)


@dataclass(frozen=True)
class Unwanted:
    """A valid CloudEvent of a type the reader has no use for (its data left unvalidated)."""

    type: str


def decode_wanted(
    value: bytes | None, wanted: Callable[[str], bool], headers: dict[str, bytes] | None = None
) -> Envelope | Unwanted:
    """``decode``, except that an event of a type ``wanted`` refuses is not validated further:
    a consumer reads every event of its topics, and most of a busy topic's may not be its."""
    body = _body(value)
    if body["type"] in EVENT_TYPES and not wanted(body["type"]):
        return Unwanted(body["type"])
    return _envelope(body, headers)


def _body(value: bytes | None) -> dict[str, Any]:
    if not value:
        raise InvalidEvent("empty message")
    try:
        body = orjson.loads(value)  # several times faster than json on the consumers' hot path
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not a CloudEvents 1.0 structured JSON message: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidEvent("not a CloudEvents 1.0 structured JSON message: the body is not a JSON object")
    if body.get("specversion") != "1.0":
        raise InvalidEvent(f"not a CloudEvents 1.0 structured JSON message: specversion {body.get('specversion')!r}")
    for attribute in ("id", "source", "type"):
        if not isinstance(body.get(attribute), str) or not body[attribute]:
            raise InvalidEvent(f"not a CloudEvents 1.0 structured JSON message: '{attribute}' is required")
    return body


def _envelope(body: dict[str, Any], headers: dict[str, bytes] | None) -> Envelope:
    event_type = body["type"]
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    tenant = body.get("tenant")
    if not tenant or not isinstance(tenant, str):
        raise InvalidEvent("missing the 'tenant' extension attribute")
    time = datetime.now(UTC)
    if body.get("time") is not None:
        try:
            time = datetime.fromisoformat(body["time"])
        except (TypeError, ValueError) as exc:
            raise InvalidEvent(f"'time' is not an RFC 3339 timestamp: {body['time']!r}") from exc
        if time.tzinfo is None:
            raise InvalidEvent(f"'time' has no zone: {body['time']!r}")
    data: Any = body.get("data")
    if data is None and "data_base64" in body:
        try:
            data = json.loads(base64.b64decode(body["data_base64"], validate=True))
        except (ValueError, TypeError) as exc:
            raise InvalidEvent(f"data_base64 is not base64-encoded JSON: {exc}") from exc
    elif isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise InvalidEvent(f"data is not JSON: {exc}") from exc
    payload: EventData
    if (reader := STRUCT_READERS.get(event_type)) is not None:
        try:
            payload = cast(FeedbackReceived, reader(data))
        except msgspec.ValidationError as exc:
            raise InvalidEvent(f"{event_type} data is invalid: {exc}") from exc
    else:
        try:
            payload = model.model_validate(data)
        except ValidationError as exc:
            raise InvalidEvent(f"{event_type} data is invalid: {exc.errors(include_url=False)}") from exc
    correlation_id = body.get("correlationid")
    authorization = next((v for k, v in (headers or {}).items() if k.lower() == AUTHORIZATION_HEADER), None)
    return Envelope(
        id=body["id"],
        source=body["source"],
        type=event_type,
        subject=str(body.get("subject") or ""),
        time=time,
        tenant=tenant,
        correlation_id=str(correlation_id) if correlation_id else str(uuid.uuid4()),
        data=payload,
        authorization=authorization.decode(errors="replace") if authorization else None,
    )
