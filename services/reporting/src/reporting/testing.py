"""Generated ICS hierarchies for tests of the publication rules and the disclosure audit:
many small counts, ties, places and an ICS that may themselves be suppressed."""

import random

from hub_shared.organisations import Kind, Organisation, Organisations
from reporting.fft import ANSWERS
from reporting.publication import MODES, OrgFigures


def practice(code: str, answers: list[int], modes: list[int] | None = None) -> OrgFigures:
    total = sum(answers)
    return OrgFigures(
        code,
        dict(zip(ANSWERS, answers, strict=True)),
        dict(zip(MODES, modes if modes is not None else [total, 0, 0, 0, 0], strict=True)),
    )


def parent(code: str, children: list[OrgFigures], own: list[int] | None = None) -> OrgFigures:
    answers = {a: sum(c.answers[a] for c in children) for a in ANSWERS}
    modes = {m: sum(c.modes[m] for c in children) for m in MODES}
    for a, n in zip(ANSWERS, own or [0] * 6, strict=True):
        answers[a] += n
        modes["other"] += n
    return OrgFigures(code, answers, modes, children)


def organisations(root: OrgFigures) -> Organisations:
    found: list[Organisation] = []

    def walk(node: OrgFigures, up: str | None, depth: int) -> None:
        kind = [Kind.ICB, Kind.PLACE, Kind.PRACTICE][min(depth, 2)]
        found.append(Organisation(node.code, f"Organisation {node.code}", kind, up, None))
        for child in node.children:
            walk(child, node.code, depth + 1)

    walk(root, None, 0)
    return Organisations(found)


def generated_ics(seed: int, places: int = 3, practices: int = 6, scale: int = 6) -> OrgFigures:
    """An ICS of small practices: answers drawn from the national shape, a few totals of 1 to
    4, some equal totals (ties), some practices with nothing, modes spread over channels."""
    rng = random.Random(seed)
    weights = [55, 25, 7, 5, 5, 3]
    place_nodes = []
    for p in range(places):
        kids = []
        for q in range(practices):
            size = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, scale, scale, 2 * scale, 3 * scale])
            answers = [0] * 6
            for _ in range(size):
                answers[rng.choices(range(6), weights)[0]] += 1
            modes = [0] * 5
            for _ in range(size):
                modes[rng.randrange(5)] += 1
            kids.append(practice(f"P{p}{q:02d}", answers, modes))
        if rng.random() < 0.3 and len(kids) > 1:  # a tie in totals
            kids[1] = practice(kids[1].code, list(kids[0].answers.values()), list(kids[0].modes.values()))
        place_nodes.append(parent(f"{p:02d}X", kids))
    return parent("QZZ", place_nodes)
