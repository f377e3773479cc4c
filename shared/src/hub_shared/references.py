"""Hear-back references: what a person gives, on any channel, so that what came of their
feedback reaches them (an SMS reply, a paper form, a word at reception).

Ten symbols of Crockford's base32 (digits and letters without I, L, O and U, so nothing
looks like anything else; 50 random bits), then Crockford's check symbol (the number
modulo 37, `base32-crockford`): a prime modulus, so every single wrong symbol and every
swap of two neighbours is refused rather than taken for someone else's reference. Shown in
groups, ``7KQ3-M9X2-RT4``. Reading one forgives what people do: lower case, spaces or
hyphens anywhere, ``O`` for zero, ``I`` or ``L`` for one.

A reference is drawn again until its check symbol is a letter or a digit (Crockford's five
extra check symbols, ``* ~ $ = U``, are hard to type on a phone's keypad or to read in
handwriting), which costs a fifth of a bit. The canonical form, upper case without
separators, is what membership keeps and intake stores as the submission's contact token."""

import re
import secrets

import base32_crockford

SYMBOLS = 10  # before the check symbol
LENGTH = SYMBOLS + 1
GROUPS = (4, 4, 3)
TYPABLE_CHECKS = set(base32_crockford.symbols)  # the check symbols that are also data symbols
SEPARATORS = re.compile(r"[\s\-]+")


class BadReference(ValueError):
    """Not a reference the hub could have issued: wrong length, a symbol outside the
    alphabet, or a check symbol that does not match (one symbol mistyped, two swapped)."""


def new_reference() -> str:
    """A fresh reference, canonical form."""
    while True:
        number = secrets.randbits(5 * SYMBOLS)
        body = base32_crockford.encode(number).rjust(SYMBOLS, "0")
        symbol = base32_crockford.encode(number, checksum=True)[-1]
        if symbol in TYPABLE_CHECKS:
            return body + symbol


def canonical(text: str) -> str:
    """The reference ``text`` stands for, upper case without separators; ``BadReference``
    when it cannot be one (the check symbol is what catches a slip)."""
    compact = SEPARATORS.sub("", text or "")
    if len(compact) != LENGTH:
        raise BadReference(f"a reference has {LENGTH} letters and numbers, like 7KQ3-M9X2-RT4")
    try:
        normal = base32_crockford.normalize(compact)
        base32_crockford.decode(normal, checksum=True)
    except (ValueError, KeyError) as exc:
        raise BadReference("this reference is not right: check each letter and number and try again") from exc
    return str(normal)


def grouped(reference: str) -> str:
    """The canonical reference in groups, as people see it: ``7KQ3-M9X2-RT4``."""
    parts, start = [], 0
    for size in GROUPS:
        parts.append(reference[start : start + size])
        start += size
    return "-".join(parts)


def looks_like_reference(token: str) -> bool:
    """Whether a contact token has a reference's shape (a legacy token is 32 characters)."""
    return len(SEPARATORS.sub("", token)) == LENGTH
