"""Dates and times as people read them, in every email, page and the console: the NHS.UK
content style guide's way, in England's time (Europe/London).

"Wednesday 20 January 2027", "6pm", "6:30pm", "midday", "midnight" (never "12am", "12:00pm"
or "18:00", which people misread), and "Wednesday 20 January 2027 at 6pm" for both."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

Moment = datetime | str


def local(moment: Moment) -> datetime:
    """The moment in England's time. An ISO string is read as an API gives it; a time
    without a zone is UTC, as the hub stores every time."""
    found = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found.astimezone(LONDON)


def day(moment: Moment | None) -> str:
    """'Wednesday 20 January 2027' ('' for no date)."""
    if not moment:
        return ""
    found = local(moment)
    return f"{found:%A} {found.day} {found:%B %Y}"


def time_of_day(moment: Moment) -> str:
    """'6pm', '6:30pm', 'midday', 'midnight'."""
    found = local(moment)
    if (found.hour, found.minute) == (0, 0):
        return "midnight"
    if (found.hour, found.minute) == (12, 0):
        return "midday"
    hour = found.hour % 12 or 12
    minutes = f":{found.minute:02d}" if found.minute else ""
    return f"{hour}{minutes}{'am' if found.hour < 12 else 'pm'}"


def when(moment: Moment | None) -> str:
    """'Wednesday 20 January 2027 at 6pm' ('' for no time)."""
    if not moment:
        return ""
    return f"{day(moment)} at {time_of_day(moment)}"
