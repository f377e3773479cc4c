"""What reporting publishes: closed months' disclosure-controlled snapshots on
``reporting.snapshots``."""

from hub_shared.outbox import Publisher
from hub_shared.topics import REPORTING_SNAPSHOTS
from reporting import SERVICE_NAME
from reporting.models import OutboxMessage

publisher = Publisher(source=SERVICE_NAME, outbox=OutboxMessage, topic=REPORTING_SNAPSHOTS.name)
