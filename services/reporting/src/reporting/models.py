"""reporting's read models (projections), its inbox and outbox. Everything here is built
only from events and can be rebuilt by replaying the topics (``reporting replay``)."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, Text, Uuid
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.events import Channel
from hub_shared.inbox import InboxMixin
from hub_shared.outbox import OutboxMixin
from hub_shared.timestamps import UtcDateTime
from reporting.rules.fft import ANSWERS, MODES

# The FFT figures' columns (FftFigures: FeedbackCount, FftReturnCount), each answer then each
# mode, and the channels FeedbackCount counts (``channel_<channel>``).
FFT_FIGURES = (*ANSWERS, *(f"mode_{m}" for m in MODES))
CHANNELS = tuple(c.value for c in Channel)


class Base(DeclarativeBase):
    pass


class FeedbackFact(Base):
    """One row per submission, as reporting needs it: where it counts, when, what it said."""

    __tablename__ = "feedback_fact"
    # Reports count from the rollups below; only the comments page reads facts (newest
    # text first, all of an ICS or one practice's month), so its indexes hold only the
    # rows with text: every index is written on every COPY of facts.
    __table_args__ = (
        Index("ix_feedback_fact_comments", "received_at", postgresql_where=sql("text IS NOT NULL")),
        Index(
            "ix_feedback_fact_org_comments",
            "organisation_code",
            "month",
            "received_at",
            postgresql_where=sql("text IS NOT NULL"),
        ),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10))  # counts_for: a merged practice's successor
    month: Mapped[str] = mapped_column(String(7))
    service_area: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(40))
    fft_answer: Mapped[str | None] = mapped_column(String(40), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    sentiment: Mapped[float | None] = mapped_column(Float, nullable=True)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    review_decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(30), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(30), nullable=True)
    ethnic_group: Mapped[str | None] = mapped_column(String(50), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FftFigures:
    """The FFT table's counts: each answer, and each collection mode."""

    very_good: Mapped[int] = mapped_column(Integer)
    good: Mapped[int] = mapped_column(Integer)
    neither_good_nor_poor: Mapped[int] = mapped_column(Integer)
    poor: Mapped[int] = mapped_column(Integer)
    very_poor: Mapped[int] = mapped_column(Integer)
    dont_know: Mapped[int] = mapped_column(Integer)
    mode_sms: Mapped[int] = mapped_column(Integer)
    mode_online: Mapped[int] = mapped_column(Integer)
    mode_paper: Mapped[int] = mapped_column(Integer)
    mode_telephone: Mapped[int] = mapped_column(Integer)
    mode_other: Mapped[int] = mapped_column(Integer)


class FeedbackCount(FftFigures, Base):
    """Individual submissions per organisation, month and service area, pre-aggregated for
    fast reports: one row holds every figure a report reads from them (a report sums a few
    thousand rows, not a million facts) and a batch of events writes each row once. An
    answer's mode is its channel (other channels: Other); the channels are the scorecard's
    (every submission, with an FFT answer or not)."""

    __tablename__ = "feedback_count"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    service_area: Mapped[str] = mapped_column(String(40), primary_key=True)
    submissions: Mapped[int] = mapped_column(Integer)
    channel_fft_sms: Mapped[int] = mapped_column(Integer)
    channel_fft_online: Mapped[int] = mapped_column(Integer)
    channel_fft_paper: Mapped[int] = mapped_column(Integer)
    channel_fft_telephone: Mapped[int] = mapped_column(Integer)
    channel_online_comment: Mapped[int] = mapped_column(Integer)
    channel_ppg_meeting: Mapped[int] = mapped_column(Integer)
    channel_coproduction_workshop: Mapped[int] = mapped_column(Integer)


class FftReturnFact(Base):
    """A practice's monthly FFT return; a corrected return replaces the earlier one."""

    __tablename__ = "fft_return_fact"

    return_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    month: Mapped[str] = mapped_column(String(7))
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    modes: Mapped[dict[str, int]] = mapped_column(JSON)


