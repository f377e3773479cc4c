"""Ethnic groups are asked and shown in the words and order of the ONS 2021 Census
harmonised standard for England: 19 categories under 5 headings (and "Prefer not to say",
the question being voluntary). The values events carry are unchanged."""

from hub_shared.events import EthnicGroup

# Transcribed from the ONS harmonised standard (ethnic group, England), heading: category.
ONS_2021_ENGLAND = [
    "White: English, Welsh, Scottish, Northern Irish or British",
    "White: Irish",
    "White: Gypsy or Irish Traveller",
    "White: Roma",
    "White: Any other White background",
    "Mixed or Multiple ethnic groups: White and Black Caribbean",
    "Mixed or Multiple ethnic groups: White and Black African",
    "Mixed or Multiple ethnic groups: White and Asian",
    "Mixed or Multiple ethnic groups: Any other Mixed or Multiple ethnic background",
    "Asian or Asian British: Indian",
    "Asian or Asian British: Pakistani",
    "Asian or Asian British: Bangladeshi",
    "Asian or Asian British: Chinese",
    "Asian or Asian British: Any other Asian background",
    "Black, Black British, Caribbean or African: Caribbean",
    "Black, Black British, Caribbean or African: African",
    "Black, Black British, Caribbean or African: Any other Black, Black British, or Caribbean background",
    "Other ethnic group: Arab",
    "Other ethnic group: Any other ethnic group",
]


def test_the_groups_are_the_standards_in_its_order_and_words() -> None:
    assert [g.label for g in EthnicGroup] == [*ONS_2021_ENGLAND, "Prefer not to say"]
    assert len({label.split(": ")[0] for label in ONS_2021_ENGLAND}) == 5


def test_every_value_on_events_and_in_stores_is_read_as_before() -> None:
    # Values are what events carry and stores keep: none renamed, so nothing in flight breaks.
    assert {g.value for g in EthnicGroup} == {
        "asian_bangladeshi", "asian_chinese", "asian_indian", "asian_pakistani", "asian_other",
        "black_african", "black_caribbean", "black_other", "mixed_white_and_asian",
        "mixed_white_and_black_african", "mixed_white_and_black_caribbean", "mixed_other",
        "white_british", "white_irish", "white_gypsy_or_irish_traveller", "white_roma", "white_other",
        "other_arab", "other_any", "prefer_not_to_say",
    }  # fmt: skip
