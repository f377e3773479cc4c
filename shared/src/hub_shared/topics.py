"""Every Kafka topic the hub uses, with its partition count, in one place. Topics are
created by the project (``hub topics create``), never by broker auto-creation."""

import os
from dataclasses import dataclass

# Empty in every deployment. Test processes running in parallel on one broker each set
# their own (hub_shared.testing), so each gets its own topics.
PREFIX = os.environ.get("HUB_TOPIC_PREFIX", "")


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str
    config: tuple[tuple[str, str], ...] = ()


FEEDBACK_SUBMISSIONS = Topic(
    PREFIX + "feedback.submissions", 6, "Raw submissions places' own systems publish (ingress)"
)
FEEDBACK_EVENTS = Topic(PREFIX + "feedback.events", 6, "Feedback received, reviewed, FFT returns")
# Responses alone, so that membership and notification, which want only them, do not read
# (and decode) every piece of feedback received.
FEEDBACK_RESPONSES = Topic(PREFIX + "feedback.responses", 3, "'You said, we did' responses (feedback.responded.v1)")
FEEDBACK_REJECTED = Topic(PREFIX + "feedback.rejected", 3, "Ingress submissions that failed validation, with reasons")
MEMBERSHIP_EVENTS = Topic(PREFIX + "membership.events", 6, "Patient partners, groups, opportunities, invitations")
MEMBERSHIP_CONTACTS = Topic(
    PREFIX + "membership.contacts",
    6,
    "Restricted (membership and notification only): contact cards and the emails to send, keyed by member; "
    "log-compacted, tombstoned on erasure",
    config=(
        ("cleanup.policy", "compact"),
        # Compaction keeps only the latest card per member; a message waits at least a
        # day un-compacted for notification, and a tombstone is removed a day after it.
        ("min.compaction.lag.ms", str(24 * 3600 * 1000)),
        ("delete.retention.ms", str(24 * 3600 * 1000)),
        ("segment.ms", str(3600 * 1000)),
    ),
)
NOTIFICATION_EVENTS = Topic(PREFIX + "notification.events", 6, "Emails sent, failed, bounced; unsubscribes")
REFERENCE_ORGANISATIONS = Topic(
    PREFIX + "reference.organisations",
    1,
    "Organisations as NHS ODS publishes them (hub reference import): the latest hierarchy of each ICB, "
    "keyed by its code; log-compacted, read to its end by every process",
    config=(
        ("cleanup.policy", "compact"),
        ("max.message.bytes", str(16 * 1024 * 1024)),
    ),
)
REFERENCE_STATISTICS = Topic(
    PREFIX + "reference.statistics",
    3,
    "Official statistics per practice (hub reference population, hub reference survey): registered patients "
    "by month, GP Patient Survey results by year; the latest of each ICB and period, keyed kind:ICB:period; "
    "log-compacted",
    config=(
        ("cleanup.policy", "compact"),
        ("max.message.bytes", str(16 * 1024 * 1024)),
    ),
)
REPORTING_SNAPSHOTS = Topic(PREFIX + "reporting.snapshots", 3, "Published, disclosure-controlled report snapshots")

SOURCE_TOPICS = (
    FEEDBACK_SUBMISSIONS,
    FEEDBACK_EVENTS,
    FEEDBACK_RESPONSES,
    FEEDBACK_REJECTED,
    MEMBERSHIP_EVENTS,
    MEMBERSHIP_CONTACTS,
    NOTIFICATION_EVENTS,
    REPORTING_SNAPSHOTS,
    REFERENCE_ORGANISATIONS,
    REFERENCE_STATISTICS,
)


def dead_letter(topic: str) -> str:
    """Dead letters of a topic, whatever consumer gave up on them (the group is a header)."""
    return f"{topic}.dlq"


ALL_TOPICS = SOURCE_TOPICS + tuple(Topic(dead_letter(t.name), 1, f"Dead letters from {t.name}") for t in SOURCE_TOPICS)
