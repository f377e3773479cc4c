"""What each email is, and the rules that follow from it: which need a confirmed address,
which carry an unsubscribe link, which a daily or weekly digest may gather."""

from hub_shared.events import MessageKind

CONFIRM_EMAIL = "confirm_email"
CONFIRM_NEW_ADDRESS = "confirm_new_address"
WELCOME = "welcome"
ALREADY_MEMBER = "already_member"
FRESH_LINK = "fresh_link"
HEAR_BACK_CONFIRMATION = "hear_back_confirmation"
INVITATION = "invitation"
PLACE_OFFERED = "place_offered"
REPLY_RECEIVED = "reply_received"
REMINDER = "reminder"
OPPORTUNITY_CHANGED = "opportunity_changed"
OPPORTUNITY_CANCELLED = "opportunity_cancelled"
UPDATE = "update"
DIGEST_DAILY = "digest_daily"
DIGEST_WEEKLY = "digest_weekly"
LEFT = "left"
ERASED = "erased"

ALL = (
    CONFIRM_EMAIL,
    CONFIRM_NEW_ADDRESS,
    WELCOME,
    ALREADY_MEMBER,
    FRESH_LINK,
    HEAR_BACK_CONFIRMATION,
    INVITATION,
    PLACE_OFFERED,
    REPLY_RECEIVED,
    REMINDER,
    OPPORTUNITY_CHANGED,
    OPPORTUNITY_CANCELLED,
    UPDATE,
    DIGEST_DAILY,
    DIGEST_WEEKLY,
    LEFT,
    ERASED,
)

FROM_MEMBERSHIP = {
    MessageKind.CONFIRM_JOIN: CONFIRM_EMAIL,
    MessageKind.CONFIRM_NEW_EMAIL: CONFIRM_NEW_ADDRESS,
    MessageKind.WELCOME_IMPORTED: WELCOME,
    MessageKind.ALREADY_MEMBER: ALREADY_MEMBER,
    MessageKind.FRESH_LINK: FRESH_LINK,
    MessageKind.CONFIRM_HEAR_BACK: HEAR_BACK_CONFIRMATION,
    MessageKind.INVITATION: INVITATION,
    MessageKind.PLACE_OFFERED: PLACE_OFFERED,
    MessageKind.UPDATE_DUE: UPDATE,
    MessageKind.LEFT: LEFT,
    MessageKind.OPPORTUNITY_CHANGED: OPPORTUNITY_CHANGED,
    MessageKind.OPPORTUNITY_CANCELLED: OPPORTUNITY_CANCELLED,
}

# Sent to an address nobody has confirmed yet: they are how it gets confirmed.
CONFIRMATIONS = frozenset({CONFIRM_EMAIL, CONFIRM_NEW_ADDRESS, WELCOME, HEAR_BACK_CONFIRMATION})
# The last word to someone who left or was forgotten: sent from the address the ledger
# keeps until the email reaches a final state.
FAREWELLS = frozenset({LEFT, ERASED})
# Sent to the address the email itself carries (the ledger keeps it until the email is
# final), not to the person's current one: a goodbye, or a new address to confirm.
OWN_ADDRESS = FAREWELLS | frozenset({CONFIRM_NEW_ADDRESS})
# What became of a place the person asked for (the opportunity changed or was cancelled):
# they need to know whatever they chose to hear about, so these go like transactional ones.
ABOUT_THEIR_PLACE = frozenset({OPPORTUNITY_CHANGED, OPPORTUNITY_CANCELLED})
# Answers to something the person did: no unsubscribe, but a confirmed address.
TRANSACTIONAL = CONFIRMATIONS | FAREWELLS | ABOUT_THEIR_PLACE | frozenset({ALREADY_MEMBER, FRESH_LINK, REPLY_RECEIVED})
# Everything else is a mailing the person can leave with one click (RFC 8058).
NON_TRANSACTIONAL = frozenset(ALL) - TRANSACTIONAL
# What a daily or weekly digest gathers; the rest goes as it happens.
DIGESTIBLE = frozenset({INVITATION, UPDATE})
DIGESTS = frozenset({DIGEST_DAILY, DIGEST_WEEKLY})
# About an opportunity: their reference is its id (an update's is a response's).
ABOUT_OPPORTUNITY = frozenset({INVITATION, PLACE_OFFERED, REMINDER, REPLY_RECEIVED}) | ABOUT_THEIR_PLACE
# Not worth sending once the opportunity is cancelled (the cancellation says all).
VOID_WHEN_CANCELLED = frozenset({INVITATION, PLACE_OFFERED, REMINDER, REPLY_RECEIVED, OPPORTUNITY_CHANGED})
