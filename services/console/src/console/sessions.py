"""Server-side sessions. The browser holds a random id in a cookie (``__Host-`` prefixed,
Secure, HttpOnly, SameSite=Lax); what the session knows lives in the console's own store.

``request.session`` is a plain dict as Starlette's (and so Authlib's) code expects; this
middleware loads it before the request and saves it as the response starts:

* a session is stored only once something is put in it (a visitor who never signs in
  leaves no row);
* it ends after ``session_idle_minutes`` without a request or ``session_absolute_hours``
  after it began, whatever happens meanwhile; the next request then finds
  ``request.scope["console.session_ended"]`` set, and the sign-in page says why;
* ``renew(request)`` gives the session a new id (at sign-in, so an id planted before it is
  worth nothing), ``end(request)`` deletes it and clears the cookie.
"""

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.models import StaffSession

# Re-stamp last_seen_at at most this often when nothing else changed (one write a minute,
# not one a request), or every half idle timeout when that is shorter; the idle timeout is
# accurate to this.
TOUCH_EVERY = timedelta(seconds=60)
SCOPE_KEY = "console.session_state"
ENDED_KEY = "console.session_ended"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class _State:
    def __init__(self, session_id: str | None, row: StaffSession | None) -> None:
        self.session_id = session_id
        self.row = row
        self.renew = False
        self.ended = False


def renew(request: Request) -> None:
    """Give this session a new id when the response is sent (the old one stops working)."""
    request.scope[SCOPE_KEY].renew = True


def end(request: Request) -> None:
    """Delete this session and clear its cookie when the response is sent."""
    request.session.clear()
    request.scope[SCOPE_KEY].ended = True


def session_ended(request: Request) -> bool:
    """The request came with a session that had timed out (idle or absolute)."""
    return bool(request.scope.get(ENDED_KEY))


class SessionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, idle: timedelta, absolute: timedelta) -> None:
        self.sessions = sessions
        self.idle = idle
        self.absolute = absolute
        self.touch_every = min(TOUCH_EVERY, idle / 2)

    def _expired(self, row: StaffSession, now: datetime) -> bool:
        return row.last_seen_at + self.idle <= now or row.created_at + self.absolute <= now

    async def load(self, session_id: str) -> tuple[StaffSession | None, bool]:
        """The live session with this id, and whether one existed but had timed out (deleted now)."""
        now = datetime.now(UTC)
        async with self.sessions() as db, db.begin():
            row = await db.get(StaffSession, _hash(session_id))
            if row is None:
                return None, False
            if self._expired(row, now):
                await db.delete(row)
                return None, True
            db.expunge(row)
            return row, False

    async def save(self, state: _State, data: dict[str, Any], changed: bool) -> str | None:
        """Write what the request did to the session; the id to put in the cookie, "" to clear
        it, None to leave the cookie as it is."""
        now = datetime.now(UTC)
        row = state.row
        subject = (data.get("user") or {}).get("subject")
        async with self.sessions() as db, db.begin():
            if state.ended or (row is not None and not data):
                if row is not None:
                    await db.execute(delete(StaffSession).where(StaffSession.id_hash == row.id_hash))
                return "" if state.session_id else None
            if not data:
                return None
            if row is None or state.renew:
                if row is not None:
                    await db.execute(delete(StaffSession).where(StaffSession.id_hash == row.id_hash))
                else:
                    await self._purge(db, now)
                new_id = secrets.token_urlsafe(32)
                # A renewed session (a sign-in) starts its absolute lifetime afresh.
                db.add(
                    StaffSession(id_hash=_hash(new_id), data=data, subject=subject, created_at=now, last_seen_at=now)
                )
                return new_id
            if changed or row.last_seen_at + self.touch_every <= now:
                await db.execute(
                    update(StaffSession)
                    .where(StaffSession.id_hash == row.id_hash)
                    .values(data=data, subject=subject, last_seen_at=now)
                )
            return None

    async def _purge(self, db: AsyncSession, now: datetime) -> None:
        """Sessions nobody came back to (each new session sweeps the timed-out ones)."""
        await db.execute(
            delete(StaffSession).where(
                or_(StaffSession.last_seen_at <= now - self.idle, StaffSession.created_at <= now - self.absolute)
            )
        )


class ServerSideSessions:
    """Pure ASGI middleware putting the stored session in ``scope["session"]``."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, cookie_name: str, secure: bool) -> None:
        self.app = app
        self.store = store
        self.cookie_name = cookie_name
        self.secure = secure

    def _cookie_value(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:
                    continue
                if self.cookie_name in jar:
                    return jar[self.cookie_name].value
        return None

    def _set_cookie(self, value: str) -> bytes:
        attributes = ["Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            attributes.append("Secure")
        # A session cookie (no Max-Age) ends with the browser; cleared with Max-Age=0.
        if not value:
            attributes.append("Max-Age=0")
        return "; ".join([f"{self.cookie_name}={value}", *attributes]).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = self._cookie_value(scope)
        row, ended = await self.store.load(session_id) if session_id else (None, False)
        data: dict[str, Any] = dict(row.data) if row is not None else {}
        before = json.dumps(data, sort_keys=True, default=str)
        state = _State(session_id, row)
        scope["session"] = data
        scope[SCOPE_KEY] = state
        scope[ENDED_KEY] = ended

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                current: dict[str, Any] = scope["session"]
                changed = json.dumps(current, sort_keys=True, default=str) != before
                cookie = await self.store.save(state, current, changed)
                if cookie is None and ended and session_id:
                    cookie = ""  # the timed-out session's cookie goes too
                if cookie is not None:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", self._set_cookie(cookie))]
            await send(message)

        await self.app(scope, receive, send_with_session)
