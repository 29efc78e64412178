"""Rich tables for a finished exploration: the winner, its layers, and the ISAAC comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table

from pimsim.model.estimate import CostReport
from pimsim.render.estimate import breakdown_table
from synth.explore import Exploration

if TYPE_CHECKING:  # a validation's module is imported when a run validates (synth.workflow)
    from synth.validate import ValidationReport


def _figures(r: CostReport) -> list[str]:
    return [
        f"{r.throughput_ips:.4g}",
        f"{r.tops:.4g}",
        f"{r.latency_ns / 1e6:.4g}",
        f"{r.energy_per_image_pj / 1e6:.4g}",
        f"{r.average_power_w:.4g}",
        f"{r.hardware.total_peak_power_w:.4g}",
        f"{r.hardware.total_area_mm2:.4g}",
        f"{r.tops_per_w:.4g}",
    ]


def comparison_table(ex: Exploration, best: CostReport, baseline: CostReport | None) -> Table:
    """The synthesized design beside the ISAAC baseline, with the ratio."""
    t = Table(title=f"{ex.network}: synthesized vs ISAAC", title_justify="left")
    for header in (
        "design",
        "images/s",
        "TOPS",
        "latency ms",
        "energy/image uJ",
        "avg power W",
        "peak power W",
        "area mm^2",
        "TOPS/W",
    ):
        t.add_column(header, justify="left" if header == "design" else "right")
    t.add_row(best.arch, *_figures(best))
    if baseline is not None:
        t.add_row(baseline.arch, *_figures(baseline))
        ratio = [best.throughput_ips / baseline.throughput_ips, best.tops / baseline.tops]
        t.add_row(
            "ratio",
            f"{ratio[0]:.3g}x",
            f"{ratio[1]:.3g}x",
            "",
            "",
            "",
            "",
            "",
            f"{best.tops_per_w / baseline.tops_per_w:.3g}x",
        )
    return t


def winner_table(ex: Exploration) -> Table:
    """The winning parameters and how the search went."""
    f = ex.best_found
    c = f.combo
    t = Table(title="winning design", title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for name, value in [
        ("rram ratio", f"{c.rram_ratio:.2f}"),
        ("crossbar", f"{c.xbar}x{c.xbar}"),
        ("cell bits", str(c.cell_bits)),
        ("DAC bits", str(c.dac_bits)),
        ("ADC bits", str(c.adc_bits)),
        ("macros", f"{int(f.metrics['macros'])} ({ex.settings.macros})"),
        ("crossbars", f"{int(f.metrics['crossbars']):,}"),
        ("ADCs", f"{int(f.metrics['adcs']):,}"),
        ("area", f"{f.metrics.get('area_mm2', 0.0):.4g} mm^2"),
        (
            "designs evaluated",
            f"{ex.evaluations:,}"
            + (
                f" ({ex.session_evaluations:,} in this session)"
                if ex.session_evaluations != ex.evaluations
                else ""
            )
            + f", {ex.seconds:.1f} s ({ex.evaluations_per_s:,.0f}/s)",
        ),
        ("combinations skipped", str(len(ex.skipped))),
    ]:
        t.add_row(name, value)
    return t


def layers_table(ex: Exploration) -> Table:
    """Per weight layer: duplication, macros, sharing partner."""
    mapping = ex.best.mapping
    assert mapping is not None
    t = Table(title="per-layer duplication and macros", title_justify="left")
    for header in ("layer", "dup", "macros", "crossbars", "shares with"):
        t.add_column(header, justify="left" if header in ("layer", "shares with") else "right")
    for lm in mapping.layers:
        t.add_row(
            lm.layer,
            str(lm.dup),
            str(len(lm.macros)),
            f"{sum(lm.crossbars):,}",
            lm.shares_with or "",
        )
    return t


def validation_table(v: ValidationReport) -> Table:
    """Estimate vs simulation of each validated design, errors in %, flagged rows in red."""
    t = Table(
        title=f"estimate vs simulation ({v.images} images in flight; tolerance "
        f"{v.tolerance_pct:g}%)",
        title_justify="left",
    )
    for header in (
        "#",
        "design",
        "images/s est",
        "sim",
        "err",
        "latency us est",
        "sim",
        "err",
        "energy uJ est",
        "sim",
        "err",
        "power W est",
        "sim",
        "err",
        "dominant stalls",
    ):
        t.add_column(header, justify="left" if header in ("design", "dominant stalls") else "right")
    scale = {
        "throughput_ips": 1.0,
        "latency_ns": 1e-3,
        "energy_per_image_pj": 1e-6,
        "average_power_w": 1.0,
    }
    for row in v.rows:
        cells = []
        for key in ("throughput_ips", "latency_ns", "energy_per_image_pj", "average_power_w"):
            err = row.error_pct[key]
            style = "bold red" if abs(err) > v.tolerance_pct else ""
            cells += [
                f"{row.estimate[key] * scale[key]:.4g}",
                f"{row.simulated[key] * scale[key]:.4g}",
                f"[{style}]{err:+.2f}%[/]" if style else f"{err:+.2f}%",
            ]
        stalls = ", ".join(f"{c} {ns / 1e3:,.0f} us" for c, ns in row.stalls) if row.flagged else ""
        if row.deadlock:
            stalls = f"[bold red]deadlock[/]: {row.stalls[0][0] if row.stalls else ''}"
        known = dict.fromkeys(d.split(":")[0] for d in row.disagreements)
        if known:  # conditions the estimate is known to miss (docs/disagreements.md)
            stalls = "; ".join(x for x in (stalls, "known: " + ", ".join(known)) if x)
        t.add_row(str(row.rank), row.design, *cells, stalls)
    return t


def final_view(ex: Exploration, best: CostReport, baseline: CostReport | None) -> Group:
    """Everything ``pimsyn explore`` prints at the end."""
    return Group(
        winner_table(ex),
        layers_table(ex),
        comparison_table(ex, best, baseline),
        breakdown_table(best),
    )
