"""reporting's read models (projections) and its inbox. Everything here is rebuilt from events."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.inbox import InboxMixin


class Base(DeclarativeBase):
    pass


class FeedbackVolume(Base):
    """Feedback received, per organisation that it was about."""

    __tablename__ = "feedback_volume"

    organisation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)


class InboxMessage(InboxMixin, Base):
    pass
