"""Reporting's read model of notification's ledger: the latest state of each email, from
``notification.status_changed.v1``. Ids and kinds only; nothing about the person."""

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub_shared.timestamps import UtcDateTime
from reporting.models import Base


class NotificationFact(Base):
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