class FftReturnCount(FftFigures, Base):
    """Monthly returns summed per practice and month (general practice), for fast reports; a
    corrected return takes its earlier counts out as it adds its own."""

    __tablename__ = "fft_return_count"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)


class ThemeCount(Base):
    __tablename__ = "theme_count"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)
    mentions: Mapped[int] = mapped_column(Integer)
    sentiment_sum: Mapped[float] = mapped_column(Float)


class RegisteredPopulation(Base):
    """Registered patients per practice, band and sex, month by month (NHS England's
    "Patients Registered at a GP Practice", imported with hub population import)."""

    __tablename__ = "registered_population"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    practice_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(20), primary_key=True)
    sex: Mapped[str] = mapped_column(String(20), primary_key=True)
    icb_code: Mapped[str] = mapped_column(String(10), index=True)
    patients: Mapped[int] = mapped_column(Integer)


class SurveyResultFact(Base):
    """The GP Patient Survey's result per practice and year, for the involvement question
    (hub reference survey)."""

    __tablename__ = "survey_result"

    year: Mapped[str] = mapped_column(String(4), primary_key=True)
    practice_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    icb_code: Mapped[str] = mapped_column(String(10), index=True)
    question: Mapped[str] = mapped_column(String(20))
    base: Mapped[int] = mapped_column(Integer)
    share: Mapped[float | None] = mapped_column(Float, nullable=True)
    lower: Mapped[float | None] = mapped_column(Float, nullable=True)
    upper: Mapped[float | None] = mapped_column(Float, nullable=True)


class ResponseFact(Base):
    """'You said, we did': the latest state of each response and when it was first published."""

    __tablename__ = "response_fact"

    response_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    theme: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    earliest_feedback_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_responded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_at: Mapped[date | None] = mapped_column(Date, nullable=True)


class PublishedSnapshot(Base):
    """A month's snapshot published for an ICB (``''``: one published before snapshots were
    per ICB, whose ICB nobody recorded; ``reporting.publishing``)."""

    __tablename__ = "published_snapshot"

    icb_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberFact(Base):
    """A patient partner as reporting needs them: where they are registered, their bands,
    their status. A pseudonymous id only; the row goes when the member is erased."""

    __tablename__ = "member_fact"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practice_code: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    place_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # pending, active, left
    age_band: Mapped[str | None] = mapped_column(String(30), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(30), nullable=True)
    ethnic_group: Mapped[str | None] = mapped_column(String(50), nullable=True)


class GroupMemberFact(Base):
    """Current memberships of groups (PPGs, co-production groups, the scheme)."""

    __tablename__ = "group_member_fact"

    group_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    group_kind: Mapped[str] = mapped_column(String(20))
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    active: Mapped[bool] = mapped_column(Boolean)


class InvitationFact(Base):
    """An invitation and what came of it, with no member id: it outlives erasure as an
    anonymous statistic. Attendance keeps the attendee's bands as they were then."""

    __tablename__ = "invitation_fact"

    invitation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)  # who published the opportunity
    practice_code: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)  # the invitee's
    answer: Mapped[str | None] = mapped_column(String(10), nullable=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    age_band: Mapped[str | None] = mapped_column(String(30), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(30), nullable=True)


class NotificationFact(Base):
    """Reporting's read model of notification's ledger: the latest state of each email, from
    ``notification.status_changed.v1``. Ids and kinds only; nothing about the person."""

    __tablename__ = "notification_fact"
    __table_args__ = (Index("ix_notification_fact_org_kind", "organisation_code", "kind"),)

    notification_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_code: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboxMessage(InboxMixin, Base):
    pass


class OutboxMessage(OutboxMixin, Base):
    pass


PROJECTIONS = (
    FeedbackFact,
    FeedbackCount,
    FftReturnFact,
    FftReturnCount,
    ThemeCount,
    ResponseFact,
    MemberFact,
    GroupMemberFact,
    InvitationFact,
)
