"""The ledger for place and practice teams (their own sends only, with reasons), a summary
for operators (unknown outcomes counted), branding and template previews. Bearer tokens;
an organisation sees itself and those under it, the ICB sees all."""

import base64
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.auth import Principal, require_scope
from hub_shared.authorisation import authorise, may_see
from hub_shared.db import Session
from hub_shared.events import DeliveryStatus
from hub_shared.organisations import reference
from hub_shared.problems import MEDIA_TYPE, Problem
from notification import kinds
from notification.compose import branding, sample_context
from notification.models import Branding, Notification
from notification.render import render
from notification.schemas import BrandingPublic, BrandingUpdate, NotificationPage, NotificationPublic, Preview, Summary

router = APIRouter(prefix="/v1")
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}, "description": "RFC 9457 problem details"}
ERRORS: dict[int | str, dict[str, Any]] = {s: PROBLEM for s in (400, 401, 403, 404, 422)}


Reader = Annotated[Principal, Depends(require_scope("notifications:read"))]
Manager = Annotated[Principal, Depends(require_scope("notifications:manage"))]


def authority(principal: Principal, organisation_code: str | None) -> list[str]:
    """The organisations whose emails the caller asked for: the one named (default its own)
    and everything under it."""
    return reference().descendants(authorise(principal, organisation_code or principal.organisation))


def _cursor(row: Notification) -> str:
    return base64.urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.id}".encode()).decode()


def _uncursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            400, "Bad cursor", errors=[{"field": "cursor", "message": "not a cursor", "type": "value_error"}]
        ) from exc


@router.get("/notifications", responses=ERRORS, tags=["ledger"], summary="Emails sent for your organisation")
async def list_notifications(
    principal: Reader,
    session: Session,
    organisation_code: str | None = None,
    status: DeliveryStatus | None = None,
    kind: str | None = Query(None, description=f"One of {', '.join(kinds.ALL)}"),
    reference_id: str | None = Query(None, alias="reference", description="An opportunity or response id"),
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
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
    if cursor:
        at, ident = _uncursor(cursor)
        query = query.where(
            or_(Notification.created_at < at, and_(Notification.created_at == at, Notification.id < ident))
        )
    rows = (
        await session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1))
    ).all()
    page = list(rows[:limit])
    return NotificationPage(
        items=[NotificationPublic.model_validate(r) for r in page],
        next_cursor=_cursor(page[-1]) if len(rows) > limit else None,
    )


@router.get("/notifications/summary", responses=ERRORS, tags=["ledger"], summary="Counts by state and kind")
async def summary(principal: Reader, session: Session, organisation_code: str | None = None) -> Summary:
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
        organisation_code=(organisation_code or principal.organisation).upper(),
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


@router.get("/branding/{organisation_code}", responses=ERRORS, tags=["templates"], summary="How your emails sign off")
async def get_branding(organisation_code: str, principal: Reader, session: Session) -> BrandingPublic:
    authority(principal, organisation_code)
    brand = await branding(session, organisation_code.upper())
    return BrandingPublic(
        organisation_code=organisation_code.upper(),
        sign_off=brand["sign_off"],
        team_name=brand["team_name"],
        contact_email=brand["contact_email"],
    )


@router.put("/branding/{organisation_code}", responses=ERRORS, tags=["templates"], summary="Brand your sign-off")
async def put_branding(
    organisation_code: str, body: BrandingUpdate, principal: Manager, session: Session
) -> BrandingPublic:
    authority(principal, organisation_code)
    code = organisation_code.upper()
    row = await session.get(Branding, code)
    if row is None:
        row = Branding(organisation_code=code)
        session.add(row)
    row.sign_off = body.sign_off
    row.team_name = body.team_name
    row.contact_email = str(body.contact_email) if body.contact_email else None
    row.updated_at = datetime.now(UTC)
    await session.commit()
    return BrandingPublic(organisation_code=code, **body.model_dump())


@router.get("/templates", tags=["templates"], summary="The emails the hub sends")
async def list_templates() -> list[dict[str, Any]]:
    return [
        {
            "kind": k,
            "transactional": k in kinds.TRANSACTIONAL,
            "digestible": k in kinds.DIGESTIBLE,
            "preview": f"/v1/templates/{k}/preview",
            "page": f"/templates/{k}",
        }
        for k in kinds.ALL
    ]


async def preview_of(request: Request, session: AsyncSession, kind: str, organisation_code: str) -> Preview:
    if kind not in kinds.ALL:
        raise Problem(404, "No such template", f"Templates: {', '.join(kinds.ALL)}")
    code = organisation_code.upper()
    if reference().get(code) is None:
        raise Problem(
            422,
            "Invalid request",
            errors=[{"field": "organisation_code", "message": f"unknown organisation {code}", "type": "value_error"}],
        )
    settings = request.app.state.settings
    rendered = render(kind, sample_context(kind, code, await branding(session, code), settings))
    return Preview(kind=kind, subject=rendered.subject, text=rendered.text, html=rendered.html)


@router.get("/templates/{kind}/preview", responses=ERRORS, tags=["templates"], summary="A template with sample data")
async def preview(
    kind: str, request: Request, principal: Reader, session: Session, organisation_code: str | None = None
) -> Preview:
    code = organisation_code or principal.organisation
    authority(principal, code)
    return await preview_of(request, session, kind, code)
