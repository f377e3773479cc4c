"""What feedback-intake publishes: feedback received, reviewed, FFT returns and responses on
``feedback.events``; rejected ingress records on ``feedback.rejected``."""

from feedback_intake import SERVICE_NAME
from feedback_intake.models import OutboxMessage
from hub_shared.outbox import Publisher
from hub_shared.topics import FEEDBACK_EVENTS

publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=FEEDBACK_EVENTS.name)
