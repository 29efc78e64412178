"""A straightforward design: every weight layer on macros of its own, sized to fit, nothing shared.

Useful as a starting point, for examples and for tests; the synthesizer makes better ones. Each weight
layer's ``dup`` copies are spread over ``ceil(dup x set / max_crossbars)`` macros; a macro gets
``adcs_per_macro`` ADCs and one unit of each kind its layers need; every other layer runs on the macro
of its first producer, which then gets the units that layer needs.
"""

from __future__ import annotations

import math
from collections import defaultdict

from pimsim.arch.build import build_hardware, build_mapping
from pimsim.arch.mapping import crossbar_set, needed_units
from pimsim.arch.schema import Architecture, LayerMapping, MacroGroup, Noc
from pimsim.components.library import ComponentLibrary
from pimsim.components.parts import UnitKind
from pimsim.network.graph import Network


def simple_design(
    network: Network,
    source: str,
    library: ComponentLibrary,
    *,
    xbar: int = 128,
    cell_bits: int = 2,
    dac_bits: int = 1,
    dups: dict[str, int] | None = None,
    adcs_per_macro: int = 8,
    max_crossbars: int = 256,
    buffer_kib: int = 64,
    name: str | None = None,
) -> Architecture:
    """Map ``network`` one layer per macro group; ``dups`` gives duplications (default 1)."""
    groups: list[MacroGroup] = []
    layers: list[LayerMapping] = []
    units: dict[int, set[UnitKind]] = defaultdict(set)
    out_macro: dict[str, int] = {}
    hosts: dict[str, int] = {}
    for layer in network.layers:
        if layer.kind.has_weights:
            xset = crossbar_set(layer, xbar, cell_bits)
            dup = (dups or {}).get(layer.name, 1)
            need = dup * xset.crossbars
            n = max(1, math.ceil(need / max_crossbars))
            split = [need // n + (1 if i < need % n else 0) for i in range(n)]
            first = len(groups)
            kinds = needed_units(layer, xset.partial_sum_adds > 0)
            for i, count in enumerate(split):
                groups.append(
                    MacroGroup(
                        name=f"{layer.name}#{i}",
                        crossbars=count,
                        adcs=adcs_per_macro,
                        buffer_kib=buffer_kib,
                    )
                )
                units[first + i] |= kinds
            layers.append(
                LayerMapping(
                    layer=layer.name, dup=dup, macros=list(range(first, first + n)), crossbars=split
                )
            )
            out_macro[layer.name] = first
        else:
            host = next((out_macro[p] for p in layer.inputs if p in out_macro), 0)
            hosts[layer.name] = host
            out_macro[layer.name] = host
            units[host] |= needed_units(layer, False)
    groups = [
        g.model_copy(update={"units": {k: 1 for k in sorted(units[i])}})
        for i, g in enumerate(groups)
    ]
    hw = build_hardware(library, xbar, cell_bits, dac_bits, groups, noc=Noc())
    return Architecture(
        schema_version=1,
        name=name or f"{network.name}-simple",
        description="one macro group per weight layer (pimsim.arch.simple)",
        hardware=hw,
        mapping=build_mapping(network, source, layers, hosts),
    )
