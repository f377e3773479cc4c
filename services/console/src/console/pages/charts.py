"""The geometry of the Reports area's visuals, drawn as inline SVG by the templates (no
script, no third-party code, no inline styles: the policy forbids them): the line chart of
% positive by month, the horizontal bars beside theme and band tables, and the nesting of a
place's practices under it in the FFT table. Pure functions of the API's figures; a
withheld figure ("*") is never drawn as a value."""

import math
from typing import Any

WITHHELD = "*"
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def month_label(month: str, *, long: bool = False) -> str:
    """``2025-06`` → ``Jun 25`` (``June 2025`` when long)."""
    year, number = month.split("-")
    if long:
        full = ["January", "February", "March", "April", "May", "June", "July", "August", "September"]
        full += ["October", "November", "December"]
        return f"{full[int(number) - 1]} {year}"
    return f"{MONTH_NAMES[int(number) - 1]} {year[2:]}"


def line_chart(series: list[dict[str, Any]], months: list[str]) -> dict[str, Any]:
    """An SVG line chart of % positive by month: y from 0 to 100 %, one line per series
    (``{"label", "css", "points": [{"month", "pct_positive"}]}``), broken where a month is
    withheld or has no answers, withheld months marked *. The viewBox is narrow enough that
    its text stays legible when the chart is scaled down to a phone's width."""
    width, height = 480, 300
    left, right, top, bottom = 68, 36, 28, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(months))
    step = plot_w / (n - 1) if n > 1 else 0

    def x(i: int) -> float:
        return round(left + (i * step if n > 1 else plot_w / 2), 1)

    def y(v: float) -> float:
        return round(top + plot_h * (1 - v / 100), 1)

    label_every = max(1, math.ceil(n / 5))
    lines = []
    for s in series:
        by_month = {p["month"]: p["pct_positive"] for p in s["points"]}
        segments: list[list[tuple[float, float]]] = [[]]
        points, withheld = [], []
        for i, month in enumerate(months):
            value = by_month.get(month)
            if isinstance(value, int | float) and not isinstance(value, bool):
                segments[-1].append((x(i), y(value)))
                points.append({"x": x(i), "y": y(value), "value": value, "month": month})
            else:
                if segments[-1]:
                    segments.append([])
                if value == WITHHELD:
                    withheld.append({"x": x(i), "month": month})
        paths = [" ".join(f"{'M' if j == 0 else 'L'}{px},{py}" for j, (px, py) in enumerate(seg)) for seg in segments]
        lines.append({**s, "paths": [p for p in paths if p], "points": points, "withheld": withheld})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "y_ticks": [{"y": y(v), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)],
        "x_ticks": [
            {"x": x(i), "label": month_label(m)} for i, m in enumerate(months) if i % label_every == 0 or i == n - 1
        ],
        "lines": lines,
    }


def bar_widths(values: list[Any], *, scale: float | None = None) -> list[float | None]:
    """Each value's bar as a share (0-100) of the largest (or of ``scale``); None for a
    withheld or missing value, which gets no bar."""
    shown = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    most = scale if scale is not None else max(shown, default=0)
    return [
        (round(100 * v / most, 1) if most else 0.0) if isinstance(v, int | float) and not isinstance(v, bool) else None
        for v in values
    ]


def nested_rows(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """The FFT table's rows with each organisation's children right under it, siblings
    sorted by ``sort`` (``name``, ``total`` or ``pct_positive``; withheld and empty values
    last), each with its ``depth`` for indenting."""

    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        value = row["name"] if sort == "name" else row.get(sort)
        missing = not isinstance(value, int | str) or value == WITHHELD
        return (missing, value if not missing else 0)

    children: dict[str | None, list[dict[str, Any]]] = {}
    codes = {r["organisation_code"] for r in rows}
    for row in rows:
        up = row["parent"] if row["parent"] in codes else None
        children.setdefault(up, []).append(row)
    out: list[dict[str, Any]] = []

    def walk(up: str | None, depth: int) -> None:
        present = [r for r in children.get(up, []) if not key(r)[0]]
        absent = [r for r in children.get(up, []) if key(r)[0]]
        for row in sorted(present, key=key, reverse=descending) + sorted(absent, key=lambda r: r["name"]):
            out.append({**row, "depth": depth})
            walk(row["organisation_code"], depth + 1)

    walk(None, 0)
    return out
