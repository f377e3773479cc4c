"""feedback-intake's tables: submissions, and its outbox."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    pass


class FeedbackSubmission(Base):
    __tablename__ = "feedback_submission"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_code: Mapped[str] = mapped_column(String(10), index=True)
    service_area: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(40))
    fft_answer: Mapped[str | None] = mapped_column(String(40), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(String(10))
    correlation_id: Mapped[str] = mapped_column(String(100))


class OutboxMessage(OutboxMixin, Base):
    pass
