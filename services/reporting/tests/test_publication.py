"""nhse-fft-v1 on hand-worked hierarchies and generated ones: what each row shows, the
percentages, and the disclosure audit finding nothing recoverable in what is published
(the JSON rows and the CSV read back), while it does name what NHS England's rules alone
would leave recoverable."""

import os
import random

import pytest

from hub_shared.organisations import Kind, Organisation, Organisations
from reporting.rules import fft_csv
from reporting.rules.cross_output import ALL, all_months, publish_fft_views, published_view
from reporting.rules.disclosure_audit import audit
from reporting.rules.fft import ANSWERS, MODES, percentage, scores
from reporting.rules.publication import (
    OrgFigures,
    nhse_publication,
    publish_fft,
    publish_scorecard_counts,
    publish_themes,
    published_fft,
    trend_input,
    trend_rows,
)

pytestmark = pytest.mark.long(seconds=24)

# Generated ICS hierarchies for tests of the publication rules and the disclosure audit:
# many small counts, ties, places and an ICS that may themselves be suppressed.


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


def rows_by_code(rows: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["organisation_code"]: r for r in rows}


def test_percentages_round_half_away_from_zero_from_the_exact_fraction() -> None:
    assert percentage(1, 8) == 13 and percentage(5, 8) == 63  # round() would give 12 and 62
    assert percentage(1, 200) == 1 and percentage(2, 3) == 67 and percentage(1, 3) == 33
    assert percentage(0, 7) == 0 and percentage(0, 0) is None
    s = scores({"very_good": 1, "good": 0, "poor": 5, "very_poor": 0, "neither_good_nor_poor": 2})
    assert (s.pct_positive, s.pct_negative) == (13, 63)


def issue_example():  # type: ignore[no-untyped-def]
    a = practice("A", [9, 8, 0, 0, 1, 1])
    b = practice("B", [1, 2, 0, 0, 0, 0])
    c = practice("C", [0, 2, 0, 0, 0, 0])
    return parent("PL", [a, b, c])


def test_the_issues_example_stars_every_answer_of_b_and_c_and_nothing_can_be_worked_back() -> None:
    root = issue_example()
    table = publish_fft(organisations(root), root)
    rows = rows_by_code(table.rows)
    for code in ("B", "C"):
        assert rows[code]["suppression"] == "first-level"
        assert set(rows[code]["answers"].values()) == {"*"} and set(rows[code]["modes"].values()) == {"*"}
        assert rows[code]["pct_positive"] == "*" and rows[code]["pct_negative"] == "*"
    assert (rows["B"]["total"], rows["C"]["total"], rows["A"]["total"], rows["PL"]["total"]) == (3, 2, 19, 24)
    published = audit(published_fft(table.rows), intervals=True)
    assert published.findings == []
    lo, hi = published.intervals[("B", "very_good")]
    assert lo < hi  # B's very good is no longer 10 - 9 - 0
    assert table.audit.findings == []


def test_the_audit_names_what_nhs_englands_rules_alone_leave_recoverable() -> None:
    pub, cells = nhse_publication(issue_example())
    found = {f.key: f for f in audit(pub).findings}
    # PL and A show neither/poor = 0, so B's and C's are 0; A's and PL's very good and good
    # leave B + C exactly their five positive answers.
    assert found[("B", "neither_good_nor_poor")].reason == "revealed as zero by shown figures"
    assert ("C", "poor") in found and ("B", "mode_online") in found
    assert cells["B"].reason == cells["C"].reason == "first-level"


def test_suppressed_rows_show_the_total_and_their_percentages_unless_first_level() -> None:
    # P1 has 2 responses (first level); P2 and P3 tie on 6: the lower ODS code is rank 2.
    p1 = practice("P1", [1, 1, 0, 0, 0, 0])
    p2 = practice("P2", [3, 1, 1, 1, 0, 0])
    p3 = practice("P3", [2, 2, 0, 1, 1, 0])
    p4 = practice("P4", [40, 20, 6, 5, 4, 3])
    root = parent("PL", [p1, p3, p2, p4])
    _pub, cells = nhse_publication(root)
    assert [cells[c].reason for c in ("P1", "P2", "P3", "P4")] == ["first-level", "second-level", None, None]
    rows = rows_by_code(publish_fft(organisations(root), root).rows)
    assert rows["P2"]["total"] == 6 and set(rows["P2"]["answers"].values()) == {"*"}
    assert rows["P1"]["pct_positive"] == "*"
    assert rows["P2"]["pct_positive_excl_dont_know"] == "*"
    # NHS England keeps a second-level row's percentages, unless the audit must take them.
    assert rows["P2"]["pct_positive"] == 67 or "pct_positive" in rows["P2"]["extra_suppression"]
    assert rows["P4"]["answers"]["very_good"] == 40 or "very_good" in rows["P4"]["extra_suppression"]


