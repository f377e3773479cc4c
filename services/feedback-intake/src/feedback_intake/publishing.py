"""What feedback-intake publishes: feedback received, reviewed and FFT returns on
``feedback.events``; responses on ``feedback.responses`` (``RESPONSES``); rejected ingress
records on ``feedback.rejected``."""

from feedback_intake import SERVICE_NAME
from feedback_intake.models import OutboxMessage
from hub_shared.outbox import Publisher
from hub_shared.topics import FEEDBACK_EVENTS, FEEDBACK_RESPONSES

publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=FEEDBACK_EVENTS.name)
RESPONSES = FEEDBACK_RESPONSES.name
