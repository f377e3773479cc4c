"""Disclosure across outputs: what a reader can recover, and how long publishing takes.

* Recoverable cells: generated ICSs (reporting's test generators: small practices, many
  counts of 1 to 4, ties) with their responses split over two months; every FFT table (each
  month's, all months', of the ICB and of every place and practice) and every trend put side
  by side, as an attacker's integer programme over all of them sees them (``published_view``).
  Baseline: each output published and audited alone. The same for the membership scorecards
  of the ICB, every place and practice.
* Time to publish (``publish_fft_views``: NHS England's rules and the joint audit over every
  table) from scratch and from the cache of published results, at the demo ICS's size (3
  places of 10 small practices, two months) and at a realistic ICS's (6 places of 25 practices
  of mostly hundreds of responses a month, one in ten small, two months); and the themes
  report's publication (20 themes over 24 months). Wall time and CPU time (the machine may
  be shared: CPU time is what the work costs).

    .venv/bin/python -m bench.disclosure [--icss 10] [--runs 20]

Prints figures; never fails on a time."""

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reporting.rules import cross_output, publication, published

# The generated ICSs are the tests' own, so the bench measures what the tests prove.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services" / "reporting" / "tests"))
from test_membership_measures import generated_membership, side_by_side
from test_publication import (
    each_output_alone,
    generated_ics,
    organisations,
    parent,
    practice,
    recoverable,
    split_over_months,
    views_as_published,
)


def fft_recoverable(icss: int) -> None:
    totals = {"alone": [0, 0], "together": [0, 0]}
    for seed in range(icss):
        root = generated_ics(seed, places=3, practices=5, scale=5 + seed % 4)
        months = split_over_months(root, seed)
        orgs = organisations(root)
        for name, outputs in (("alone", each_output_alone), ("together", views_as_published)):
            tables, trends = outputs(orgs, months)
            checked, found, _ = recoverable(tables, trends, list(months))
            totals[name][0] += checked
            totals[name][1] += found
    for name, (checked, found) in totals.items():
        print(f"  FFT, each output {name:<8}  {found:5d} of {checked:5d} starred cells recoverable")
    members = {name: [0, 0] for name in ("alone", "together")}
    for seed in range(icss):
        for name in members:
            checked, found = side_by_side(generated_membership(seed), alone=name == "alone")
            members[name][0] += checked
            members[name][1] += found
    for name, (checked, found) in members.items():
        print(f"  membership, each {name:<8}  {found:5d} of {checked:5d} starred counts recoverable")


def realistic_months(seed: int, places: int, practices: int, months: int) -> dict[str, Any]:
    """Practices of mostly hundreds of responses a month (log-normal), one in ten small."""
    rng = random.Random(seed)
    weights = [55, 25, 7, 5, 5, 3]
    labels = [f"2025-{m + 1:02d}" if m < 12 else f"2026-{m - 11:02d}" for m in range(months)]
    by_month: dict[str, list[Any]] = {m: [] for m in labels}
    for p in range(places):
        kids: dict[str, list[Any]] = {m: [] for m in labels}
        for q in range(practices):
            small = rng.random() < 0.1
            for m in labels:
                size = rng.randint(0, 12) if small else int(rng.lognormvariate(4.5, 0.8))
                answers, modes = [0] * 6, [0] * 5
                for _ in range(size):
                    answers[rng.choices(range(6), weights)[0]] += 1
                    modes[rng.randrange(5)] += 1
                kids[m].append(practice(f"P{p}{q:03d}", answers, modes))
        for m in labels:
            by_month[m].append(parent(f"{p:02d}X", kids[m]))
    return {m: parent("QZZ", v) for m, v in by_month.items()}


def timed(work: Callable[[], Any], runs: int, cold: Callable[[], None] | None) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(runs):
        if cold:
            cold()
        w, c = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return wall, cpu


def report(name: str, wall: list[float], cpu: list[float]) -> None:
    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    print(
        f"  {name:<44} wall p50 {p(wall, 50) * 1e3:9.1f} ms  p95 {p(wall, 95) * 1e3:9.1f} ms"
        f"   cpu p50 {p(cpu, 50) * 1e3:9.1f} ms  p95 {p(cpu, 95) * 1e3:9.1f} ms"
    )


def speed(runs: int) -> None:
    demo_root = generated_ics(0, places=3, practices=10, scale=6)
    demo = (organisations(demo_root), split_over_months(demo_root, 0))
    real = realistic_months(0, 6, 25, 2)
    real_orgs = organisations(real["2025-01"])
    rng = random.Random(0)
    themes = [f"theme_{i}" for i in range(20)]
    by_month = {f"2025-{m:02d}": {t: rng.choice([0, 1, 2, 3, 6, 20, 90]) for t in themes} for m in range(1, 13)}
    by_month |= {f"2026-{m:02d}": {t: rng.choice([0, 1, 2, 3, 6, 20, 90]) for t in themes} for m in range(1, 13)}
    overall = {t: sum(c[t] for c in by_month.values()) for t in themes}

    cases: list[tuple[str, Callable[[], Any], int]] = [
        ("FFT views, demo size, 2 months", lambda: cross_output.publish_fft_views(*demo), max(3, runs // 4)),
        ("FFT views, realistic ICS, 2 months", lambda: cross_output.publish_fft_views(real_orgs, real), 3),
        ("themes, 20 themes x 24 months", lambda: publication.publish_themes(overall, by_month, None), runs),
    ]
    for name, work, cold_runs in cases:
        report(f"{name}, from scratch", *timed(work, cold_runs, published.forget))
        report(f"{name}, published before", *timed(work, runs, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--icss", type=int, default=10, help="generated ICSs for the recoverable-cell counts")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case")
    parser.add_argument("--only", choices=["recoverable", "speed"])
    args = parser.parse_args()
    if args.only != "speed":
        print(f"Recoverable across outputs, {args.icss} generated ICSs over two months:")
        fft_recoverable(args.icss)
    if args.only != "recoverable":
        print("Time to publish:")
        speed(args.runs)


if __name__ == "__main__":
    main()
