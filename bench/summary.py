"""One table of every benchmark figure beside its same-run baseline and its target, read
from bench/results/*.json (what `make bench` / `make bench-quick` just wrote).

    .venv/bin/python -m bench.summary

A figure a benchmark did not measure is shown as such, never filled in."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str
    met: bool | None


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "not measured"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:,.1f}{unit}"


def _ratio_row(
    figure: str, value: float | None, baseline: float | None, unit: str, target: str, ok: Callable[[float, float], bool]
) -> Row:
    if value is None or not baseline:
        return Row(figure, _num(value, unit), _num(baseline, unit), "", target, None)
    return Row(figure, _num(value, unit), _num(baseline, unit), f"{value / baseline:.3f}x", target, ok(value, baseline))


def rows() -> list[Row]:
    intake, reporting, month = _load("intake"), _load("reporting"), _load("national_month")
    out = [
        _ratio_row(
            "single POST /v1/feedback",
            intake.get("intake_posts_per_s"),
            intake.get("bare_fastapi_posts_per_s"),
            " req/s",
            ">= 0.40x bare endpoint",
            lambda v, b: v / b >= 0.40,
        ),
        _ratio_row(
            "batch POST",
            intake.get("intake_batch_items_per_s"),
            intake.get("bare_batch_items_per_s"),
            " items/s",
            ">= 0.15x bare batch endpoint",
            lambda v, b: v / b >= 0.15,
        ),
    ]
    raw = reporting.get("raw_copy_rows_per_s")
    for figure, key in (("live consumer (reporting)", "live_consumer_events_per_s"), ("replay", "replay_events_per_s")):
        out.append(
            _ratio_row(
                figure,
                reporting.get(key),
                raw,
                " ev/s",
                ">= 10,000/s and >= 0.25x COPY",
                lambda v, b: v >= 10_000 and v / b >= 0.25,
            )
        )
    out.append(
        _ratio_row(
            "outbox relay",
            reporting.get("relay_rows_per_s"),
            reporting.get("bare_producer_rows_per_s"),
            " rows/s",
            ">= 20,000 rows/s",
            lambda v, b: v >= 20_000,
        )
    )
    if month:
        n, seconds = month["responses"], month["hub_seconds"]
        scaled = seconds * 2_000_000 / n
        note = "" if n == 2_000_000 else f" (2,000,000 at this rate: {scaled:,.0f} s)"
        out.append(
            Row(
                f"national month, {n:,} responses{note}",
                f"{seconds:,.1f} s",
                f"raw {month['raw_limit_seconds']:,.1f} s",
                f"{month['ratio_raw_to_hub']:.3f} raw/hub",
                "2,000,000 in <= 240 s",
                scaled <= 240,
            )
        )
        peak = max(month.get("peak_rss_mb", {}).values(), default=None)
        out.append(
            Row(
                "peak RSS of any hub process",
                _num(peak, " MB"),
                "",
                "",
                "< 250 MB",
                None if peak is None else peak < 250,
            )
        )
    else:
        out.append(Row("national month", "not measured", "", "", "2,000,000 in <= 240 s", None))
    p50, p99 = intake.get("loaded_end_to_end_p50_ms"), intake.get("loaded_end_to_end_p99_ms")
    rate = intake.get("loaded_rate_achieved_per_s")
    out.append(
        Row(
            f"POST -> visible in reporting at {_num(rate, ' req/s')}",
            f"p50 {_num(p50, ' ms')}, p99 {_num(p99, ' ms')}",
            "",
            "",
            "p50 < 50 ms, p99 < 250 ms at 500 req/s",
            None if p50 is None or p99 is None or rate is None else p50 < 50 and p99 < 250 and rate >= 490,
        )
    )
    for name, figures in (reporting.get("query_latency") or {}).items():
        p95, warm = figures.get("p95_ms"), figures.get("warm_p95_ms")
        loaded = reporting.get("events_loaded")
        out.append(
            Row(
                f"report p95, cold: {name}",
                _num(p95, " ms"),
                f"warm {_num(warm, ' ms')}" + (f", {loaded:,} events" if loaded else ""),
                "",
                "cold < 50 ms at 1,000,000 events",
                # Below 1,000,000 events loaded the figure says nothing of the target.
                None if p95 is None or (loaded or 0) < 1_000_000 else p95 < 50,
            )
        )
    return out


def main() -> None:
    table = rows()
    headings = ("figure", "measured", "baseline (same run)", "ratio", "target", "met")
    cells = [
        (r.figure, r.value, r.baseline, r.ratio, r.target, {True: "yes", False: "NO", None: "-"}[r.met]) for r in table
    ]
    widths = [max(len(str(c[i])) for c in [headings, *cells]) for i in range(len(headings))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*headings))
    print(line.format(*("-" * w for w in widths)))
    for c in cells:
        print(line.format(*c))


if __name__ == "__main__":
    main()
