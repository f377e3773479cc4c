"""The cap on emails someone asks the hub to send to an address (joining, a fresh link,
hearing back, a new address to confirm, a list import's welcome): at most
``Links.emails_per_address_per_hour`` an hour, however many ask and from wherever. Counted
in membership's store, in the asking transaction (a request that rolls back sent nothing and
counts nothing), so every API worker and replica shares one count. Past the cap the email is
silently not sent: the answer is the same either way."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.db import upsert
from membership.links import Links
from membership.models import EmailAllowance

WINDOW = timedelta(hours=1)


async def may_email(session: AsyncSession, address: str, links: Links) -> bool:
    """Whether one more asked-for email may go to ``address`` now; if so, it is counted."""
    key = links.address_key(address)
    now = datetime.now(UTC)
    # Make the address's row if new, then lock it: concurrent requests for one address count
    # one after the other, so none slips past the cap.
    dialect = (await session.connection()).dialect.name
    await session.execute(upsert(dialect, EmailAllowance, ("address_key",)), [{"address_key": key, "sent_at": []}])
    allowance = await session.get(EmailAllowance, key, with_for_update=True, populate_existing=True)
    assert allowance is not None
    recent = [t for t in allowance.sent_at if now - datetime.fromisoformat(t) < WINDOW]
    allowed = len(recent) < links.emails_per_address_per_hour
    allowance.sent_at = [*recent, now.isoformat()] if allowed else recent
    return allowed


async def forget_address(session: AsyncSession, address: str, links: Links) -> None:
    """Erasure: no count is kept for the address any more."""
    allowance = await session.get(EmailAllowance, links.address_key(address))
    if allowance is not None:
        await session.delete(allowance)
