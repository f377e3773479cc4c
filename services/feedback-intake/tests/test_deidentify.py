from datetime import date

import pytest

from feedback_intake.rules.deidentify import scrub

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("My number is 943 476 5919.", "My number is [NHS number].", "nhs_number"),
        ("My number is 9434765919.", "My number is [NHS number].", "nhs_number"),
        ("Call me on 07912 345678 please", "Call me on [phone] please", "phone"),
        ("or +44 20 7946 0958", "or [phone]", "phone"),
        ("write to jo.bloggs@example.com", "write to [email]", "email"),
        ("see https://example.org/page.", "see [link].", "url"),
        ("I live at LS6 2AB now", "I live at LS6 now", "postcode"),
        ("I live at sw1a1aa now", "I live at SW1A now", "postcode"),
        ("I was born 12/03/1961.", "I was born [date of birth].", "date_of_birth"),
        ("DOB: 4 March 2020", "DOB: [date of birth]", "date_of_birth"),
        ("my mum (1 June 1948) was seen", "my mum ([date of birth]) was seen", "date_of_birth"),
    ],
)
def test_personal_data_is_removed_and_counted(text: str, expected: str, kind: str) -> None:
    result = scrub(text, today=TODAY)
    assert result.text == expected
    assert result.removed == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "9434765918 fails the Modulus 11 check so it is not an NHS number",
        "Seen on 3 November 2026 after waiting 45 minutes in room 12",
        "Booked for 14/10/2026, three times this year",
        "The LS6 area needs a pharmacy",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = scrub(text, today=TODAY)
    assert result.text == text
    assert result.removed == {}


def test_several_kinds_in_one_text_are_each_counted() -> None:
    result = scrub("NHS 943 476 5919, email a@b.co, phone 07912345678, phone 01134960000", today=TODAY)
    assert result.removed == {"nhs_number": 1, "email": 1, "phone": 2}
    assert "943" not in result.text and "@" not in result.text
