"""Themes of free text, worked out once where feedback is accepted and carried in
``feedback.received.v1`` with its sentiment (``rules/sentiment.py``), so reports and
replays never redo them.

Themes: the taxonomy below, matched on word stems; a comment can carry several themes.
A new taxonomy is a new version: events carry the version they were themed with."""

import re

TAXONOMY_VERSION = "themes-v1"
TAXONOMY: dict[str, list[str]] = {
    "access_and_waiting": [
        r"wait\w*",
        r"queue\w*",
        r"delay\w*",
        r"long time",
        r"hours?",
        r"weeks?",
        r"get through",
        r"on hold",
    ],
    "appointments_and_booking": [
        r"appointment\w*",
        r"book\w*",
        r"same[- ]day",
        r"slot\w*",
        r"8 ?am",
        r"cancel\w*",
        r"reschedul\w*",
    ],
    "communication": [
        r"explain\w*",
        r"listen\w*",
        r"told",
        r"inform\w*",
        r"letter\w*",
        r"call(?:ed|s)? back",
        r"communicat\w*",
        r"clear\w*",
    ],
    "staff_attitude": [
        r"rude\w*",
        r"kind\w*",
        r"friendly",
        r"helpful",
        r"caring",
        r"polite",
        r"dismissive",
        r"reception\w*",
        r"staff",
    ],
    "clinical_care": [
        r"diagnos\w*",
        r"treat\w*",
        r"doctor\w*",
        r"nurse\w*",
        r"gp\b",
        r"referr\w*",
        r"test\w*",
        r"scan\w*",
        r"physio\w*",
        r"midwi\w*",
    ],
    "medicines": [r"prescri\w*", r"medic(?:ine|ation)\w*", r"pharmac\w*", r"repeat\w*", r"tablets?", r"dose\w*"],
    "environment": [r"clean\w*", r"dirty", r"waiting room", r"park\w*", r"toilet\w*", r"build\w*", r"access\w* for"],
    "digital_access": [r"online", r"app\b", r"website", r"e-?mail", r"video", r"nhs app", r"text message", r"sms"],
}
_PATTERNS = {theme: re.compile(r"\b(?:" + "|".join(words) + r")", re.IGNORECASE) for theme, words in TAXONOMY.items()}


def themes(text: str) -> list[str]:
    return [theme for theme, pattern in _PATTERNS.items() if pattern.search(text)]
