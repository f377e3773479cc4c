"""Safe retries with the Idempotency-Key header, per organisation: a retry returns the
first result; the same key with a different body is refused (422)."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from feedback_intake.models import IdempotencyRecord
from hub_shared.problems import Problem

HEADER = "Idempotency-Key"


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def idempotent(
    session: AsyncSession,
    *,
    organisation: str,
    key: str | None,
    body: Any,
    produce: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any, bool]:
    """Run ``produce`` once per (organisation, key); store its result in the same transaction.
    Returns (status, body, replayed)."""
    if key is None:
        status, content = await produce()
        return status, content, False
    if not 1 <= len(key) <= 200:
        raise Problem(
            422,
            "Invalid Idempotency-Key",
            "Use 1 to 200 characters, e.g. a UUID.",
            errors=[{"field": HEADER, "message": "1 to 200 characters", "type": "string_length"}],
        )
    digest = fingerprint(body)
    stored = await session.get(IdempotencyRecord, (organisation, key))
    if stored is not None:
        if stored.request_hash != digest:
            raise Problem(
                422,
                "Idempotency-Key reused",
                "This key was used with a different request body.",
                errors=[{"field": HEADER, "message": "already used for another request", "type": "conflict"}],
            )
        return stored.status_code, stored.body, True
    status, content = await produce()
    session.add(
        IdempotencyRecord(
            organisation_code=organisation,
            key=key,
            request_hash=digest,
            status_code=status,
            body=content,
            created_at=datetime.now(UTC),
        )
    )
    return status, content, False
