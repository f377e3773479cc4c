"""Sample data for template previews: what an email looks like for an organisation, with
its branding, before anyone is sent one."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hub_shared.organisations import reference
from notification.rules import kinds
from notification.rules.render import changes_of, opportunity_view, organisation_name, reply_summary, standing
from notification.settings import NotificationSettings

SAMPLE_LINKS = {
    "confirm": "https://example.invalid/confirm?token=sample",
    "preferences": "https://example.invalid/preferences?token=sample",
    "reply": "https://example.invalid/reply?token=sample",
    "answer": "yes",
    "place": "booked",
    "changed": "starts_at,location",
    "reference": "7KQ3-M9X2-RT4",
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
        location="Northvale Community Centre, Mill Lane",
        cancel_reason="The venue is closed for repairs that day; we will invite you again when we have a new date.",
    )
    response = {
        "you_said": "It was hard to get a physiotherapy appointment in the evening.",
        "we_did": "From January the Church Street clinic opens until 8pm on Tuesdays and Thursdays.",
        "evidence_url": "https://example.invalid/you-said-we-did/physiotherapy",
    }
    context: dict[str, Any] = {
        "ics_name": reference().ics_name(organisation_code),
        "name": "Alex Sample",
        "recipient_kind": "member",
        "links": dict(SAMPLE_LINKS),
        "opportunity": opportunity_view(opportunity),
        "response": response,
        "reply_summary": reply_summary(SAMPLE_LINKS),
        "changes": changes_of(SAMPLE_LINKS),
        "standing": standing(SAMPLE_LINKS),
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
                        {"kind": kinds.UPDATE, "links": {}, "contributed": False, "response": response},
                    ],
                }
            ],
        )
    return context
