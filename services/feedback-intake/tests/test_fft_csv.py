import pytest
from pydantic import ValidationError

from feedback_intake.rules.fft_csv import FftReturnRow, normalise_period, read_rows
from hub_shared.problems import Problem

NHS_LAYOUT = (
    "Practice Code,Practice Name,Period,Very Good,Good,Neither Good nor Poor,Poor,Very Poor,Don't Know,Total,"
    "SMS,Smartphone App/Tablet/Online,Paper,Telephone,Other\n"
    "P81001,Church Street Surgery,Oct-26,120,40,5,3,2,1,171,100,50,21,0,0\n"
)


def test_nhs_england_headers_map_to_canonical_columns() -> None:
    [row] = read_rows(NHS_LAYOUT)
    parsed = FftReturnRow.model_validate(row)
    assert parsed.practice_code == "P81001"
    assert parsed.period == "2026-10"
    assert parsed.answers == {
        "very_good": 120,
        "good": 40,
        "neither_good_nor_poor": 5,
        "poor": 3,
        "very_poor": 2,
        "dont_know": 1,
    }
    assert parsed.modes == {"sms": 100, "online": 50, "paper": 21, "telephone": 0, "other": 0}


def test_a_header_missing_a_column_is_refused_up_front() -> None:
    with pytest.raises(Problem) as caught:
        read_rows("Practice Code,Period,Very Good\nP81001,2026-10,1\n")
    assert caught.value.status == 422
    assert {e["field"] for e in caught.value.extensions["errors"]} >= {"good", "dont_know"}


@pytest.mark.parametrize(
    ("raw", "period"), [("2026-10", "2026-10"), ("Oct-26", "2026-10"), ("October 2026", "2026-10")]
)
def test_periods(raw: str, period: str) -> None:
    assert normalise_period(raw) == period


def test_totals_must_add_up() -> None:
    row = dict(read_rows(NHS_LAYOUT)[0], total="170")
    with pytest.raises(ValidationError, match="not the sum"):
        FftReturnRow.model_validate(row)
    row = dict(read_rows(NHS_LAYOUT)[0], sms="99")
    with pytest.raises(ValidationError, match="collection modes"):
        FftReturnRow.model_validate(row)
