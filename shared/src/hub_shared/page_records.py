"""Records membership's feedback pages put on the Kafka ingress (``feedback.submissions``).

A person giving feedback on a practice's page has no token; membership, which serves the
page, signs each record it sends for them with the secret it shares with intake
(``MEMBERSHIP_FEEDBACK_PAGE_SECRET`` = ``INTAKE_FEEDBACK_PAGE_SECRET``), bound to the record's
tenant and client reference, in the record's ``authorization`` header as
``FeedbackPage <token>``. Intake accepts such a record only for that tenant and reference,
and only as online Friends and Family Test feedback (what the page collects); everything else
about it goes through the ingress like any place's record: validated, de-identified,
triaged, deduplicated by its client reference."""

from datetime import timedelta

from hub_shared.links import LinkProblem, SignedLinks

SCHEME = "FeedbackPage"
NAMESPACE = "feedback-pages"
PURPOSE = "submit"
# Long enough for a record to wait in membership's outbox through any broker outage.
LIFETIME = timedelta(days=30)
CHANNEL = "fft_online"


def authorization(links: SignedLinks, *, tenant: str, client_reference: str) -> str:
    """The record's ``authorization`` header value."""
    return f"{SCHEME} {links.token(PURPOSE, {'t': tenant, 'r': client_reference})}"


def is_page_record(authorization_header: str | None) -> bool:
    scheme, _, _ = (authorization_header or "").strip().partition(" ")
    return scheme == SCHEME


def check(links: SignedLinks, authorization_header: str, *, tenant: str, client_reference: str | None) -> None:
    """Raises ``LinkProblem`` unless the header was signed with the shared secret for this
    very tenant and client reference, within ``LIFETIME``."""
    _, _, token = authorization_header.strip().partition(" ")
    claims = links.load(PURPOSE, token.strip(), LIFETIME)
    if claims.get("t") != tenant or claims.get("r") != client_reference:
        raise LinkProblem("invalid")
