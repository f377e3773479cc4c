"""Subscriptions: which events reporting applies, from which topics, and the projection
that applies each (the live consumer and ``reporting replay`` use the same map)."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub_shared.consumer import BatchHandler, EventConsumer, EventHandler, KeyedBatchHandler
from hub_shared.events import (
    AttendanceRecordedV1,
    FeedbackReceivedV1,
    FeedbackRespondedV1,
    FeedbackReviewedV1,
    FftMonthlyReturnV1,
    GpPatientSurveyPublishedV1,
    GroupMembershipChangedV1,
    InvitationAnsweredV1,
    InvitationIssuedV1,
    MemberConfirmedV1,
    MemberErasedV1,
    MemberJoinedV1,
    MemberLeftV1,
    MemberPreferencesChangedV1,
    NotificationStatusChangedV1,
    RegisteredPopulationPublishedV1,
)
from hub_shared.settings import ServiceSettings
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_RESPONSES, MEMBERSHIP_EVENTS, NOTIFICATION_EVENTS
from reporting.models import InboxMessage
from reporting.projections import (
    feedback,
    fft_returns,
    gp_patient_survey,
    membership,
    notifications,
    population,
    responses,
)

GROUP = "reporting.projections"
# Deduplicated by the fact's own key (the submission id), with no inbox row.
KEYED_HANDLERS: dict[str, KeyedBatchHandler] = {FeedbackReceivedV1.event_type: feedback.on_feedback_received}
BATCH_HANDLERS: dict[str, BatchHandler] = {FftMonthlyReturnV1.event_type: fft_returns.on_fft_returns}
MEMBERSHIP_HANDLERS: dict[str, EventHandler] = {
    MemberJoinedV1.event_type: membership.on_member_joined,
    MemberConfirmedV1.event_type: membership.on_member_confirmed,
    MemberPreferencesChangedV1.event_type: membership.on_member_preferences_changed,
    MemberLeftV1.event_type: membership.on_member_left,
    MemberErasedV1.event_type: membership.on_member_erased,
    GroupMembershipChangedV1.event_type: membership.on_group_membership_changed,
    InvitationIssuedV1.event_type: membership.on_invitation_issued,
    InvitationAnsweredV1.event_type: membership.on_invitation_answered,
    AttendanceRecordedV1.event_type: membership.on_attendance_recorded,
}
HANDLERS: dict[str, EventHandler] = {
    FeedbackReviewedV1.event_type: feedback.on_feedback_reviewed,
    FeedbackRespondedV1.event_type: responses.on_feedback_responded,
    **MEMBERSHIP_HANDLERS,
}
TOPICS = [FEEDBACK_EVENTS.name, FEEDBACK_RESPONSES.name, MEMBERSHIP_EVENTS.name]
STATISTICS_GROUP = "reporting.statistics"
STATISTICS_HANDLERS: dict[str, EventHandler] = {
    RegisteredPopulationPublishedV1.event_type: population.on_registered_population,
    GpPatientSurveyPublishedV1.event_type: gp_patient_survey.on_gp_patient_survey,
}
NOTIFICATION_GROUP = "reporting.notifications"
NOTIFICATION_HANDLERS: dict[str, EventHandler] = {
    NotificationStatusChangedV1.event_type: notifications.on_notification_status_changed,
}


def consumers(settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> list[EventConsumer]:
    # What reporting's three consumers share: its store, its inbox, its retries.
    consumer = partial(
        EventConsumer,
        sessions=sessions,
        inbox_model=InboxMessage,
        max_attempts=settings.consumer_max_attempts,
        backoff_seconds=settings.consumer_backoff_seconds,
    )
    return [
        consumer(
            group=GROUP,
            topics=TOPICS,
            handlers=HANDLERS,
            batch_handlers=BATCH_HANDLERS,
            keyed_handlers=KEYED_HANDLERS,
        ),
        consumer(group=STATISTICS_GROUP, topics=[settings.statistics_topic], handlers=STATISTICS_HANDLERS),
        consumer(group=NOTIFICATION_GROUP, topics=[NOTIFICATION_EVENTS.name], handlers=NOTIFICATION_HANDLERS),
    ]
