"""Emails from templates: Jinja2 with autoescape, a plain-text part and an HTML part in
the NHS.UK look with its styles inlined (css-inline) so mail clients keep them; no
images, so nothing is lost with images off. Subjects are templates too."""

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hub_shared.dates import when
from hub_shared.organisations import reference
from hub_shared.templates import COMPILED
from notification.rules import kinds

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=True,
    bytecode_cache=COMPILED,
)
SUBJECT_ENV = Environment(autoescape=False, undefined=StrictUndefined)
_INLINER = css_inline.CSSInliner(keep_style_tags=False)

SUBJECTS = {
    kinds.CONFIRM_EMAIL: "Confirm your email address",
    kinds.CONFIRM_NEW_ADDRESS: "Confirm your new email address",
    kinds.WELCOME: "Welcome: please confirm you want to hear from us",
    kinds.ALREADY_MEMBER: "You are already a patient partner",
    kinds.FRESH_LINK: "Your link to your preferences",
    kinds.HEAR_BACK_CONFIRMATION: "Confirm you want to hear back about your feedback",
    kinds.INVITATION: "You are invited: {{ opportunity.title }}",
    kinds.PLACE_OFFERED: "A place has come up: {{ opportunity.title }}",
    kinds.REPLY_RECEIVED: "{{ 'Your place has changed' if links.get('moved') else 'We have your reply' }}: "
    "{{ opportunity.title }}",
    kinds.REMINDER: "Reminder: {{ opportunity.title }}, {{ opportunity.when }}",
    kinds.OPPORTUNITY_CHANGED: "Changed: {{ opportunity.title }}, now {{ opportunity.when }}",
    kinds.OPPORTUNITY_CANCELLED: "Cancelled: {{ opportunity.title }}",
    kinds.UPDATE: "You said, we did: {{ organisation_name }}",
    kinds.DIGEST_DAILY: "Your daily round-up: {{ count }} new",
    kinds.DIGEST_WEEKLY: "Your weekly round-up: {{ count }} new",
    kinds.LEFT: "You have left the patient partners scheme",
    kinds.ERASED: "We have deleted your details",
}
TEMPLATE_OF = {kinds.DIGEST_DAILY: "digest", kinds.DIGEST_WEEKLY: "digest"}
REASONS = {
    kinds.INVITATION: "you are a patient partner and asked to hear about opportunities like this",
    kinds.PLACE_OFFERED: "you asked for a place",
    kinds.REMINDER: "you have a place booked",
    kinds.OPPORTUNITY_CHANGED: "you said yes to it",
    kinds.OPPORTUNITY_CANCELLED: "you said yes to it",
    kinds.DIGEST_DAILY: "you chose a daily round-up",
    kinds.DIGEST_WEEKLY: "you chose a weekly round-up",
}
# An update tells a contributor it acted on their feedback; anyone else (a member of the
# matching patient group, or a card from before membership said why) hears of others'.
UPDATE_REASONS = {
    True: "you asked to hear what came of your feedback",
    False: "you are in a patient group and asked to hear about this service",
}
KIND_LABELS = {
    "workshop": "Workshop",
    "seminar": "Seminar",
    "survey": "Survey",
    "coproduction_session": "Co-production session",
    "group_vacancy": "Group vacancy",
}
REPLIES = {
    ("yes", "booked"): "You said yes, and your place is booked.",
    (
        "yes",
        "waiting_list",
    ): "You said yes. The places are full, so you are on the waiting list; we will email you if one comes up.",
    ("maybe", ""): "You said maybe. You can change your reply at any time before it closes.",
    ("no", ""): "You said no. Thank you for letting us know.",
}
MOVED_TO_WAITING_LIST = (
    "There are fewer places now, so your place has moved to the waiting list. You are near the front;"
    " we will email you if a place comes up."
)
# What changed, as the "changed" email lists it (membership names the fields).
CHANGES = {
    "title": "the title",
    "description": "what it is about",
    "starts_at": "the date and time",
    "closes_at": "the date to reply by",
    "location": "where it is",
    "online": "where it is",
}
STANDING = {
    "booked": "You still have a place.",
    "waiting_list": "You are on the waiting list; we will email you if a place comes up.",
}
DEFAULT_SIGN_OFF = "With thanks,"
# CRLF for SMTP; headers folded only past RFC 5322's hard limit, so a long subject stays one
# line (the default folding at 78 can put all of it on a continuation line).
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def organisation_name(code: str) -> str:
    organisation = reference().get(code)
    return organisation.name if organisation else code


def opportunity_view(opportunity: Any) -> dict[str, Any]:
    return {
        "title": opportunity.title,
        "kind_label": KIND_LABELS.get(opportunity.kind, opportunity.kind.replace("_", " ").capitalize()),
        "when": when(opportunity.starts_at),
        "closes": when(opportunity.closes_at),
        "online": opportunity.online,
        "where": "Online" if opportunity.online else getattr(opportunity, "location", None),
        "cancel_reason": getattr(opportunity, "cancel_reason", None),
    }


def changes_of(links: dict[str, str]) -> str:
    """What changed, in words: "the date and time and where it is"."""
    said = list(dict.fromkeys(CHANGES[name] for name in links.get("changed", "").split(",") if name in CHANGES))
    if not said:
        return "the details"
    return " and ".join([", ".join(said[:-1]), said[-1]] if len(said) > 1 else said)


def standing(links: dict[str, str]) -> str:
    return STANDING.get(links.get("place", ""), "")


def reply_summary(links: dict[str, str]) -> str:
    if links.get("moved") and links.get("place") == "waiting_list":
        return MOVED_TO_WAITING_LIST
    answer, place = links.get("answer", ""), links.get("place", "")
    return REPLIES.get((answer, place if answer == "yes" else ""), "Thank you for your reply.")


def contributed(context: dict[str, Any]) -> bool:
    """Whether the person hearing of a response gave the feedback it answers."""
    return context.get("recipient_kind") == "hear_back" or context.get("links", {}).get("because") == "contributor"


def render(kind: str, context: dict[str, Any]) -> Rendered:
    context = {"reason_for_email": REASONS.get(kind), "unsubscribe_url": None, "links": {}, **context}
    if kind == kinds.UPDATE:
        context["contributed"] = contributed(context)
        context["reason_for_email"] = UPDATE_REASONS[context["contributed"]]
    context["subject"] = subject = SUBJECT_ENV.from_string(SUBJECTS[kind]).render(**context)
    name = TEMPLATE_OF.get(kind, kind)
    text = ENV.get_template(f"email/{name}.txt").render(**context)
    html = _INLINER.inline(ENV.get_template(f"email/{name}.html").render(**context))
    return Rendered(subject=subject, text=_tidy(text), html=html)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def message(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    message_id: str,
    notification_id: str,
    unsubscribe_url: str | None,
) -> EmailMessage:
    email = EmailMessage(policy=MAIL_POLICY)
    email["Subject"] = rendered.subject
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message_id
    email["X-Hub-Notification-Id"] = notification_id
    if unsubscribe_url:
        # RFC 2369 and RFC 8058: mail clients offer one-click unsubscribe with a POST.
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        email["Auto-Submitted"] = "auto-generated"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email
