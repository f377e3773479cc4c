"""Every date and time people read is in England's time and the NHS.UK content style:
"Wednesday 20 January 2027 at 6pm", "6:30pm", "midday", "midnight"."""

from datetime import UTC, datetime

import pytest

from hub_shared.dates import day, time_of_day, when


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        (datetime(2027, 1, 20, 18, 0, tzinfo=UTC), "Wednesday 20 January 2027 at 6pm"),
        (datetime(2027, 1, 20, 18, 30, tzinfo=UTC), "Wednesday 20 January 2027 at 6:30pm"),
        (datetime(2027, 1, 20, 9, 5, tzinfo=UTC), "Wednesday 20 January 2027 at 9:05am"),
        (datetime(2027, 1, 10, 0, 0, tzinfo=UTC), "Sunday 10 January 2027 at midnight"),
        (datetime(2027, 1, 10, 12, 0, tzinfo=UTC), "Sunday 10 January 2027 at midday"),
        # Summer time: 17:00 UTC is 6pm in England.
        (datetime(2027, 7, 1, 17, 0, tzinfo=UTC), "Thursday 1 July 2027 at 6pm"),
        ("2027-07-01T23:30:00+00:00", "Friday 2 July 2027 at 12:30am"),
        (datetime(2027, 1, 20, 18, 0), "Wednesday 20 January 2027 at 6pm"),  # stored UTC, read back naive
    ],
)
def test_a_moment_reads_as_the_nhs_writes_it(moment: datetime | str, said: str) -> None:
    assert when(moment) == said


def test_no_twelve_am_or_pm_and_no_24_hour_clock() -> None:
    said = {time_of_day(datetime(2027, 1, 20, h, m, tzinfo=UTC)) for h in range(24) for m in (0, 1, 30, 59)}
    assert "midnight" in said and "midday" in said
    assert not any(s in said for s in ("12am", "12pm", "0am", "12:00am", "12:00pm"))
    assert all(s[-2:] in ("am", "pm") or s in ("midnight", "midday") for s in said)
    assert day("2026-10-31T23:30:00+00:00") == "Saturday 31 October 2026"  # still Saturday in England (GMT)