def test_a_practice_whose_percentages_pin_its_answers_gets_extra_stars() -> None:
    # The dashboard's case: total 6, 67% positive, 33% negative, Poor the only negative.
    x = practice("X", [3, 1, 0, 2, 0, 0])
    y = practice("Y", [1, 1, 0, 0, 0, 0])
    z = practice("Z", [20, 10, 3, 2, 1, 1])
    root = parent("PL", [x, y, z])
    before = {f.key for f in audit(nhse_publication(root)[0]).findings}
    assert ("X", "neither_good_nor_poor") in before
    table = publish_fft(organisations(root), root)
    published = audit(published_fft(table.rows), intervals=True)
    assert published.findings == []
    assert published.intervals[("X", "poor")][0] < published.intervals[("X", "poor")][1]
    assert table.extra_suppression  # labelled on the output


@pytest.mark.parametrize("seed", range(25))
def test_generated_icss_publish_nothing_recoverable_in_json_or_csv(seed: int) -> None:
    root = generated_ics(seed, places=3, practices=5, scale=5 + seed % 4)
    orgs = organisations(root)
    table = publish_fft(orgs, root)
    assert table.audit.findings == []
    assert audit(published_fft(table.rows), intervals=True).findings == []
    back = fft_csv.read(fft_csv.write(table.rows, orgs, "2025-03"))
    assert audit(published_fft(back), intervals=True).findings == []
    _, cells = nhse_publication(root)
    for row in table.rows:
        assert isinstance(row["total"], int)
        if cells[row["organisation_code"]].suppressed:
            assert set(row["answers"].values()) == {"*"}
        else:
            shown = {a for a, v in row["answers"].items() if v != "*"}
            assert shown | set(row["extra_suppression"]) >= set(ANSWERS)


def test_a_suppressed_ics_and_places() -> None:
    tiny = [practice(f"P{i}", [1, 0, 0, 0, 0, 0] if i % 2 else [0, 0, 0, 1, 0, 0]) for i in range(4)]
    root = parent("QZZ", [parent("01A", tiny[:2]), parent("02B", tiny[2:])])
    table = publish_fft(organisations(root), root)
    rows = rows_by_code(table.rows)
    assert rows["QZZ"]["suppression"] == rows["01A"]["suppression"] == "first-level"
    assert rows["QZZ"]["total"] == 4 and set(rows["QZZ"]["answers"].values()) == {"*"}
    assert audit(published_fft(table.rows), intervals=True).findings == []


def test_the_dashboard_trend_beside_a_table_is_audited_with_it() -> None:
    x = practice("X", [2, 3, 0, 1, 0, 0])
    root = parent("PL", [x, practice("Y", [1, 0, 0, 0, 0, 0]), practice("Z", [9, 9, 1, 1, 1, 1])])
    months = {"2025-01": dict(zip(ANSWERS, [1, 2, 0, 0, 0, 0], strict=True))}
    months["2025-02"] = dict(zip(ANSWERS, [1, 1, 0, 1, 0, 0], strict=True))
    table = publish_fft(organisations(root), root, trend_input("X", months, "all"))
    assert table.audit.findings == []


def test_themes_across_months_close_what_subtraction_would_reveal() -> None:
    # access: 7 overall = 3 (Jan, starred) + 4 (Feb): Feb shown would give Jan away.
    _overall, shown_months, pub, report = publish_themes(
        {"access": 7, "staff": 30},
        {"2025-01": {"access": 3, "staff": 12}, "2025-02": {"access": 4, "staff": 18}},
        None,
    )
    assert report.findings == [] and audit(pub, intervals=True).findings == []
    assert shown_months["2025-01"]["access"] == "*" and shown_months["2025-02"]["access"] == "*"


def test_scorecard_counts_are_audited() -> None:
    shown, pub, report = publish_scorecard_counts({"fft_sms": 40, "ppg_meeting": 2, "online_comment": 9}, 51, 0)
    assert shown["channel:ppg_meeting"] == "*" and report.findings == []
    assert audit(pub, intervals=True).findings == []


def test_an_organisation_list_with_names() -> None:
    orgs = Organisations([Organisation("QZZ", "Demo ICB", Kind.ICB, None, None)])
    table = publish_fft(orgs, practice("QZZ", [0, 0, 0, 0, 0, 0]))
    assert table.rows[0]["name"] == "Demo ICB" and table.rows[0]["pct_positive"] is None
    assert "NA" in fft_csv.write(table.rows, orgs, None)


