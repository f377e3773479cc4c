from reporting.fft import scores
from reporting.themes import sentiment, themes


def test_nhs_england_formula_and_the_variant_without_dont_know() -> None:
    s = scores({"very_good": 50, "good": 30, "neither_good_nor_poor": 10, "poor": 5, "very_poor": 3, "dont_know": 2})
    assert (s.total, s.pct_positive, s.pct_negative) == (100, 80, 8)
    assert (s.total_excl_dont_know, s.pct_positive_excl_dont_know, s.pct_negative_excl_dont_know) == (98, 82, 8)
    empty = scores({})
    assert empty.total == 0 and empty.pct_positive is None


def test_themes_and_sentiment() -> None:
    text = "The receptionist was rude and I waited two hours for my appointment"
    assert themes(text) == ["access_and_waiting", "appointments_and_booking", "staff_attitude"]
    assert sentiment(text) < 0
    assert sentiment("Wonderful, kind nurse who explained everything clearly") > 0.5
    assert themes("My repeat prescription was ready at the pharmacy") == ["medicines"]
