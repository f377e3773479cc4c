import pytest

from feedback_intake.rules.triage import flags_for
from hub_shared.events import TriageFlag


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("I have been having thoughts of suicide", [TriageFlag.RISK_OF_HARM]),
        ("My carer neglected my dad for days", [TriageFlag.RISK_OF_HARM]),
        ("I'm scared to go home", [TriageFlag.RISK_OF_HARM]),
        ("I want to make a formal complaint about the receptionist", [TriageFlag.COMPLAINT]),
        ("I will be contacting the Ombudsman", [TriageFlag.COMPLAINT]),
        ("I told PALS and now I want to complain, he hurt himself", [TriageFlag.RISK_OF_HARM, TriageFlag.COMPLAINT]),
        ("Lovely staff, quick appointment", []),
        ("The pals I came with were happy", []),
        (None, []),
    ],
)
def test_flags(text: str | None, flags: list[TriageFlag]) -> None:
    assert flags_for(text) == flags
