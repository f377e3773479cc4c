"""Safe retries with the Idempotency-Key header, per organisation: a retry returns the
first result; the same key with a different body is refused (422). The result is stored
with the request's own rows, in the same transaction (a row of ``IdempotencyRecord``);
a concurrent first use of one key loses on the primary key (409)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.models import IdempotencyRecord
from hub_shared.problems import Problem

HEADER = "Idempotency-Key"


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
