"""The registered population reporting counts against: the month imported from NHS England's
"Patients Registered at a GP Practice" (``hub reference population``) that matches the
report's month (the latest at or before it; the latest of all for all-time figures). Until
any month is imported, the demo ICS's, from files in the publication's layout shipped with
``hub_shared``."""

from functools import cache
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.gp_registrations import read_registrations
from reporting.models import RegisteredPopulation
from reporting.rules.population import Population

DEMO_FILES = ("gp-reg-pat-prac-sing-age-male.csv", "gp-reg-pat-prac-sing-age-female.csv")


@cache
def demo_population() -> Population:
    with resources.as_file(resources.files("hub_shared") / "reference" / "demo") as folder:
        month = read_registrations([folder / name for name in DEMO_FILES])
    return Population(
        [(practice, band.value, sex.value, n) for (practice, band, sex), n in month.counts.items()], month=month.month
    )


async def population(session: AsyncSession, month: str | None = None) -> Population:
    """The registered population of the month that matches ``month`` (YYYY-MM): the latest
    imported at or before it (the earliest imported when none is that old), or the latest
    of all without a month."""
    first, last = (
        await session.execute(select(func.min(RegisteredPopulation.month), func.max(RegisteredPopulation.month)))
    ).one()
    if last is None:
        return demo_population()
    chosen = last
    if month is not None:
        chosen = (
            await session.execute(
                select(func.max(RegisteredPopulation.month)).where(RegisteredPopulation.month <= month)
            )
        ).scalar_one_or_none() or first
    rows = await session.execute(
        select(
            RegisteredPopulation.practice_code,
            RegisteredPopulation.age_band,
            RegisteredPopulation.sex,
            RegisteredPopulation.patients,
        ).where(RegisteredPopulation.month == chosen)
    )
    return Population([(p, b, s, n) for p, b, s, n in rows.all()], month=chosen)
