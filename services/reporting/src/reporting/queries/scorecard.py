"""The involvement scorecard: volume, rate per 1,000 registered patients, channels, "you
said, we did", and the membership measures, counted in SQL from the rollups and audited."""

import statistics
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.organisations import Organisations
from reporting.models import CHANNELS, FeedbackCount, FftReturnCount, ResponseFact, ThemeCount
from reporting.queries.fft import answered
from reporting.queries.gp_patient_survey import involvement_reported
from reporting.queries.membership import membership_scorecard
from reporting.queries.population import population
from reporting.rules.disclosure import SUPPRESSED
from reporting.rules.publication import RULE_SET, publish_scorecard_counts


def _median_days(pairs: list[tuple[Any, Any]]) -> float | None:
    days = [(end - start).total_seconds() / 86400 for start, end in pairs if start is not None and end is not None]
    return round(statistics.median(days), 1) if days else None


async def scorecard(session: AsyncSession, organisations: Organisations, code: str) -> dict[str, Any]:
    """Involvement per organisation: volume, rate per 1,000 registered patients, channels,
    and 'you said, we did'. Measures from membership and notification slot in as those
    services publish their events (``pending_measures``). Counted in SQL from the rollups."""
    codes = organisations.descendants(code)
    practices = organisations.practices_under(code)
    # Two statements: the counts of people, then "you said, we did".
    returned = select(func.sum(answered(FftReturnCount))).where(FftReturnCount.organisation_code.in_(codes))
    *by_channel, returns = (
        await session.execute(
            select(
                *(func.sum(getattr(FeedbackCount, f"channel_{c}")) for c in CHANNELS), returned.scalar_subquery()
            ).where(FeedbackCount.organisation_code.in_(codes))
        )
    ).one()
    channel_counts = {c: int(n) for c, n in zip(CHANNELS, by_channel, strict=True) if n}
    volume = sum(channel_counts.values())
    return_responses = int(returns or 0)
    registered_population = await population(session)
    registered = registered_population.registered(practices)
    raised = select(ThemeCount.theme).where(ThemeCount.organisation_code.in_(codes)).distinct()
    of_codes = ResponseFact.organisation_code.in_(codes)
    answered_themes = select(func.count(ResponseFact.theme.distinct())).where(of_codes, ResponseFact.theme.in_(raised))
    themes_raised, themes_answered = (
        await session.execute(
            select(
                select(func.count()).select_from(raised.subquery()).scalar_subquery(), answered_themes.scalar_subquery()
            )
        )
    ).one()
    # Responses are a few per theme and month, not one per feedback: their times come back
    # as rows and the medians are taken here, the same on PostgreSQL and SQLite.
    times = (
        await session.execute(
            select(ResponseFact.earliest_feedback_at, ResponseFact.first_responded_at, ResponseFact.changed_at).where(
                of_codes
            )
        )
    ).all()
    responses = len(times)
    to_response = _median_days([(earliest, responded) for earliest, responded, _ in times])
    to_change = _median_days([(earliest.date() if earliest else None, changed) for earliest, _, changed in times])
    total_volume = volume + return_responses
    counted, _, counts_audit = publish_scorecard_counts(channel_counts, volume, return_responses)
    channels = {c: counted[f"channel:{c}"] for c in channel_counts}
    small = counted["feedback_volume"] == SUPPRESSED
    return {
        "organisation_code": code,
        "rule_set": RULE_SET,
        "audit": {"starred_counts": counts_audit.checked, "recoverable": len(counts_audit.findings)},
        "feedback_volume": counted["feedback_volume"],
        "individual_submissions": counted["individual_submissions"],
        "fft_return_responses": counted["fft_return_responses"],
        "registered_patients": registered,
        "registered_population_month": registered_population.month,
        "rate_per_1000_registered": (
            SUPPRESSED if small else round(1000 * total_volume / registered, 1) if registered else None
        ),
        "channels": channels,
        "involvement_channels_used": sorted(
            c for c in ("ppg_meeting", "coproduction_workshop") if channels.get(c) not in (None, 0)
        ),
        "you_said_we_did": {
            "themes_raised": themes_raised,
            "themes_with_published_response": themes_answered,
            "share_of_themes_answered": round(themes_answered / themes_raised, 3) if themes_raised else None,
            "responses": responses,
            "median_days_to_response": to_response,
            "median_days_to_change": to_change,
        },
        "involvement_reported_by_patients": await involvement_reported(
            session, organisations, code, registered_population
        ),
        "membership": await membership_scorecard(session, organisations, code),
        "pending_measures": {
            "invitations_and_email_reach": "awaits notification events",
        },
    }
