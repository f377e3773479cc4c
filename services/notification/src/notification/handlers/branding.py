"""An organisation's branding (how its emails sign off), and what its emails look like
with it: template previews with sample data."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.authorisation import authorise
from hub_shared.organisations import reference
from hub_shared.problems import Problem
from notification.models import Branding
from notification.rules import kinds
from notification.rules.render import DEFAULT_SIGN_OFF, organisation_name, render
from notification.rules.samples import sample_context
from notification.schemas import BrandingUpdate, Preview
from notification.settings import NotificationSettings


async def branding(session: AsyncSession, organisation_code: str) -> dict[str, Any]:
    row = await session.get(Branding, organisation_code)
    return {
        "organisation_name": organisation_name(organisation_code),
        "sign_off": row.sign_off if row else DEFAULT_SIGN_OFF,
        "team_name": row.team_name if row else "The engagement team",
        "contact_email": row.contact_email if row else None,
    }


async def rebrand(session: AsyncSession, code: str, body: BrandingUpdate) -> None:
    """Set how the organisation's emails sign off, in the caller's transaction."""
    row = await session.get(Branding, code)
    if row is None:
        row = Branding(organisation_code=code)
        session.add(row)
    row.sign_off = body.sign_off
    row.team_name = body.team_name
    row.contact_email = str(body.contact_email) if body.contact_email else None
    row.updated_at = datetime.now(UTC)


SAMPLE_BRANDING = {
    "organisation_name": "Sample Place",
    "sign_off": DEFAULT_SIGN_OFF,
    "team_name": "The engagement team",
    "contact_email": None,
}


def sample_preview(settings: NotificationSettings, kind: str) -> Preview:
    """A template filled with sample data and sample branding (no organisation's own)."""
    if kind not in kinds.ALL:
        raise Problem(404, "No such template", f"Templates: {', '.join(kinds.ALL)}")
    # The sample is signed by an ICB the hub holds (the first, where a deployment holds several).
    icb = sorted(reference().icbs())[0]
    rendered = render(kind, sample_context(kind, icb, dict(SAMPLE_BRANDING), settings))
    return Preview(kind=kind, subject=rendered.subject, text=rendered.text, html=rendered.html)


async def preview_of(
    session: AsyncSession, settings: NotificationSettings, kind: str, organisation_code: str
) -> Preview:
    """A template filled with sample data and the organisation's branding."""
    if kind not in kinds.ALL:
        raise Problem(404, "No such template", f"Templates: {', '.join(kinds.ALL)}")
    # Any organisation the hub holds may be previewed (each acts for itself); a code that is
    # none gets the one answer (422 unknown_organisation).
    code = authorise(organisation_code, organisation_code)
    rendered = render(kind, sample_context(kind, code, await branding(session, code), settings))
    return Preview(kind=kind, subject=rendered.subject, text=rendered.text, html=rendered.html)
