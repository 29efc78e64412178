"""The ISAAC baseline: a network mapped onto ISAAC tiles the way ISAAC does it.

Every conv layer ``i`` gets ``dup_i = ceil(Ho*Wo_i / B)`` copies (at most one per output pixel), so all
layers need about ``B`` blocks per image and the pipeline is balanced; FC layers keep one copy. ``B``
is the smallest value whose tiles (each layer on tiles of its own, 96 crossbars per tile) fit the chip.
A network that does not fit one chip at one copy per layer is spread over as many chips as it needs.
See ``configs/arch/isaac/README.md``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pimsim.arch.check import check_hardware, check_mapping
from pimsim.arch.mapping import crossbar_set
from pimsim.arch.schema import Architecture, Hardware, LayerMapping, Mapping
from pimsim.components.library import CONFIGS
from pimsim.errors import InputError
from pimsim.model.windows import BlockGeometry, spread_outputs
from pimsim.network.graph import Network

ISAAC_ARCH = CONFIGS / "arch" / "isaac" / "arch.json"


def isaac_hardware() -> Hardware:
    """The ISAAC preset's hardware."""
    data = json.loads(Path(ISAAC_ARCH).read_text())
    return Architecture.model_validate(data).hardware


def _tiles(dup: list[int], sets: list[int], per_tile: int) -> list[int]:
    return [math.ceil(d * s / per_tile) for d, s in zip(dup, sets, strict=True)]


def isaac_baseline(network: Network, network_source: str | None = None) -> Architecture:
    """``network`` on ISAAC, replicated to balance the pipeline within the chip(s)."""
    base = isaac_hardware()
    (tile,) = base.macros
    weights = network.mappable_layers()
    sets = [
        crossbar_set(lay, base.xbar_size, base.cell_bits, base.weight_bits).crossbars
        for lay in weights
    ]
    pixels = [lay.out_pixels for lay in weights]
    conv = [lay.kind.value == "conv" for lay in weights]
    per_tile, tiles_per_chip = tile.crossbars, tile.count

    def dups(blocks: int) -> list[int]:
        return [
            min(p, math.ceil(p / blocks)) if c else 1 for p, c in zip(pixels, conv, strict=True)
        ]

    chips = max(1, math.ceil(sum(_tiles([1] * len(sets), sets, per_tile)) / tiles_per_chip))
    capacity = chips * tiles_per_chip
    lo, hi = 1, max(pixels)
    while lo < hi:  # smallest B whose tiles fit
        mid = (lo + hi) // 2
        if sum(_tiles(dups(mid), sets, per_tile)) <= capacity:
            hi = mid
        else:
            lo = mid + 1
    dup = dups(lo)
    layers, start = [], 0
    for layer, d, s, n in zip(weights, dup, sets, _tiles(dup, sets, per_tile), strict=True):
        need = d * s
        split = [min(per_tile, need - i * per_tile) for i in range(n)]
        layers.append(
            LayerMapping(
                layer=layer.name, dup=d, macros=list(range(start, start + n)), crossbars=split
            )
        )
        start += n
    placed = {lm.layer: lm.macros for lm in layers}
    hosts: dict[str, list[int]] = {}
    outputs: dict[tuple[int, ...], int] = {}  # layers whose output is gathered in a tile set
    for layer in network.layers:  # other layers run on all tiles of their producer, as in ISAAC
        if not layer.kind.has_weights:
            source = next((p for p in layer.inputs if p in placed), None)
            tiles = placed[layer.name] = placed[source] if source else [0]
            # each layer on a tile set gathers its output in the next tile of the set (the first
            # host is the output macro), so no one tile's eDRAM stages them all
            k = outputs[tuple(tiles)] = outputs.get(tuple(tiles), 0) + 1
            hosts[layer.name] = tiles[k % len(tiles) :] + tiles[: k % len(tiles)]
    hw = base.model_copy(
        update={
            "macros": [tile.model_copy(update={"count": capacity})],
            "chip_fixed": {name: n * chips for name, n in base.chip_fixed.items()},
            "interfaces": chips if chips > 1 else None,  # one HyperTransport set per chip
        }
    )
    # outputs two of whose blocks overflow a tile's eDRAM stay where each tile made its part
    dups = {lm.layer: lm.dup for lm in layers}
    geos = [BlockGeometry(layer, dups.get(layer.name, 1)) for layer in network.layers]
    spread = spread_outputs(
        [g.block_bits(hw.activation_bits)[0] for g in geos],
        [len(placed[layer.name]) for layer in network.layers],
        [tile.buffer_kib * 8192] * len(geos),
    )
    mapping = Mapping(
        network=network_source or network.name,
        fingerprint=network.fingerprint(),
        layers=layers,
        hosts=hosts,
        spread=[layer.name for layer, s in zip(network.layers, spread, strict=True) if s] or None,
    )
    arch = Architecture(
        schema_version=1,
        name=f"isaac-{network.name}",
        description=f"ISAAC ({chips} chip{'s' if chips > 1 else ''}) running "
        f"{network.name}, layers replicated to {lo} blocks per image",
        hardware=hw,
        mapping=mapping,
    )
    problems = check_hardware(hw) + check_mapping(arch, network)
    if problems:
        raise InputError(f"ISAAC baseline of {network.name}", problems[0][0], problems[0][1])
    return arch
