"""The ledger for place and practice teams: their own sends only, with reasons and never
an address, filtered and paged; a summary for operators (unknown outcomes counted)."""

import uuid
from collections import defaultdict

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from hub_shared import keyset
from hub_shared.authorisation import may_see
from hub_shared.db import Session
from hub_shared.events import DeliveryStatus
from hub_shared.problems import Problem
from hub_shared.text import OneLine
from hub_shared.timestamps import Timestamp
from notification.api.deps import ERRORS, OrganisationFilter, Reader, authority
from notification.models import Notification
from notification.rules import kinds
from notification.schemas import NotificationPage, NotificationPublic, Summary

router = APIRouter(prefix="/v1")


@router.get("/notifications", responses=ERRORS, tags=["ledger"], summary="Emails sent for your organisation")
async def list_notifications(
    principal: Reader,
    session: Session,
    organisation_code: OrganisationFilter = None,
    status: DeliveryStatus | None = None,
    kind: str | None = Query(None, json_schema_extra={"enum": list(kinds.ALL)}),
    reference_id: OneLine | None = Query(None, alias="reference", description="An opportunity or response id"),
    created_from: Timestamp | None = Query(None, description="With its time zone, e.g. 2026-11-01T00:00:00Z"),
    created_to: Timestamp | None = Query(None, description="With its time zone; not included"),
    limit: int = Query(50, ge=1, le=500),
    cursor: keyset.Cursor = None,
) -> NotificationPage:
    orgs = authority(principal, organisation_code)
    query = select(Notification).where(Notification.organisation_code.in_(orgs))
    if status is not None:
        query = query.where(Notification.status == status.value)
    if kind is not None:
        if kind not in kinds.ALL:
            raise Problem(
                422,
                "Invalid request",
                errors=[{"field": "kind", "message": f"one of {', '.join(kinds.ALL)}", "type": "enum"}],
            )
        query = query.where(Notification.kind == kind)
    if reference_id is not None:
        query = query.where(Notification.reference == reference_id)
    if created_from is not None:
        query = query.where(Notification.created_at >= created_from)
    if created_to is not None:
        query = query.where(Notification.created_at < created_to)
    page, next_cursor = await keyset.newest_first(
        session, query, Notification.created_at, Notification.id, limit=limit, cursor=cursor
    )
    return NotificationPage(items=[NotificationPublic.model_validate(r) for r in page], next_cursor=next_cursor)


@router.get("/notifications/summary", responses=ERRORS, tags=["ledger"], summary="Counts by state and kind")
async def summary(principal: Reader, session: Session, organisation_code: OrganisationFilter = None) -> Summary:
    orgs = authority(principal, organisation_code)
    rows = await session.execute(
        select(Notification.kind, Notification.status, func.count())
        .where(Notification.organisation_code.in_(orgs))
        .group_by(Notification.kind, Notification.status)
    )
    by_status: dict[str, int] = defaultdict(int)
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, status, count in rows.all():
        by_status[status] += count
        by_kind[kind][status] = count
    return Summary(
        organisation_code=orgs[0],
        by_status=dict(by_status),
        by_kind=dict(by_kind),
        unknown=by_status.get(DeliveryStatus.UNKNOWN.value, 0),
    )


@router.get("/notifications/{notification_id}", responses=ERRORS, tags=["ledger"], summary="One email")
async def get_notification(notification_id: uuid.UUID, principal: Reader, session: Session) -> NotificationPublic:
    row = await session.get(Notification, notification_id)
    if row is None or not may_see(principal, row.organisation_code):
        raise Problem(404, "Not found", "No such email for your organisation.")
    return NotificationPublic.model_validate(row)
