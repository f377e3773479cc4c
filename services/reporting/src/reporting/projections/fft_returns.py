"""Practices' monthly FFT returns as reporting's read models: the latest return of each
(``FftReturnFact``) and their sum per practice and month (``FftReturnCount``)."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub_shared.events import Envelope, FftMonthlyReturnV1
from reporting.models import FFT_FIGURES, FftReturnCount, FftReturnFact
from reporting.projections.rollups import AT, increment_many, replace_many
from reporting.rules.fft import MODES

FFT_RETURN_COUNT = ("organisation_code", "month", *FFT_FIGURES)


async def on_fft_returns(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Set-based, as feedback: one read of the returns already held, one upsert of the facts
    and one of the rollup for the batch. A corrected return takes its earlier counts out of
    the rollup as it adds its own (in order, also when both are in this batch)."""
    returns: list[FftMonthlyReturnV1] = []
    for envelope in envelopes:
        assert isinstance(envelope.data, FftMonthlyReturnV1)
        returns.append(envelope.data)
    held = await session.execute(
        select(
            FftReturnFact.return_id,
            FftReturnFact.organisation_code,
            FftReturnFact.month,
            FftReturnFact.answers,
            FftReturnFact.modes,
        ).where(FftReturnFact.return_id.in_({data.return_id for data in returns}))
    )
    facts: dict[uuid.UUID, dict[str, Any]] = {
        return_id: {"organisation_code": o, "month": m, "answers": a, "modes": x}
        for return_id, o, m, a, x in held.all()
    }
    counts: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(AT))

    def count(fact: dict[str, Any], sign: int) -> None:
        figures = counts[(fact["organisation_code"], fact["month"])]
        for answer, n in fact["answers"].items():
            figures[AT[answer]] += sign * int(n)
        for mode, n in (fact["modes"] or {}).items():
            if mode in MODES:  # a return's modes are as returned; others count in no mode
                figures[AT[mode]] += sign * int(n)

    for data in returns:
        if (earlier := facts.get(data.return_id)) is not None:
            count(earlier, -1)
        fact = {
            "organisation_code": data.counts_for,
            "month": data.period,
            "answers": {k.value if hasattr(k, "value") else str(k): v for k, v in data.answers.items()},
            "modes": data.modes,
        }
        count(fact, 1)
        facts[data.return_id] = fact
    await replace_many(session, FftReturnFact, "return_id", [{"return_id": i, **f} for i, f in facts.items()])
    await increment_many(session, FftReturnCount, FFT_RETURN_COUNT, 2, [(*k, *v) for k, v in counts.items()])
