"""The GP Patient Survey's practice results read in the published file's layout: the
involvement question's share, base and interval per practice; bad lines named."""

from pathlib import Path

import pytest

from hub_shared.gp_patient_survey import InvalidSurveyResults, SurveyColumns, read_survey
from hub_shared.ods_files import OdsFiles, read_hierarchies
from hub_shared.organisations import Organisations
from hub_shared.reference_cli import survey_events

FIXTURES = Path(__file__).parent / "fixtures"
SURVEY = FIXTURES / "gp_patient_survey"
ODS = FIXTURES / "ods"


def test_each_practices_share_base_and_interval_as_proportions() -> None:
    results = {r.practice_code: r for r in read_survey(SURVEY / "GPPS_2026_Practice_data_weighted.csv", "Q90")}
    assert results["A11001"].base == 120 and results["A11001"].share == 0.9
    assert (results["A11001"].lower, results["A11001"].upper) == (0.85, 0.95)
    suppressed = results["A12001"]
    assert suppressed.base == 8 and suppressed.share is None and suppressed.lower is None


def test_every_bad_line_is_named() -> None:
    with pytest.raises(InvalidSurveyResults) as raised:
        read_survey(SURVEY / "GPPS_malformed.csv", "Q90")
    assert [str(e) for e in raised.value.errors] == [
        "GPPS_malformed.csv line 3: Practice_Code 'A-1' is not an ODS code",
        "GPPS_malformed.csv line 4: Q90base 'many' is not a whole number",
        "GPPS_malformed.csv line 5: Q90_12pct 'abc' is not a number",
        "GPPS_malformed.csv line 6: B21001: the share is outside its confidence interval",
        "GPPS_malformed.csv line 7: A11001 appears twice (also line 2)",
        "GPPS_malformed.csv line 8: Q90_12pct 150.0 is not a share (0-1 or 0-100)",
    ]


def test_another_years_columns_are_named_by_the_operator() -> None:
    with pytest.raises(InvalidSurveyResults) as raised:
        read_survey(SURVEY / "GPPS_2026_Practice_data_weighted.csv", "Q88")
    assert "no column Q88base, Q88_12pct" in str(raised.value.errors[0])
    columns = SurveyColumns(share="{q}_1pct", lower="{q}_1pct", upper="{q}_12pct")
    shares = {
        r.practice_code: r.share for r in read_survey(SURVEY / "GPPS_2026_Practice_data_weighted.csv", "Q90", columns)
    }
    assert shares["A11001"] == 0.6


def test_each_icb_gets_its_own_practices() -> None:
    organisations = Organisations.from_hierarchies(
        read_hierarchies(OdsFiles(ODS / "epraccur.csv", ODS / "eccg.csv", ODS / "icbs.csv", ODS / "succ.csv"))
    )
    results = read_survey(SURVEY / "GPPS_2026_Practice_data_weighted.csv", "Q90")
    envelopes, unknown = survey_events(results, organisations, "2026", "Q90", ["f.csv"], "c")
    assert unknown == {"Z99001"}
    assert {e.subject: len(e.data.results) for e in envelopes} == {"gpps:QAA:2026": 3, "gpps:QBB:2026": 1}  # type: ignore[attr-defined]
