"""Notification measures for the involvement scorecard, from ``notification.events``:
invitations sent, delivered and failed (in all and per opportunity), and "you said, we
did" updates that reached the people who gave the feedback. Every figure is a count of
people, disclosure-controlled like the rest of reporting (1 to 4, and what would reveal
them, are "*")."""

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import reference
from reporting.models import NotificationFact
from reporting.rules.disclosure import protect_counts, shown_count

# Final states, as the scorecard groups them. An email not yet final is not counted.
OUTCOME = {
    "delivered": "delivered",
    "permanent-failure": "failed",
    "technical-failure": "failed",
    "unknown": "unknown",
}


async def notification_measures(session: AsyncSession, code: str) -> dict[str, Any]:
    codes = reference().descendants(code)
    rows = await session.execute(
        select(NotificationFact.kind, NotificationFact.reference, NotificationFact.status, func.count())
        .where(NotificationFact.organisation_code.in_(codes))
        .where(NotificationFact.kind.in_(("invitation", "update")))
        .group_by(NotificationFact.kind, NotificationFact.reference, NotificationFact.status)
    )
    invitations: dict[str, int] = defaultdict(int)
    per_opportunity: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    updates: dict[str, int] = defaultdict(int)
    per_response: dict[str, int] = defaultdict(int)
    for kind, ref, status, count in rows.all():
        outcome = OUTCOME.get(status)
        if outcome is None:
            continue
        if kind == "invitation":
            invitations[outcome] += count
            per_opportunity[ref or "unknown"][outcome] += count
        elif outcome == "delivered":
            updates["reached"] += count
            per_response[ref or "unknown"] += count

    def outcomes(counts: dict[str, int]) -> dict[str, int | str]:
        return protect_counts({k: counts.get(k, 0) for k in ("delivered", "failed", "unknown")}, total_key="sent")

    return {
        "organisation_code": code,
        "invitations": outcomes(invitations),
        "invitations_by_opportunity": [
            {"opportunity_id": ref, **outcomes(counts)} for ref, counts in sorted(per_opportunity.items())
        ],
        "updates_reached_contributors": shown_count(updates.get("reached", 0)),
        "updates_by_response": [
            {"response_id": ref, "reached": shown_count(count)} for ref, count in sorted(per_response.items())
        ],
        "definitions": {
            "sent": "emails that reached a final state: delivered + failed + unknown",
            "delivered": "accepted by the SMTP relay",
            "failed": "refused for good (5xx) or given up after retries",
            "unknown": "a worker stopped mid-send; not resent",
            "updates_reached_contributors": "'you said, we did' emails delivered to people who gave the feedback",
        },
    }
