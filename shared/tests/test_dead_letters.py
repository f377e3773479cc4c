"""Choosing dead letters to replay: by reason, event type, consumer group and time."""

import json
from datetime import UTC, datetime

from hub_shared.kafka_admin import DeadLetter, select_letters


def letter(offset: int, reason: str, event_type: str | None, group: str, at: datetime) -> DeadLetter:
    value = json.dumps({"specversion": "1.0", "type": event_type}).encode() if event_type else b"{not json"
    headers = {"dlq-reason": reason, "dlq-consumer-group": group}
    return DeadLetter(0, offset, b"k", value, headers, at)


LETTERS = [
    letter(
        0,
        "OperationalError('server closed the connection')",
        "feedback.received.v1",
        "reporting.projections",
        datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
    ),
    letter(
        1,
        "ValueError('unknown theme')",
        "feedback.received.v1",
        "reporting.projections",
        datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
    ),
    letter(
        2,
        "not a CloudEvents 1.0 structured JSON message",
        None,
        "feedback-intake.ingress",
        datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
    ),
    letter(
        3,
        "ValueError('unknown theme')",
        "feedback.responded.v1",
        "membership.updates",
        datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    ),
]


def offsets(letters: list[DeadLetter]) -> list[int]:
    return [d.offset for d in letters]


def test_each_filter_narrows_the_choice_and_they_combine() -> None:
    assert offsets(select_letters(LETTERS)) == [0, 1, 2, 3]
    assert offsets(select_letters(LETTERS, reason="UNKNOWN THEME")) == [1, 3]  # case-insensitive substring
    assert offsets(select_letters(LETTERS, event_type="feedback.received.v1")) == [0, 1]
    assert offsets(select_letters(LETTERS, group="membership.updates")) == [3]
    since, until = datetime(2026, 11, 26, 10, 0, tzinfo=UTC), datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert offsets(select_letters(LETTERS, since=since, until=until)) == [1, 2]  # until is exclusive
    assert offsets(select_letters(LETTERS, reason="theme", event_type="feedback.received.v1", since=since)) == [1]
    assert offsets(select_letters(LETTERS, from_offset=2)) == [2, 3]


def test_an_unreadable_letter_has_no_event_type() -> None:
    assert LETTERS[2].event_type == ""
    assert LETTERS[0].event_type == "feedback.received.v1"
