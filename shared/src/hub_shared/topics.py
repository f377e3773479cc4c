"""Every Kafka topic the hub uses, with its partition count, in one place. Topics are
created by the project (``hub topics create``), never by broker auto-creation."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str


FEEDBACK_SUBMISSIONS = Topic("feedback.submissions", 6, "Raw submissions places' own systems publish (ingress)")
FEEDBACK_EVENTS = Topic("feedback.events", 6, "Feedback received, reviewed, FFT returns, responses")
FEEDBACK_REJECTED = Topic("feedback.rejected", 3, "Ingress submissions that failed validation, with reasons")
MEMBERSHIP_EVENTS = Topic("membership.events", 6, "Patient partners, groups, opportunities, invitations")
NOTIFICATION_EVENTS = Topic("notification.events", 6, "Emails sent, failed, bounced; unsubscribes")
REPORTING_SNAPSHOTS = Topic("reporting.snapshots", 3, "Published, disclosure-controlled report snapshots")

SOURCE_TOPICS = (
    FEEDBACK_SUBMISSIONS,
    FEEDBACK_EVENTS,
    FEEDBACK_REJECTED,
    MEMBERSHIP_EVENTS,
    NOTIFICATION_EVENTS,
    REPORTING_SNAPSHOTS,
)


def dead_letter(topic: str) -> str:
    """Dead letters of a topic, whatever consumer gave up on them (the group is a header)."""
    return f"{topic}.dlq"


ALL_TOPICS = SOURCE_TOPICS + tuple(Topic(dead_letter(t.name), 1, f"Dead letters from {t.name}") for t in SOURCE_TOPICS)
