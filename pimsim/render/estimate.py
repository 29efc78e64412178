"""Rich tables for a :class:`CostReport`: summary, per-layer stages with the bottleneck, breakdowns."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.console import Group
from rich.table import Table

from pimsim.model.estimate import CostReport
from pimsim.render.text import ns_text


def _ns(value: float) -> str:
    return ns_text(value, 3)


def summary_table(r: CostReport) -> Table:
    """The headline figures."""
    hw = r.hardware
    t = Table(
        title=f"{r.arch}" + (f" running {r.network}" if r.network else " (hardware only)"),
        title_justify="left",
        show_header=False,
    )
    t.add_column("figure")
    t.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("crossbars", f"{hw.crossbars:,}"),
        ("peak power", f"{hw.total_peak_power_w:.4g} W"),
        (
            "area",
            f"{hw.total_area_mm2:.4g} mm^2"
            if not hw.area_unknown_parts
            else f"{hw.total_area_mm2:.4g} mm^2 + {len(hw.area_unknown_parts)} parts of unknown area",
        ),
        ("peak throughput", f"{hw.peak_tops:.4g} TOPS"),
        ("peak power efficiency", f"{hw.peak_tops_per_w:.4g} TOPS/W"),
    ]
    if r.network:
        rows += [
            ("pipeline period", f"{_ns(r.period_ns)} (set by {r.period_set_by})"),
            ("throughput", f"{r.throughput_ips:.4g} images/s = {r.tops:.4g} TOPS"),
            ("latency (one image)", _ns(r.latency_ns)),
            ("energy per image", f"{r.energy_per_image_pj / 1e6:.4g} uJ"),
            ("average power", f"{r.average_power_w:.4g} W"),
            ("effective power efficiency", f"{r.tops_per_w:.4g} TOPS/W"),
            (
                "compute floor",
                f"{r.floor_total_pj / 1e6:.4g} uJ (crossbar reads, DAC and ADC conversions); "
                f"{100 * r.above_floor_share(r.floor_pj):.1f}% of the energy is above it",
            ),
        ]
    for name, value in rows:
        t.add_row(name, value)
    return t


STAGE_COLUMNS = (
    "load",
    "mvm",
    "adc",
    "shift_add",
    "add",
    "activation",
    "sigmoid",
    "pool",
    "eltwise",
    "store",
)


def layer_table(r: CostReport) -> Table:
    """Per layer: placement, stage times per block (the bottleneck in bold), time per image."""
    used = [s for s in STAGE_COLUMNS if any(s in lr.stage_ns for lr in r.layers)]
    t = Table(
        title="per layer (stage times per block; bottleneck in bold)",
        title_justify="left",
        caption="s+a: shift-and-add; act: activation; elt: element-wise; period: block period",
        caption_justify="left",
    )
    short = {"shift_add": "s+a", "activation": "act", "sigmoid": "sigm", "eltwise": "elt"}
    for header in (
        "layer",
        "kind",
        "macros",
        "dup",
        "blocks",
        *(short.get(u, u) for u in used),
        "period",
        "t/image",
        "start",
        "finish",
        "energy",
    ):
        t.add_column(
            header,
            justify="left" if header in ("layer", "kind") else "right",
            no_wrap=True,
            overflow="ellipsis",
            min_width=8 if header == "layer" else None,
            max_width=24,
        )
    for lr in r.layers:
        cells = []
        for s in used:
            v = lr.stage_ns.get(s)
            text = "" if v is None else _ns(v)
            hit = s == lr.bottleneck or (lr.bottleneck == "buffer" and s in ("load", "store"))
            cells.append(f"[bold]{text}[/]" if hit and text else text)
        t.add_row(
            lr.name,
            lr.kind,
            str(len(lr.macros)),
            str(lr.dup),
            str(lr.blocks),
            *cells,
            _ns(lr.block_period_ns),
            _ns(lr.time_per_image_ns),
            _ns(lr.start_ns),
            _ns(lr.finish_ns),
            f"{lr.energy_pj / 1e6:.3g} uJ",
        )
    return t


def breakdown_table(r: CostReport) -> Table:
    """Energy per image, peak power and area by component, with percentages."""
    hw = r.hardware
    t = Table(title="breakdown by component", title_justify="left")
    headers = ("component", "energy/image", "%", "above floor", "peak power", "%", "area", "%")
    for header in headers if r.network else headers[:1] + headers[4:]:
        t.add_column(header, justify="left" if header == "component" else "right")
    energy, total_e = r.energy_pj, r.energy_per_image_pj or 1.0
    above = r.above_floor_pj(r.floor_pj)
    total_p, total_a = hw.total_peak_power_w or 1.0, hw.total_area_mm2 or 1.0
    keys = sorted(
        set(energy) | set(hw.peak_power_w) | set(hw.area_mm2),
        key=lambda c: -hw.peak_power_w.get(c, 0.0),
    )
    for c in keys:
        e, p, a = energy.get(c, 0.0), hw.peak_power_w.get(c, 0.0), hw.area_mm2.get(c, 0.0)
        cells = (
            [f"{e / 1e6:.4g} uJ", f"{100 * e / total_e:.1f}", f"{above.get(c, 0.0) / 1e6:.4g} uJ"]
            if r.network
            else []
        )
        t.add_row(
            str(c),
            *cells,
            f"{p:.4g} W",
            f"{100 * p / total_p:.1f}",
            f"{a:.4g} mm^2" if c in hw.area_mm2 else "unknown",
            f"{100 * a / total_a:.1f}" if c in hw.area_mm2 else "",
        )
    return t


def macro_table(r: CostReport) -> Table:
    """Peak power and area of one macro of each group."""
    t = Table(title="macros (one of each group; router share included)", title_justify="left")
    for header in ("group", "count", "peak power", "area"):
        t.add_column(header, justify="left" if header == "group" else "right")
    for m in r.hardware.macros[:30]:
        t.add_row(
            m.group,
            str(m.count),
            f"{m.peak_power_w * 1e3:.5g} mW",
            f"{m.area_mm2:.4g} mm^2" if m.area_mm2 else "",
        )
    if len(r.hardware.macros) > 30:
        t.add_row(f"... {len(r.hardware.macros) - 30} more groups", "", "", "")
    return t


def report_view(r: CostReport) -> Group:
    """Everything ``pimsim estimate`` prints."""
    parts: list[Any] = [summary_table(r), macro_table(r)]
    if r.layers:
        parts.append(layer_table(r))
    parts.append(breakdown_table(r))
    return Group(*parts)


def report_json(r: CostReport) -> dict[str, Any]:
    """The report as JSON-ready data, with the derived figures included."""
    data = asdict(r)
    data["hardware"].update(
        total_peak_power_w=r.hardware.total_peak_power_w,
        total_area_mm2=r.hardware.total_area_mm2,
        peak_tops_per_w=r.hardware.peak_tops_per_w,
    )
    data.update(
        throughput_ips=r.throughput_ips,
        tops=r.tops,
        energy_per_image_pj=r.energy_per_image_pj,
        average_power_w=r.average_power_w,
        tops_per_w=r.tops_per_w,
    )
    return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value == float("inf"):
        return "inf"
    return value
