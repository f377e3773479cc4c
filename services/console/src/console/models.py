"""The console's own store: server-side sessions. The cookie carries only a random session
id; the row is keyed by its SHA-256 and its data sealed with a key derived from the id, so
the store alone (a copy, a backup) neither lets anyone use a session nor read its tokens."""

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.timestamps import UtcDateTime


class Base(DeclarativeBase):
    pass


class StaffSession(Base):
    """One browser's session: before sign-in the OpenID Connect state (nonce, PKCE verifier);
    after it the person, their organisation and their tokens, and a CSRF token."""

    __tablename__ = "staff_session"
    __table_args__ = (Index("ix_staff_session_last_seen_at", "last_seen_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
