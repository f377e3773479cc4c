from reporting.rules.fft import scores


def test_nhs_england_formula_and_the_variant_without_dont_know() -> None:
    s = scores({"very_good": 50, "good": 30, "neither_good_nor_poor": 10, "poor": 5, "very_poor": 3, "dont_know": 2})
    assert (s.total, s.pct_positive, s.pct_negative) == (100, 80, 8)
    assert (s.total_excl_dont_know, s.pct_positive_excl_dont_know, s.pct_negative_excl_dont_know) == (98, 82, 8)
    empty = scores({})
    assert empty.total == 0 and empty.pct_positive is None