# Disclosure across outputs: a reader with the same rights puts side by side each month's
# table and the all-months one, the ICB's table and each place's and practice's own, and the
# trend by month (the dashboard and the CSV show the same rows).


def split_over_months(
    root: OrgFigures, seed: int, months: tuple[str, ...] = ("2025-01", "2025-02")
) -> dict[str, OrgFigures]:
    """The same ICS with each practice's responses (an answer and the mode it came by) split
    at random over ``months``."""
    rng = random.Random(seed)

    def split(node: OrgFigures) -> list[OrgFigures]:
        if not node.children:
            answers, modes = [[0] * 6 for _ in months], [[0] * 5 for _ in months]
            given = [i for i, a in enumerate(ANSWERS) for _ in range(node.answers[a])]
            came = [i for i, m in enumerate(MODES) for _ in range(node.modes[m])]
            rng.shuffle(came)
            for answer, mode in zip(given, came, strict=True):
                month = rng.randrange(len(months))
                answers[month][answer] += 1
                modes[month][mode] += 1
            return [practice(node.code, answers[k], modes[k]) for k in range(len(months))]
        kids = [split(c) for c in node.children]
        return [parent(node.code, [k[i] for k in kids]) for i in range(len(months))]

    return dict(zip(months, split(root), strict=True))


def nodes(root: OrgFigures) -> dict[str, OrgFigures]:
    return {root.code: root, **{k: v for c in root.children for k, v in nodes(c).items()}}


def each_output_alone(orgs: Organisations, months: dict[str, OrgFigures]) -> tuple[list, dict]:  # type: ignore[type-arg]
    """Every table and trend as published when each output is audited alone."""
    total = all_months(months)
    tables = []
    for label, root in [*months.items(), (ALL, total)]:
        tables += [(label, publish_fft(orgs, node).rows) for node in nodes(root).values()]
    trends = {
        code: trend_rows({m: nodes(r)[code].answers for m, r in months.items() if nodes(r)[code].total})
        for code in nodes(total)
    }
    return tables, trends


def views_as_published(orgs: Organisations, months: dict[str, OrgFigures]) -> tuple[list, dict]:  # type: ignore[type-arg]
    """Every table and trend as reporting now publishes them: views of one audited set."""
    views = publish_fft_views(orgs, months)
    codes = list(nodes(all_months(months)))
    tables = [(label, views.table(code, label).rows) for label in [*months, ALL] for code in codes]
    return tables, {code: views.trend(code) for code in codes}


def recoverable(tables: list, trends: dict, months: list[str]) -> tuple[int, int, list]:  # type: ignore[type-arg]
    """(starred counts, recoverable ones, findings) over everything a reader can combine."""
    report = audit(published_view(tables, trends, months), intervals=True)
    return report.checked, len(report.findings), report.findings


def test_outputs_audited_alone_leak_when_put_side_by_side() -> None:
    # What the audit of each output alone left: a month's starred cell is "all months" minus
    # the other month, a practice starred in the ICB's table is shown in its place's table.
    root = generated_ics(1, places=2, practices=4, scale=6)
    months = split_over_months(root, 1)
    tables, trends = each_output_alone(organisations(root), months)
    _checked, found, findings = recoverable(tables, trends, list(months))
    assert found > 0 and any(f.key[0].endswith("@2025-01") for f in findings)


# A few seeds in `make test`; `make fuzz` sweeps many more, over bigger ICSs.
SWEEP = int(os.environ.get("HUB_DISCLOSURE_SEEDS", "1"))
SWEEP_SIZE = (3, 5) if SWEEP > 2 else (2, 3)


@pytest.mark.parametrize("seed", range(SWEEP))
def test_no_starred_cell_is_recoverable_from_any_combination_of_outputs(seed: int) -> None:
    root = generated_ics(seed, places=SWEEP_SIZE[0], practices=SWEEP_SIZE[1], scale=5 + seed % 4)
    orgs = organisations(root)
    months = split_over_months(root, seed)
    tables, trends = views_as_published(orgs, months)
    checked, found, findings = recoverable(tables, trends, list(months))
    assert checked > 0 and found == 0, findings[:5]
    # The CSV shows the same rows: read back, side by side with everything else, still nothing.
    back = [(label, fft_csv.read(fft_csv.write(rows, orgs, None if label == ALL else label))) for label, rows in tables]
    assert recoverable(back, trends, list(months))[1] == 0
    # Every output agrees: a row is starred the same wherever it appears.
    seen: dict[tuple[str, str], dict] = {}  # type: ignore[type-arg]
    for label, rows in tables:
        for row in rows:
            key = (label, row["organisation_code"])
            assert seen.setdefault(key, row)["answers"] == row["answers"]
