"""A short fault-injection run inside `make test` (`make chaos` is the long one): every
process of the four services killed and restarted, some stopped gracefully, the broker
killed, PostgreSQL crashed and the SMTP relay refusing, under load; nothing lost, doubled
or dead-lettered, and every confirmation email sent exactly once."""

import pytest

from . import chaos

pytestmark = pytest.mark.long(seconds=78)


@pytest.mark.kafka  # its own broker and PostgreSQL (tests/stack.py)
@pytest.mark.postgres
def test_nothing_accepted_is_lost_or_doubled_when_every_part_fails() -> None:
    # The faults take their own time whatever the rate (each restart waits for its process,
    # each outage lasts `outage` seconds) and the load goes on until they are done: at 8 items
    # a second dozens are in flight through every fault, with fewer than half the items to
    # carry (CPU the rest of the run waits for) than at 20.
    result = chaos.run(items=120, rate=8, outage=4, settle=180)
    print("\n".join(result["faults"]))  # type: ignore[arg-type]
    print(chaos.summary(result))
    assert result["sent"] == result["accepted"]
    assert result["lost"] == 0 and result["doubled"] == 0 and result["not_reported"] == 0
    assert result["fft_counted"] == result["accepted"]
    assert result["dead_letters"] == 0 and result["rejected"] == 0
    assert not any(code.split()[-1] == "500" for code in result["http_statuses"])  # type: ignore[attr-defined]
    assert result["joined"] > 0 and result["emails_doubled"] == 0
    assert result["emails_missing"] <= result["emails_unknown"]  # a send cut off mid-way is never resent blindly
    assert len(result["faults"]) >= 30  # type: ignore[arg-type]
