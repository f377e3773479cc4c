"""Safeguarding and complaint triage of free text.

Deliberately cautious: a false flag costs a reviewer a minute; a missed one can cost a
life. Flagged text stays out of reporting's free-text views until a reviewer clears it.
The phrase lists are the rules; extend them here, with a test for each new phrase."""

import re

from hub_shared.events import ReviewDecision, TriageFlag

RULES: dict[TriageFlag, list[str]] = {
    TriageFlag.RISK_OF_HARM: [
        r"suicid\w*",
        r"kill(?:ing)? (?:my|him|her|them)sel(?:f|ves)",
        r"end (?:my|it all|my life)",
        r"self[- ]?harm\w*",
        r"hurt(?:ing)? (?:my|him|her|them)sel(?:f|ves)",
        r"overdos\w*",
        r"abus(?:e|ed|ing|ive)",
        r"neglect(?:ed|ing)?",
        r"not safe|unsafe at home|afraid to go home|scared to go home",
        r"hit(?:s|ting)? me|beat(?:s|ing)? me",
        r"domestic violence",
    ],
    TriageFlag.COMPLAINT: [
        r"(?:formal|official) complaint",
        r"(?:want|wish|would like|going) to complain",
        r"make a complaint|making a complaint|lodge a complaint",
        r"ombudsman",
        r"(?-i:\bPALS\b)",  # the Patient Advice and Liaison Service, not "pals"
        r"solicitor|legal action|sue (?:the|you)",
        r"negligen(?:ce|t)",
    ],
}
_COMPILED = {
    flag: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) for flag, patterns in RULES.items()
}


def flags_for(text: str | None) -> list[TriageFlag]:
    if not text:
        return []
    return [flag for flag, pattern in _COMPILED.items() if pattern.search(text)]


def text_shown(review_status: str, *, triages: bool) -> bool:
    """Whether a reader sees an item's text. Triage exists so that text nobody has cleared
    (awaiting review, or referred for safeguarding or as a complaint) is seen by those who
    triage it and no one else, and withheld text by no one at all."""
    if review_status in ("not_required", ReviewDecision.CLEARED):
        return True
    if review_status == ReviewDecision.WITHHELD:
        return False
    return triages
