"""Safe retries with the Idempotency-Key header, per organisation: a retry returns the
first result; the same key with a different body is refused (422). The result is stored
with the request's own rows, in the same transaction (a row of ``IdempotencyRecord``);
a concurrent first use of one key loses on the primary key (409). ``respond_once`` runs
a write route this way."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Header, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.models import IdempotencyRecord
from hub_shared.auth import Principal
from hub_shared.group_commit import Writes
from hub_shared.problems import Problem

HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=200,
        description="Makes retries safe: same key and body, same result (1 to 200 characters, e.g. a UUID). "
        "The same key with a different body is refused with 422.",
    ),
]


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Once:
    """A request made with an Idempotency-Key, not seen before."""

    organisation: str
    key: str
    digest: str

    def record(self, status: int, content: Any) -> dict[str, Any]:
        """The row that makes a retry of this request answer ``status`` and ``content``."""
        return dict(
            organisation_code=self.organisation,
            key=self.key,
            request_hash=self.digest,
            status_code=status,
            body=content,
            created_at=datetime.now(UTC),
        )


async def first_result(
    session: AsyncSession, *, organisation: str, key: str, body: Any
) -> tuple[Once, tuple[int, Any] | None]:
    """The stored (status, body) of an earlier request with this key, if any; raises 422
    if that request had a different body."""
    if not 1 <= len(key) <= 200:
        raise Problem(
            422,
            "Invalid Idempotency-Key",
            "Use 1 to 200 characters, e.g. a UUID.",
            errors=[{"field": HEADER, "message": "1 to 200 characters", "type": "string_length"}],
        )
    once = Once(organisation, key, fingerprint(body))
    stored = await session.get(IdempotencyRecord, (organisation, key))
    if stored is None:
        return once, None
    if stored.request_hash != once.digest:
        raise Problem(
            422,
            "Idempotency-Key reused",
            "This key was used with a different request body.",
            errors=[{"field": HEADER, "message": "already used for another request", "type": "conflict"}],
        )
    return once, (stored.status_code, stored.body)


# A write's (status, body, rows to insert).
Produced = tuple[int, Any, Writes]


async def respond_once(
    request: Request,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    produce: Callable[[AsyncSession | None], Awaitable[Produced]],
    *,
    reads: bool,
    location: Callable[[Any], str] | None = None,
) -> Response:
    """Run a write once per Idempotency-Key, commit its rows (with concurrent requests',
    see ``GroupCommit``) and answer, marking replays. ``produce`` gets a session when it
    ``reads`` or a key is given (the lookups), None otherwise: a plain post makes no round
    trip of its own."""
    headers: dict[str, str] = {}
    if key is None and not reads:
        status_code, content, writes = await produce(None)
    else:
        async with request.app.state.sessions() as session:
            once, replay = (
                await first_result(
                    session, organisation=principal.organisation, key=key, body=body.model_dump(mode="json")
                )
                if key is not None
                else (None, None)
            )
            if replay is not None:
                status_code, content, writes = *replay, []
                headers["Idempotent-Replayed"] = "true"
            else:
                status_code, content, writes = await produce(session)
                if once is not None:
                    writes = [*writes, (IdempotencyRecord, [once.record(status_code, content)])]
    try:
        if writes:
            await request.app.state.group_commit.write(writes)
    except IntegrityError as exc:
        raise Problem(409, "Conflict", "A concurrent request changed the same data; retry the request.") from exc
    if location and status_code < 300:
        headers["Location"] = location(content)
    return Response(orjson.dumps(content), status_code=status_code, headers=headers, media_type="application/json")
