"""When digests go out: at a configured hour of the day in Europe/London (so the hour
holds across the clock changes), daily, or weekly on a configured weekday."""

from datetime import UTC, datetime, time, timedelta

from hub_shared.dates import LONDON


def next_digest(now: datetime, frequency: str, *, hour: int, weekday: int) -> datetime:
    """The first digest moment strictly after ``now`` for a daily or weekly reader (UTC)."""
    local = now.astimezone(LONDON)
    day = local.date()
    for offset in range(0, 8):
        candidate_day = day + timedelta(days=offset)
        if frequency == "weekly" and candidate_day.weekday() != weekday:
            continue
        candidate = datetime.combine(candidate_day, time(hour), tzinfo=LONDON)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError("a digest moment always falls within a week")
