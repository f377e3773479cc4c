"""Closed months' snapshots, published as report.published.v1 events (``reporting.publishing``):
an ICB's token publishes its own ICB's snapshot of a month."""

from typing import Annotated

from fastapi import APIRouter, Depends

from hub_shared import correlation
from hub_shared.auth import Principal, require_scope
from hub_shared.authorisation import NotAuthorised
from hub_shared.db import Session
from hub_shared.organisations import Kind, reference
from reporting.api.deps import ERRORS, PREFIX, TAGS
from reporting.publishing import publish_snapshot as publish
from reporting.rules.publication import RULE_SET
from reporting.schemas import SnapshotCreate, SnapshotPublic

router = APIRouter(prefix=PREFIX, tags=TAGS)


@router.post(
    "/snapshots",
    status_code=201,
    responses=ERRORS,
    summary="Publish a closed month's snapshot as a report.published.v1 event (scope reports:publish)",
)
async def publish_snapshot(
    body: SnapshotCreate,
    principal: Annotated[Principal, Depends(require_scope("reports:publish"))],
    session: Session,
) -> SnapshotPublic:
    organisations = reference()
    caller = organisations.get(principal.organisation)
    if caller is None or caller.kind is not Kind.ICB:
        raise NotAuthorised(
            403, "organisation_code", f"{principal.organisation} is not an ICB: an ICB publishes its own snapshot"
        )
    icb = caller.code
    event = await publish(session, organisations, icb, body.month, correlation_id=correlation.current())
    await session.commit()
    return SnapshotPublic(
        month=event.month,
        published_at=event.published_at,
        organisation_code=icb,
        rows=len(event.fft),
        rule_set=RULE_SET,
    )
