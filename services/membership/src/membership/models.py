"""membership's tables. It both publishes (outbox) and consumes (inbox) events."""

from sqlalchemy.orm import DeclarativeBase

from hub_shared.inbox import InboxMixin
from hub_shared.outbox import OutboxMixin


class Base(DeclarativeBase):
    pass


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxMessage(InboxMixin, Base):
    pass
