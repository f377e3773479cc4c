"""Notification measures from notification.status_changed.v1 events, on a real PostgreSQL
store: the latest state per email, invitations sent/delivered/failed per opportunity,
updates that reached contributors; disclosure-controlled; within the caller's authority."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from hub_shared.auth import DevKeys
from hub_shared.events import DeliveryStatus, NotificationStatusChangedV1, new_envelope
from hub_shared.testing import migrated
from reporting.main import MIGRATIONS, create_app
from reporting.projections.notifications import on_notification_status_changed
from reporting.settings import ReportingSettings


def change(nid: uuid.UUID, org: str, kind: str, ref: str, status: DeliveryStatus, at: datetime):  # type: ignore[no-untyped-def]
    data = NotificationStatusChangedV1(
        notification_id=nid,
        organisation_code=org,
        kind=kind,
        reference=ref,
        recipient_kind="member",
        status=status,
        changed_at=at,
    )
    return new_envelope(data, source="notification", subject=str(nid), tenant=org, correlation_id="c")


async def test_scorecard_counts_of_invitations_and_updates(new_postgres_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys = DevKeys(tmp_path / "keys").ensure()
    settings = ReportingSettings(database_url=new_postgres_database("reporting"), HUB_JWKS_PATH=keys.jwks_path)
    migrated(MIGRATIONS, settings.database_url)
    app = create_app(settings)
    opportunity, response = str(uuid.uuid4()), str(uuid.uuid4())
    t0 = datetime.now(UTC)
    events = []
    for i in range(17):  # 12 delivered, 5 failed for good
        nid = uuid.uuid4()
        final = DeliveryStatus.DELIVERED if i < 12 else DeliveryStatus.PERMANENT_FAILURE
        events += [
            change(nid, "P81001", "invitation", opportunity, DeliveryStatus.CREATED, t0),
            change(nid, "P81001", "invitation", opportunity, DeliveryStatus.SENDING, t0 + timedelta(seconds=1)),
            change(nid, "P81001", "invitation", opportunity, final, t0 + timedelta(seconds=2)),
        ]
    late = uuid.uuid4()  # its final state arrives before an older one: the older one must not win
    events += [
        change(late, "P81001", "invitation", opportunity, DeliveryStatus.DELIVERED, t0 + timedelta(seconds=2)),
        change(late, "P81001", "invitation", opportunity, DeliveryStatus.SENDING, t0 + timedelta(seconds=1)),
    ]
    for _ in range(2):  # two updates reached their contributors: a small count
        events.append(change(uuid.uuid4(), "P81001", "update", response, DeliveryStatus.DELIVERED, t0))
    events.append(change(uuid.uuid4(), "P82001", "invitation", str(uuid.uuid4()), DeliveryStatus.DELIVERED, t0))
    async with app.state.sessions() as session, session.begin():
        for envelope in events:
            await on_notification_status_changed(session, envelope)

    token = keys.issue(
        organisation="01A", scopes=["reports:read"], issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
        r = await client.get("/v1/reports/notifications/01A", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["invitations"] == {"sent": 18, "delivered": 13, "failed": 5, "unknown": 0}
        assert body["invitations_by_opportunity"] == [
            {"opportunity_id": opportunity, "sent": 18, "delivered": 13, "failed": 5, "unknown": 0}
        ]
        assert body["updates_reached_contributors"] == "*"  # 2 people: disclosure control
        r = await client.get("/v1/reports/notifications/02B", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403
    await app.state.engine.dispose()
