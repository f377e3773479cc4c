"""feedback-intake's tables: submissions, FFT returns and their upload jobs, reviews,
responses, idempotency records, and its outbox and inbox."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.inbox import InboxMixin
from hub_shared.outbox import OutboxMixin
from hub_shared.timestamps import UtcDateTime


class Base(DeclarativeBase):
    pass


class FeedbackSubmission(Base):
    __tablename__ = "feedback_submission"
    __table_args__ = (
        UniqueConstraint("submitted_by", "client_reference", name="uq_submission_client_reference"),
        Index("ix_submission_listing", "received_at", "id"),
        # Partial: most submissions have no member and need no review (migration 0005).
        Index(
            "ix_submission_member",
            "member_id",
            postgresql_where=text("member_id IS NOT NULL"),
            sqlite_where=text("member_id IS NOT NULL"),
        ),
        Index(
            "ix_submission_awaiting_review",
            "received_at",
            "id",
            postgresql_where=text("review_status = 'pending'"),
            sqlite_where=text("review_status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    counts_for: Mapped[str] = mapped_column(String(10))
    service_area: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(40))
    fft_answer: Mapped[str | None] = mapped_column(String(40), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # scrubbed: the original is never stored
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_by: Mapped[str] = mapped_column(String(10))
    client_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    correlation_id: Mapped[str] = mapped_column(String(100))
    age_band: Mapped[str | None] = mapped_column(String(30), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(30), nullable=True)
    ethnic_group: Mapped[str | None] = mapped_column(String(50), nullable=True)
    postcode_district: Mapped[str | None] = mapped_column(String(4), nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    contact_token: Mapped[str | None] = mapped_column(String(200), nullable=True)
    redactions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    triage_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_status: Mapped[str] = mapped_column(String(30), default="not_required")
    reviewed_by: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class FftReturn(Base):
    """A practice's monthly FFT return: counts per answer and per collection mode."""

    __tablename__ = "fft_return"
    __table_args__ = (UniqueConstraint("organisation_code", "period", name="uq_fft_return_period"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_code: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(7))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    modes: Mapped[dict[str, int]] = mapped_column(JSON)
    upload_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fft_upload.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FftUpload(Base):
    """An asynchronous CSV upload job, with its progress and result report."""

    __tablename__ = "fft_upload"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    submitted_by: Mapped[str] = mapped_column(String(10), index=True)
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, done, failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    correlation_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class FftUploadPart(Base):
    """A piece of an upload's CSV, whole records only (the first holds the header), stored
    as the body streams in and read back one at a time by the job."""

    __tablename__ = "fft_upload_part"

    upload_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("fft_upload.id"), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text)


class FeedbackResponse(Base):
    """'You said, we did': what a place did about a theme or some submissions."""

    __tablename__ = "feedback_response"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    theme: Mapped[str | None] = mapped_column(String(100), nullable=True)
    submission_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    you_said: Mapped[str] = mapped_column(Text)
    we_did: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    change_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    changed_at: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(10))
    responded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyRecord(Base):
    """The first result of a request made with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_record"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IngressRejection(Base):
    """Why an event on the Kafka ingress was not accepted, kept for the organisation whose
    token signed it (``sender``) and shown to no one else (``GET /v1/ingress/rejections``).
    An event without a valid token has no sender anyone can vouch for: ``sender`` is null
    and only operators see it (logs, the feedback.rejected topic)."""

    __tablename__ = "ingress_rejection"
    __table_args__ = (Index("ix_ingress_rejection_sender", "sender", "rejected_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    tenant: Mapped[str | None] = mapped_column(String(100), nullable=True)  # as claimed by the event
    source_event_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    client_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    correlation_id: Mapped[str] = mapped_column(String(100))
    rejected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxMessage(InboxMixin, Base):
    pass
