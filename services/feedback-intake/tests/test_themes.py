"""Themes and sentiment are worked out once, where feedback is accepted."""

from feedback_intake.rules.sentiment import sentiment
from feedback_intake.rules.themes import themes


def test_themes_and_sentiment() -> None:
    text = "The receptionist was rude and I waited two hours for my appointment"
    assert themes(text) == ["access_and_waiting", "appointments_and_booking", "staff_attitude"]
    assert sentiment(text) < 0
    assert sentiment("Wonderful, kind nurse who explained everything clearly") > 0.5
    assert themes("My repeat prescription was ready at the pharmacy") == ["medicines"]
