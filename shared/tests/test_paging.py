import re
import uuid
from datetime import UTC, datetime

from hub_shared.paging import CURSOR, cursor_of, position


def test_a_cursor_gives_back_the_exact_time_and_id_it_was_made_from() -> None:
    # Microseconds that a float timestamp would round away.
    at = datetime(2026, 11, 1, 9, 30, 0, 999_999, tzinfo=UTC)
    ident = uuid.uuid4()
    cursor = cursor_of(at, ident)
    assert re.match(CURSOR, cursor)
    assert position(cursor) == (at, ident)


def test_every_string_the_pattern_takes_is_a_position() -> None:
    for cursor in ("0." + "0" * 32, "9" * 16 + "." + "f" * 32):
        at, ident = position(cursor)
        assert at.tzinfo is UTC and isinstance(ident, uuid.UUID)
    for bad in ("", "nonsense", "1." + "g" * 32, "1" * 17 + "." + "0" * 32, "1." + "0" * 31):
        assert not re.match(CURSOR, bad), bad
