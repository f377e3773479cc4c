"""What goes into an email: the person's name (from the recipient row, at send time), the
organisation's branding, and what it is about (an opportunity, a response, a digest's
items), read from notification's store as the worker claims the email. Raises ``Missing``
while what it is about has not arrived yet."""

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.handlers.branding import branding
from notification.models import Notification, Opportunity, Recipient, ResponseContent
from notification.rules import kinds
from notification.rules.render import changes_of, opportunity_view, organisation_name, reply_summary, standing
from notification.settings import NotificationSettings


class Missing(Exception):
    """What the email is about has not arrived yet."""


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _version(links: dict[str, str]) -> int:
    try:
        return int(links.get("version", "1"))
    except ValueError:
        return 1


async def _about(session: AsyncSession, kind: str, reference: str | None, links: dict[str, str]) -> dict[str, Any]:
    ref = _uuid(reference)
    if kind in kinds.ABOUT_OPPORTUNITY:
        opportunity = await session.get(Opportunity, ref) if ref else None
        if opportunity is None:
            raise Missing(f"opportunity {reference}")
        if kind in kinds.ABOUT_THEIR_PLACE and opportunity.version < _version(links):
            # The change (or cancellation) this email tells of has not reached our copy yet.
            raise Missing(f"opportunity {reference} version {_version(links)}")
        extra: dict[str, Any] = {
            "opportunity": opportunity_view(opportunity),
            "_organisation": opportunity.organisation_code,
        }
        if kind == kinds.REPLY_RECEIVED:
            extra["reply_summary"] = reply_summary(links)
        if kind in kinds.ABOUT_THEIR_PLACE:
            extra["changes"] = changes_of(links)
            extra["standing"] = standing(links)
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
