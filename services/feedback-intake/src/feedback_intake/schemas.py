"""What callers send and get back over HTTP (and over the Kafka ingress)."""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Self, cast
from uuid import UUID

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, JsonValue, model_validator

from hub_shared import references
from hub_shared.events import (
    Channel,
    Demographics,
    FftAnswer,
    ResponseStatus,
    ReviewDecision,
    ServiceArea,
    TriageFlag,
)
from hub_shared.organisations import OrganisationCode
from hub_shared.text import OneLine, PlainText
from hub_shared.timestamps import Day, Timestamp

EXAMPLE: dict[str, Any] = {
    "organisation_code": "P81001",
    "service_area": "general_practice",
    "channel": "fft_sms",
    "fft_answer": "very_good",
    "text": "Reception were kind and I was seen the same day.",
    "occurred_at": "2026-11-20T09:30:00Z",
    "demographics": {"age_band": "35_44", "sex": "female", "ethnic_group": "white_british", "postcode_district": "LS6"},
    "hear_back": {"member_id": "6f1c0a52-8a8e-4a36-9d0e-2b1f0c3e7a10"},
}


def given(field: str, schema: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema for "the body has ``field``, and it is ``schema``"."""
    return {"required": [field], "properties": {field: schema}}


def status_is_not(status: str) -> dict[str, Any]:
    return {"properties": {"status": {"not": {"const": status}}}}


class HearBack(BaseModel):
    """Consent to hear back: a patient partner's member id, or the hear-back reference a
    person gave (``reference``, as written, e.g. ``7KQ3-M9X2-RT4``; or as ``contact_token``),
    never an address (intake holds no contact details). A reference is checked by its check
    symbol, so a mistyped one is refused rather than attributed to someone else; it is stored
    in its canonical form as the contact token."""

    # The rule of _exactly_one, in the contract.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [given("member_id", {"type": "string"}), given("contact_token", {"type": "string"})]
        },
    )
    member_id: UUID | None = None
    contact_token: str | None = Field(None, min_length=8, max_length=200, pattern=r"^[A-Za-z0-9_\-.]+$")
    reference: str | None = Field(
        None,
        min_length=11,
        max_length=40,
        pattern=r"^[A-Za-z0-9 \-]+$",
        description="A hear-back reference as the person gave it (case, spaces and hyphens do not matter)",
        examples=["7KQ3-M9X2-RT4"],
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.member_id, self.contact_token, self.reference) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of member_id, contact_token or reference")
        written = self.reference or self.contact_token
        if written is not None and (self.reference is not None or references.looks_like_reference(written)):
            try:
                self.contact_token = references.canonical(written)
            except references.BadReference as exc:
                raise ValueError(f"{'reference' if self.reference else 'contact_token'}: {exc}") from exc
            self.reference = None
        return self


def not_in_future(value: datetime) -> datetime:
    # A rule no JSON schema can state (it moves with the clock): named by its field.
    if value > datetime.now(UTC):
        raise ValueError("occurred_at is in the future")
    return value


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [cast(JsonValue, EXAMPLE)],
            # The rule of _has_content, in the contract: an answer, a text, or both.
            "anyOf": [given("fft_answer", {"not": {"type": "null"}}), given("text", {"type": "string"})],
        },
    )

    organisation_code: OrganisationCode = Field(description="ODS code of the place or practice it is about")
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None = Field(None, description="Friends and Family Test answer, if one was given")
    text: PlainText | None = Field(
        None, min_length=1, max_length=5000, description="Free text; scrubbed of personal data"
    )
    occurred_at: Annotated[Timestamp, AfterValidator(not_in_future)] = Field(
        description="When the experience or meeting happened (with a UTC offset)"
    )
    demographics: Demographics | None = None
    hear_back: HearBack | None = None
    client_reference: OneLine | None = Field(
        None, min_length=1, max_length=100, description="Your id for this item; a repeat is reported as a duplicate"
    )

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.fft_answer is None and self.text is None:
            raise ValueError("give an fft_answer, a text, or both")
        self.organisation_code = self.organisation_code.upper()
        return self


class IngressSubmission(FeedbackCreate):
    """The data of ``feedback.submitted.v1`` on the Kafka ingress: the body of POST
    /v1/feedback, with a client_reference (required: it is what a retry is recognised by)."""

    client_reference: OneLine = Field(  # type: ignore[assignment]
        min_length=1, max_length=100, description="Your id for this item; a repeat is reported as a duplicate"
    )


class FeedbackPublic(BaseModel):
    id: UUID
    organisation_code: str
    counts_for: str
    service_area: ServiceArea
    channel: Channel
    fft_answer: FftAnswer | None
    text: str | None = Field(
        description="Scrubbed free text. Null while it awaits review or after a referral unless you may review "
        "feedback (scope feedback:review), and always null once withheld"
    )
    occurred_at: datetime
    received_at: datetime
    client_reference: str | None
    demographics: Demographics | None
    hears_back: bool
    redactions: dict[str, int]
    triage_flags: list[TriageFlag]
    review_status: str


class FeedbackPage(BaseModel):
    items: list[FeedbackPublic]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class BatchCreate(BaseModel):
    items: list[Any] = Field(
        min_length=1,
        max_length=1000,
        description="Up to 1,000 submissions, each a FeedbackCreate object with a client_reference",
    )


class BatchItemResult(BaseModel):
    index: int
    client_reference: str | None
    status: str = Field(description="accepted, duplicate or rejected")
    id: UUID | None = None
    errors: list[dict[str, str]] | None = None


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[BatchItemResult]


class ReviewDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: ReviewDecision


class ResponseCreate(BaseModel):
    # The rules of _coherent, in the contract.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {"anyOf": [given("theme", {"type": "string"}), given("submission_ids", {"minItems": 1})]},
                {"anyOf": [status_is_not("not_possible"), given("status_reason", {"type": "string", "minLength": 1})]},
                {"anyOf": [status_is_not("done"), given("changed_at", {"type": "string"})]},
            ]
        },
    )

    organisation_code: OrganisationCode = Field(description="The place or practice responding")
    theme: OneLine | None = Field(None, min_length=1, max_length=100, description="The theme responded to, if any")
    submission_ids: list[UUID] = Field(default_factory=list, max_length=1000)
    you_said: PlainText = Field(min_length=1, max_length=5000)
    we_did: PlainText = Field(min_length=1, max_length=5000)
    status: ResponseStatus
    status_reason: PlainText | None = Field(None, max_length=2000, description="Required when status is not_possible")
    evidence_url: AnyHttpUrl | None = None
    change_due: Day | None = None
    changed_at: Day | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if not self.theme and not self.submission_ids:
            raise ValueError("respond to a theme, some submissions, or both")
        if self.status is ResponseStatus.NOT_POSSIBLE and not self.status_reason:
            raise ValueError("status_reason is required when the change is not possible")
        if self.status is ResponseStatus.DONE and self.changed_at is None:
            raise ValueError("changed_at is required when status is done")
        self.organisation_code = self.organisation_code.upper()
        return self


class ResponseUpdate(BaseModel):
    """Only the fields given change. ``we_did`` may be left out but not cleared: a
    response always says what was done (null is a field error, not a 500)."""

    model_config = ConfigDict(extra="forbid")
    status: ResponseStatus
    status_reason: PlainText | None = Field(None, max_length=2000)
    we_did: PlainText = Field(None, min_length=1, max_length=5000)  # type: ignore[assignment]
    evidence_url: AnyHttpUrl | None = None
    change_due: Day | None = None
    changed_at: Day | None = None


class ResponsePublic(BaseModel):
    id: UUID
    organisation_code: str
    theme: str | None
    submission_ids: list[UUID]
    you_said: str
    we_did: str
    status: ResponseStatus
    status_reason: str | None
    evidence_url: str | None
    change_due: date | None
    changed_at: date | None
    responded_at: datetime
    updated_at: datetime
    hearing_back: int = Field(
        0, description="How many contributors who asked to hear back this response reaches (a count, never who)"
    )


class UploadPublic(BaseModel):
    id: UUID
    status: str = Field(description="queued, running, done or failed")
    filename: str | None
    total_rows: int
    processed_rows: int
    accepted: int
    rejected: int
    errors: list[dict[str, Any]] = Field(description="One entry per rejected row: row number and field errors")
    created_at: datetime
    finished_at: datetime | None


class IngressRejectionPublic(BaseModel):
    """Why a record you sent on the Kafka ingress (feedback.submissions) was not accepted."""

    id: UUID
    sender: str = Field(description="The organisation whose token signed the record")
    tenant: str | None = Field(description="The tenant the event claimed")
    source_event_id: str | None = Field(description="The CloudEvents id of the rejected event (null if unreadable)")
    client_reference: str | None
    errors: list[dict[str, str]] = Field(description="Each problem: field, message, type")
    correlation_id: str
    rejected_at: datetime
