"""De-identification of free text before anything leaves intake.

Removes NHS numbers (only those passing the Modulus 11 check, spaced or not), phone
numbers (libphonenumber, UK and international, plus anything UK-shaped), email addresses, URLs, full postcodes
(the district is kept: "LS6 2AB" -> "LS6") and dates of birth. A full date counts as a
date of birth when "born", "DOB" or "date of birth" stands just before it, or when its
year is more than two years before the submission (too old to be the visit itself).
What was removed is counted by kind."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import nhs_number
import phonenumbers

URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)]", re.IGNORECASE)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
NHS_CANDIDATE = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
# Full UK postcode: outward code (area + district) and inward code (sector + unit).
POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
DATE = re.compile(
    rf"\b(?:(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}}|\d{{2}})"
    rf"|(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTHS})\.?,?\s+(\d{{4}})"
    rf"|({MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})"
    rf"|(\d{{4}})-(\d{{2}})-(\d{{2}}))\b",
    re.IGNORECASE,
)
UK_PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+44\s?|0)\d(?:[\s-]?\d){8,9}(?!\d)")
BIRTH_CUE = re.compile(r"(?:\bborn(?:\s+on)?|\bd\.?o\.?b\.?|date\s+of\s+birth)\W{0,3}$", re.IGNORECASE)


@dataclass
class Scrubbed:
    text: str
    removed: dict[str, int] = field(default_factory=dict)


def _year(match: re.Match[str]) -> int:
    groups = match.groups()
    raw = groups[2] or groups[5] or groups[8] or groups[9]
    year = int(raw)
    return year + (1900 if year > 30 else 2000) if year < 100 else year


def scrub(text: str, *, today: date | None = None) -> Scrubbed:
    today = today or date.today()
    removed: Counter[str] = Counter()
    # Cheap look-aheads skip passes that cannot match (most comments have no digit, "@"
    # or link): every pass below needs its character to find anything.
    lowered = text.lower()
    has_link = "://" in text or "www." in lowered
    has_at = "@" in text
    has_digit = any(c.isdigit() for c in text)
    if not (has_link or has_at or has_digit):
        return Scrubbed(text=text, removed={})

    def replace(pattern: re.Pattern[str], kind: str, token: str, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            removed[kind] += 1
            return token

        return pattern.sub(sub, text)

    if has_link:
        text = replace(URL, "url", "[link]", text)
    if has_at:
        text = replace(EMAIL, "email", "[email]", text)
    if not has_digit:
        return Scrubbed(text=text, removed=dict(removed))

    def nhs(m: re.Match[str]) -> str:
        if nhs_number.is_valid("".join(m.groups())):
            removed["nhs_number"] += 1
            return "[NHS number]"
        return m.group(0)

    text = NHS_CANDIDATE.sub(nhs, text)

    def dob(m: re.Match[str]) -> str:
        cue = BIRTH_CUE.search(text[max(0, m.start() - 20) : m.start()])
        if cue or _year(m) < today.year - 2:
            removed["date_of_birth"] += 1
            return "[date of birth]"
        return m.group(0)

    text = DATE.sub(dob, text)

    def postcode(m: re.Match[str]) -> str:
        removed["postcode"] += 1
        return m.group(1).upper()

    text = POSTCODE.sub(postcode, text)

    # Phone numbers last: by now NHS numbers and dates cannot be mistaken for them.
    out, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID):
        out.append(text[last : match.start])
        out.append("[phone]")
        last = match.end
        removed["phone"] += 1
    text = "".join(out) + text[last:]
    # UK-shaped numbers libphonenumber does not call valid (unallocated or reserved ranges).
    text = replace(UK_PHONE_SHAPE, "phone", "[phone]", text)
    return Scrubbed(text=text, removed=dict(removed))
