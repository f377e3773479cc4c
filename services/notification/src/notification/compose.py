"""What goes into an email: the person's name (from the recipient row, at send time), the
organisation's branding, and what it is about (an opportunity, a response, a digest's
items). Returns None while what it is about has not arrived yet."""

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification import kinds
from notification.models import Branding, Notification, Opportunity, Recipient, ResponseContent
from notification.render import DEFAULT_SIGN_OFF, opportunity_view, organisation_name, reply_summary
from notification.settings import NotificationSettings


class Missing(Exception):
    """What the email is about has not arrived yet."""


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def branding(session: AsyncSession, organisation_code: str) -> dict[str, Any]:
    row = await session.get(Branding, organisation_code)
    return {
        "organisation_name": organisation_name(organisation_code),
        "sign_off": row.sign_off if row else DEFAULT_SIGN_OFF,
        "team_name": row.team_name if row else "The engagement team",
        "contact_email": row.contact_email if row else None,
    }


async def _about(session: AsyncSession, kind: str, reference: str | None, links: dict[str, str]) -> dict[str, Any]:
    ref = _uuid(reference)
    if kind in (kinds.INVITATION, kinds.PLACE_OFFERED, kinds.REMINDER, kinds.REPLY_RECEIVED):
        opportunity = await session.get(Opportunity, ref) if ref else None
        if opportunity is None:
            raise Missing(f"opportunity {reference}")
        extra: dict[str, Any] = {
            "opportunity": opportunity_view(opportunity),
            "_organisation": opportunity.organisation_code,
        }
        if kind == kinds.REPLY_RECEIVED:
            extra["reply_summary"] = reply_summary(links)
        return extra
    if kind == kinds.UPDATE:
        response = await session.get(ResponseContent, ref) if ref else None
        if response is None:
            raise Missing(f"response {reference}")
        return {
            "response": {
                "you_said": response.you_said,
                "we_did": response.we_did,
                "evidence_url": response.evidence_url,
            },
            "_organisation": response.organisation_code,
        }
    return {}


async def context_for(
    session: AsyncSession, row: Notification, recipient: Recipient | None, settings: NotificationSettings
) -> dict[str, Any]:
    """Raises Missing while something the email needs has not arrived."""
    about = await _about(session, row.kind, row.reference, row.links or {})
    organisation = about.pop("_organisation", row.organisation_code)
    if organisation != row.organisation_code:
        row.organisation_code = organisation  # settled now that we know who it is from
    context: dict[str, Any] = {
        "ics_name": settings.ics_name,
        "name": recipient.name if recipient and recipient.name else "",
        "recipient_kind": row.recipient_kind,
        "links": dict(row.links or {}),
        **await branding(session, organisation),
        **about,
    }
    if not context["name"] and row.recipient_kind == "member":
        context["name"] = "patient partner"
    if row.kind in kinds.DIGESTS:
        context.update(await _digest(session, row))
    return context


async def _digest(session: AsyncSession, digest: Notification) -> dict[str, Any]:
    items = (
        await session.scalars(
            select(Notification).where(Notification.digest_id == digest.id).order_by(Notification.created_at)
        )
    ).all()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        about = await _about(session, item.kind, item.reference, item.links or {})
        organisation = about.pop("_organisation", item.organisation_code)
        groups[organisation].append({"kind": item.kind, "links": item.links or {}, **about})
    if not groups:
        raise Missing("digest items")
    return {
        "period": "daily" if digest.kind == kinds.DIGEST_DAILY else "weekly",
        "count": len(items),
        "digest": [
            {"organisation_name": organisation_name(code), "items": entries} for code, entries in sorted(groups.items())
        ],
    }


# ---- sample data for previews ----

SAMPLE_LINKS = {
    "confirm": "https://example.invalid/confirm?token=sample",
    "preferences": "https://example.invalid/preferences?token=sample",
    "reply": "https://example.invalid/reply?token=sample",
    "answer": "yes",
    "place": "booked",
}


def sample_context(
    kind: str, organisation_code: str, brand: dict[str, Any], settings: NotificationSettings
) -> dict[str, Any]:
    starts = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=14)
    opportunity = SimpleNamespace(
        title="Redesigning musculoskeletal physiotherapy",
        kind="coproduction_session",
        starts_at=starts,
        closes_at=starts - timedelta(days=7),
        online=False,
    )
    response = {
        "you_said": "It was hard to get a physiotherapy appointment in the evening.",
        "we_did": "From January the Church Street clinic opens until 8pm on Tuesdays and Thursdays.",
        "evidence_url": "https://example.invalid/you-said-we-did/physiotherapy",
    }
    context: dict[str, Any] = {
        "ics_name": settings.ics_name,
        "name": "Alex Sample",
        "recipient_kind": "member",
        "links": dict(SAMPLE_LINKS),
        "opportunity": opportunity_view(opportunity),
        "response": response,
        "reply_summary": reply_summary(SAMPLE_LINKS),
        **brand,
    }
    if kind in kinds.NON_TRANSACTIONAL:
        context["unsubscribe_url"] = f"{settings.public_base_url.rstrip('/')}/unsubscribe?token=sample"
    if kind in kinds.DIGESTS:
        context.update(
            period="daily" if kind == kinds.DIGEST_DAILY else "weekly",
            count=2,
            digest=[
                {
                    "organisation_name": organisation_name(organisation_code),
                    "items": [
                        {"kind": kinds.INVITATION, "links": SAMPLE_LINKS, "opportunity": context["opportunity"]},
                        {"kind": kinds.UPDATE, "links": {}, "response": response},
                    ],
                }
            ],
        )
    return context
