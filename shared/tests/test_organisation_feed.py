"""What every process does with the records of the organisations topic: a hierarchy replaces
its ICB's, a repeat changes nothing, a tombstone removes an ICB, a record that is no
hierarchy is skipped and the previous hierarchies stay."""

from pathlib import Path

from hub_shared.events import encode
from hub_shared.ods_files import OdsFiles, read_hierarchies
from hub_shared.organisation_feed import OrganisationFeed
from hub_shared.organisations import Organisations, demo_hierarchies
from hub_shared.reference_publishing import content_envelope

ODS = Path(__file__).parent / "fixtures" / "ods"


def records() -> list[tuple[bytes | None, bytes | None]]:
    hierarchies = read_hierarchies(OdsFiles(ODS / "epraccur.csv", ODS / "eccg.csv", ODS / "icbs.csv", ODS / "succ.csv"))
    return [
        (
            h.icb_code.encode(),
            encode(
                content_envelope(h, subject=h.icb_code, tenant=h.icb_code, time=h.published_at, correlation_id="c")
            ).value,
        )
        for h in hierarchies
    ]


def test_hierarchies_replace_the_demo_and_a_tombstone_removes_an_icb() -> None:
    organisations = Organisations.from_hierarchies(demo_hierarchies())
    feed = OrganisationFeed("unused:9092", organisations=organisations)
    assert organisations.get("P81001") is not None
    feed.apply(records())
    assert organisations.get("P81001") is None and sorted(organisations.icbs()) == ["QAA", "QBB"]
    feed.apply(records())  # redelivered: the same
    assert sorted(organisations.icbs()) == ["QAA", "QBB"] and organisations.counts_for("A11003") == "A11002"
    feed.apply([(b"QBB", None)])
    assert organisations.icbs() == ["QAA"] and organisations.get("B21001") is None


def test_a_record_that_is_no_hierarchy_is_skipped_and_nothing_is_lost() -> None:
    organisations = Organisations.from_hierarchies(demo_hierarchies())
    feed = OrganisationFeed("unused:9092", organisations=organisations)
    feed.apply(records())
    feed.apply([(b"QAA", b"not json"), (b"QAA", b'{"specversion": "1.0", "id": "1", "source": "x", "type": "nope"}')])
    assert sorted(organisations.icbs()) == ["QAA", "QBB"]
    assert feed.applied == 1  # only the first batch changed anything
