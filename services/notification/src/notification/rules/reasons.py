"""What the ledger may say about an email: never an address. Relays echo the recipient in
their replies (``550 5.1.1 <bob@example.org>: Recipient address rejected``); those replies
become the reason a place reads in its ledger and the one ``RecipientSuppressedV1``
carries, so anything address-like is removed before a reason is stored or published."""

import re

REMOVED = "[address removed]"
_AT = r"(?:@|\uff20|\ufe6b|%40|=40|\(at\)|\[at\])"
_ADDRESS = re.compile(
    r"""(?:"[^"\r\n]*"|[^\s<>()\[\]",;:]+)\s*""" + _AT + r"""\s*[^\s<>()\[\]",;:]+""",
    re.IGNORECASE,
)
# What is left of an address in angle brackets, e.g. "<bob>" where a relay stripped the domain.
_MAILBOX = re.compile(r"<[^<>\s]*>")


def without_addresses(text: str | None) -> str | None:
    """``text`` with every address (and anything like one) replaced by ``[address removed]``."""
    if text is None:
        return None
    scrubbed = _ADDRESS.sub(REMOVED, text)
    return _MAILBOX.sub(f"<{REMOVED}>", scrubbed)
