"""A found design written out as a self-contained, checked :class:`Architecture` (arch.json)."""

from __future__ import annotations

import math

import numpy as np

from pimsim.arch.check import check_hardware, check_mapping
from pimsim.arch.schema import Architecture, Hardware, LayerMapping, MacroGroup, Mapping
from pimsim.components.library import ComponentLibrary
from pimsim.model.kernel import UNITS
from pimsim.model.plan import Plan
from pimsim.network.graph import Network
from pimsim.sim.compiler import buffer_needs_kib
from synth.context import ComboContext
from synth.design import Infeasible, Scored, score
from synth.search import Found, metrics


def rescore(
    found: Found,
    network: Network,
    library: ComponentLibrary,
    power_w: float,
    unified: bool,
    area_mm2: float = math.inf,
) -> tuple[ComboContext, Scored]:
    """Recompute a found design (deterministic) with everything needed to write it out."""
    ctx = ComboContext.build(found.combo, network, library, power_w)
    return ctx, score(
        ctx, np.array(found.dup), found.partition, power_w, unified, area_mm2=area_mm2
    )


def runnable(
    found: Found,
    network: Network,
    library: ComponentLibrary,
    power_w: float,
    unified: bool,
    name: str,
    network_source: str,
    description: str = "",
    area_mm2: float = math.inf,
) -> tuple[Architecture, Found] | None:
    """The design with every scratchpad large enough for what the dataflow compiler says its
    windows and staging need (the search sizes them from a per-layer working set, which leaves
    out, e.g., a residual branch's wait), re-allocated within the budget and re-scored.
    ``None`` when the larger scratchpads no longer fit the budget."""
    ctx, scored = rescore(found, network, library, power_w, unified, area_mm2)
    arch = to_architecture(ctx, scored, name, network_source, description)
    needs = buffer_needs_kib(Plan(arch, network))
    floor = np.array([needs.get(m, 0.0) for m in range(len(scored.alloc.adcs))])
    if (floor > scored.alloc.buffer_kib).any():
        try:
            scored = score(
                ctx, np.array(found.dup), found.partition, power_w, unified, floor, area_mm2
            )
        except Infeasible:
            return None
        arch = to_architecture(ctx, scored, name, network_source, description)
    return arch, Found(
        scored.tops_per_w, found.combo, scored.dup, found.partition, metrics(scored, ctx.tables.ops)
    )


def to_architecture(
    ctx: ComboContext, s: Scored, name: str, network_source: str, description: str = ""
) -> Architecture:
    """The design as arch.json; identical consecutive macros are written once with a count."""
    network = ctx.network
    alloc, macros = s.alloc, s.macros
    label = {}
    for layers, first, n in macros.groups:
        names = "+".join(network.layers[int(ctx.weight[k])].name for k in layers)
        for i in range(n):
            label[first + i] = names
    groups: list[MacroGroup] = []
    for m in range(len(alloc.adcs)):
        group = MacroGroup(
            name=f"{label[m]}#{m}",
            crossbars=int(alloc.crossbars[m]),
            adcs=int(alloc.adcs[m]),
            units={k: int(alloc.units[m, j]) for j, k in enumerate(UNITS) if alloc.units[m, j]},
            buffer_kib=int(alloc.buffer_kib[m]),
        )
        last = groups[-1] if groups else None
        if (
            last is not None
            and last.model_dump(exclude={"name", "count"})
            == group.model_dump(exclude={"name", "count"})
            and label[m - 1] == label[m]
        ):
            groups[-1] = last.model_copy(update={"count": last.count + 1})
        else:
            groups.append(group)
    hw = Hardware(
        xbar_size=ctx.combo.xbar,
        cell_bits=ctx.combo.cell_bits,
        dac_bits=ctx.combo.dac_bits,
        adc_bits=ctx.combo.adc_bits,
        parts=ctx.parts,
        macros=groups,
        adc_wiring="weights",  # the muxes wired to the columns the mapping fills
    )
    layers: list[LayerMapping] = []
    hosts: dict[str, int] = {}
    partner = {}
    for group_layers, _, _ in macros.groups:
        if len(group_layers) == 2:
            partner[group_layers[1]] = network.layers[int(ctx.weight[group_layers[0]])].name
    position = {int(w): k for k, w in enumerate(ctx.weight)}
    for i, layer in enumerate(network.layers):
        rows = np.nonzero(macros.share_layer == i)[0]
        if i in position:
            k = position[i]
            layers.append(
                LayerMapping(
                    layer=layer.name,
                    dup=int(s.dup[k]),
                    macros=[int(macros.share_macro[r]) for r in rows],
                    crossbars=[int(macros.share_xbars[r]) for r in rows],
                    shares_with=partner.get(k),
                )
            )
        else:
            hosts[layer.name] = int(macros.share_macro[rows[0]])
    mapping = Mapping(
        network=network_source, fingerprint=network.fingerprint(), layers=layers, hosts=hosts
    )
    arch = Architecture(
        schema_version=1, name=name, description=description, hardware=hw, mapping=mapping
    )
    problems = check_hardware(hw) + check_mapping(arch, network)
    assert not problems, f"synthesized design fails its own checks: {problems}"
    return arch
