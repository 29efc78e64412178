"""What the trace inspector shows, as rich renderables: the timeline, units, layers, energy.

The same functions feed ``pimsim trace FILE --summary`` (printed) and the interactive app (inside
textual widgets), so both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.table import Table
from rich.text import Text

from pimsim.traceformat.reader import TraceData

PALETTE = (
    "red",
    "green",
    "blue",
    "magenta",
    "cyan",
    "yellow",
    "bright_red",
    "bright_green",
    "bright_blue",
    "bright_magenta",
    "bright_cyan",
    "orange3",
    "purple",
    "turquoise2",
)
UNIT_SORTS = ("utilisation", "busy", "stall", "name")


@dataclass(frozen=True)
class Filters:
    """What the views are restricted to."""

    layer: str | None = None
    image: int | None = None
    macro: int | None = None


def _stalls(data: TraceData) -> dict[str, dict[str, float]]:
    units = (data.summary or {}).get("units") or []
    return {u.get("name", ""): u.get("stall_ns") or {} for u in units}


def units_table(
    data: TraceData, f: Filters = Filters(), sort: str = "utilisation", limit: int | None = None
) -> Table:
    """Every unit: busy time, utilisation over the run, slices, stall time by cause."""
    keep = data.mask(f.layer, f.image, f.macro)
    busy = data.busy_by_track(keep)
    slices = np.bincount(data.track[keep], minlength=len(data.tracks))
    total_ns = max(data.end_us * 1e3, 1e-9)
    stalls = _stalls(data)
    causes = sorted({c for s in stalls.values() for c in s})
    rows = []
    for t in data.tracks:
        if f.macro is not None and t.macro != f.macro:
            continue
        stall = stalls.get(t.label, {})
        rows.append(
            (
                t.label,
                float(busy[t.index]),
                float(busy[t.index]) / total_ns,
                int(slices[t.index]),
                sum(stall.values()),
                stall,
            )
        )
    key = {
        "utilisation": lambda r: -r[2],
        "busy": lambda r: -r[1],
        "stall": lambda r: -r[4],
        "name": lambda r: r[0],
    }[sort]
    rows.sort(key=key)
    table = Table(title=f"units (sorted by {sort})", title_justify="left")
    for header in (
        "unit",
        "busy",
        "utilisation",
        "slices",
        "stall",
        *(f"stall: {c}" for c in causes),
    ):
        table.add_column(header, justify="left" if header == "unit" else "right")
    for name, b, u, n, s, stall in rows[:limit]:
        table.add_row(
            name,
            f"{b / 1e3:,.1f} us",
            f"{100 * u:.1f}%",
            f"{n:,}",
            f"{s / 1e3:,.1f} us" if s else "",
            *(f"{stall.get(c, 0) / 1e3:,.1f} us" if stall.get(c) else "" for c in causes),
        )
    return table


def layers_table(data: TraceData, f: Filters = Filters()) -> Table:
    """Per layer: first start, last finish, busy time, and its bottleneck (from the summary)."""
    spans = data.layer_spans(data.mask(None, f.image, f.macro))
    info = {row.get("name"): row for row in (data.summary or {}).get("layers") or []}
    table = Table(title="layers", title_justify="left")
    for header in ("layer", "start", "finish", "busy", "bottleneck", "utilisation"):
        table.add_column(header, justify="left" if header in ("layer", "bottleneck") else "right")
    for name in data.layers:
        if f.layer and name != f.layer or name not in spans:
            continue
        start, end = spans[name]
        rows = data.layer == data.layers.index(name)
        summary = info.get(name, {})
        util = summary.get("utilisation")
        table.add_row(
            name,
            f"{start:,.2f} us",
            f"{end:,.2f} us",
            f"{data.busy_ns[rows].sum() / 1e3:,.1f} us",
            str(summary.get("bottleneck", "")),
            f"{100 * util:.1f}%" if isinstance(util, (int, float)) else "",
        )
    return table


def energy_table(data: TraceData) -> Table:
    """Energy per image by component (from the summary), with percentages."""
    energy = (data.summary or {}).get("energy_pj") or {}
    total = sum(energy.values()) or 1.0
    table = Table(title="energy per image", title_justify="left")
    for header in ("component", "energy", "%"):
        table.add_column(header, justify="left" if header == "component" else "right")
    for comp, pj in sorted(energy.items(), key=lambda kv: -kv[1]):
        table.add_row(str(comp), f"{pj / 1e6:,.4g} uJ", f"{100 * pj / total:.1f}")
    if not energy:
        table.add_row("(no summary.json beside the trace)", "", "")
    return table


def header(data: TraceData) -> Text:
    """One line about the run."""
    s = data.summary or {}
    parts = [str(data.path.name)]
    for key, label in (("arch", "arch"), ("network", "network"), ("images", "images")):
        if key in s:
            parts.append(f"{label} {s[key]}")
    parts.append(
        f"{data.end_us:,.1f} us simulated, {len(data.track):,} slices, {len(data.tracks)} units"
    )
    return Text(" | ".join(parts), style="bold")


def timeline(
    data: TraceData, f: Filters, t0_us: float, t1_us: float, width: int, max_rows: int | None = None
) -> Text:
    """One row per unit over ``[t0, t1)``: each column shows the layer that kept the unit busiest
    there (a letter in the layer's colour), '.' where it idled."""
    keep = data.mask(f.layer, f.image, f.macro)
    span = max(t1_us - t0_us, 1e-9)
    cols = max(width, 1)
    out = Text()
    names = data.layers
    legend = Text("  ".join(f"{_letter(i)}={n}" for i, n in enumerate(names[:26])))
    tracks = [t for t in data.tracks if f.macro is None or t.macro == f.macro]
    grid = np.arange(cols + 1, dtype=float)
    for t in tracks[:max_rows]:
        rows = keep & (data.track == t.index)
        a = (data.start_us[rows] - t0_us) / span * cols
        b = a + data.dur_us[rows] / span * cols
        vis = (b > 0) & (a < cols)
        a, b, lay = np.clip(a[vis], 0, cols), np.clip(b[vis], 0, cols), data.layer[rows][vis]
        busy = _coverage(np.sort(a), np.sort(b), grid)
        mid = np.minimum(((a + b) / 2).astype(int), cols - 1)
        weight = np.zeros((cols, max(len(names), 1)))
        np.add.at(weight, (mid, lay), b - a + 1e-12)
        label = f"{t.label[:22]:<22} "
        out.append(label, style="bold")
        for c in range(cols):
            if busy[c] <= 1e-9:
                out.append(".", style="grey35")
                continue
            i = int(weight[c].argmax()) if weight[c].any() else _nearest(mid, lay, c)
            style = PALETTE[i % len(PALETTE)] + ("" if busy[c] > 0.5 else " dim")
            out.append(_letter(i), style=style)
        out.append("\n")
    out.append(f"{'':23}{t0_us:,.2f} us{'':>{max(cols - 24, 1)}}{t1_us:,.2f} us\n", style="dim")
    out.append_text(legend)
    return out


def _coverage(a: np.ndarray, b: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Busy fraction of each column: the integral of the number of open slices over the column
    (slices [a, b) in column units; a and b each sorted), via G(x) = sum clip(x - a, 0, b - a)."""
    if not len(a):
        return np.zeros(len(grid) - 1)
    ca, sa = np.searchsorted(a, grid), np.concatenate([[0.0], np.cumsum(a)])
    cb, sb = np.searchsorted(b, grid), np.concatenate([[0.0], np.cumsum(b)])
    g = (grid * ca - sa[ca]) - (grid * cb - sb[cb])
    return np.diff(g)


def _nearest(mid: np.ndarray, lay: np.ndarray, c: int) -> int:
    return int(lay[int(np.argmin(np.abs(mid - c)))]) if len(lay) else 0


def _letter(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[i % 52]
