"""Loading an arch.json and checking it against itself and its network; every problem has a JSON path.

Pydantic checks types and ranges. This module checks what spans fields: the parts fit the declared
parameters (crossbar size and cell bits, DAC and ADC resolutions, the lossless ADC rule), every macro's
buffer, units and fixed parts exist among the parts, and the mapping fits the network and the
hardware (every weight layer mapped once, crossbars adding up to dup x the set, no macro over its
crossbars, macros shared only by declared pairs, ADCs wherever weights live).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pimsim.arch.mapping import crossbar_set, needed_units
from pimsim.arch.schema import Architecture, Hardware, lossless_adc_bits
from pimsim.components.parts import UnitKind
from pimsim.errors import InputError
from pimsim.jsonio import problems_error, read_json, validate
from pimsim.network.graph import Network
from pimsim.network.load import load_model

Problem = tuple[str, str]


@dataclass(frozen=True)
class LoadedArch:
    """An architecture with the network its mapping names (``None`` without a mapping)."""

    arch: Architecture
    network: Network | None
    file: str


def check_hardware(hw: Hardware) -> list[Problem]:
    """Problems within the hardware description."""
    out: list[Problem] = []
    parts = hw.parts
    if parts.crossbar.size_rows != hw.xbar_size:
        out.append(
            (
                "hardware.parts.crossbar.size_rows",
                f"is {parts.crossbar.size_rows} but xbar_size is {hw.xbar_size}",
            )
        )
    if hw.cell_bits not in parts.crossbar.cell_bits:
        out.append(
            (
                "hardware.cell_bits",
                f"{hw.cell_bits}-bit cells are not supported by crossbar "
                f"'{parts.crossbar.name}' (supports {parts.crossbar.cell_bits})",
            )
        )
    if parts.dac.resolution_bits != hw.dac_bits:
        out.append(
            (
                "hardware.parts.dac.resolution_bits",
                f"is {parts.dac.resolution_bits} but dac_bits is {hw.dac_bits}",
            )
        )
    expected = lossless_adc_bits(hw.xbar_size, hw.dac_bits, hw.cell_bits)
    if hw.adc_bits != expected:
        out.append(
            (
                "hardware.adc_bits",
                f"is {hw.adc_bits}, but a lossless ADC for {hw.xbar_size}-row "
                f"crossbars, {hw.dac_bits}-bit DACs and {hw.cell_bits}-bit cells needs "
                f"{expected} bits",
            )
        )
    if parts.adc.resolution_bits != hw.adc_bits:
        out.append(
            (
                "hardware.parts.adc.resolution_bits",
                f"is {parts.adc.resolution_bits} but adc_bits is {hw.adc_bits}",
            )
        )
    if hw.xbar_size & (hw.xbar_size - 1):
        out.append(("hardware.xbar_size", f"{hw.xbar_size} is not a power of two"))
    for i, group in enumerate(hw.macros):
        where = f"hardware.macros[{i}]"
        if parts.buffer(group.buffer_kib) is None:
            out.append(
                (
                    f"{where}.buffer_kib",
                    f"no buffer part of {group.buffer_kib} KiB among "
                    f"hardware.parts.buffers ({[b.size_kib for b in parts.buffers]})",
                )
            )
        for kind in group.units:
            if parts.unit(kind) is None:
                out.append(
                    (f"{where}.units.{kind}", f"no '{kind}' unit among hardware.parts.units")
                )
        for name in group.fixed:
            if parts.fixed_part(name) is None:
                out.append((f"{where}.fixed.{name}", "no such part among hardware.parts.fixed"))
    for name in hw.chip_fixed:
        if parts.fixed_part(name) is None:
            out.append((f"hardware.chip_fixed.{name}", "no such part among hardware.parts.fixed"))
    names = [g.name for g in hw.macros]
    for i, name in enumerate(names):
        if names.index(name) != i:
            out.append((f"hardware.macros[{i}].name", f"repeats the name '{name}'"))
    noc = hw.noc
    routers = -(-hw.n_macros // noc.macros_per_router)
    if noc.mesh_rows and noc.mesh_cols and noc.mesh_rows * noc.mesh_cols < routers:
        out.append(
            (
                "hardware.noc",
                f"a {noc.mesh_rows}x{noc.mesh_cols} mesh cannot hold the "
                f"{routers} routers that {hw.n_macros} macros need",
            )
        )
    return out


def check_mapping(arch: Architecture, network: Network) -> list[Problem]:
    """Problems between the mapping, the network and the hardware."""
    hw, mapping = arch.hardware, arch.mapping
    assert mapping is not None
    out: list[Problem] = []
    if mapping.fingerprint != network.fingerprint():
        out.append(
            (
                "mapping.fingerprint",
                f"is {mapping.fingerprint} but network "
                f"'{mapping.network}' has fingerprint {network.fingerprint()}: the mapping was "
                "made for another network",
            )
        )
    groups = hw.macro_groups()
    used: dict[int, list[tuple[str, int]]] = defaultdict(list)
    seen: dict[str, int] = {}
    for i, lm in enumerate(mapping.layers):
        where = f"mapping.layers[{i}]"
        if lm.layer not in network:
            out.append((f"{where}.layer", f"'{lm.layer}' is not a layer of the network"))
            continue
        layer = network[lm.layer]
        if not layer.kind.has_weights:
            out.append(
                (
                    f"{where}.layer",
                    f"'{lm.layer}' is a {layer.kind} layer; only conv and FC "
                    "layers are mapped onto crossbars (put it in mapping.hosts)",
                )
            )
            continue
        if lm.layer in seen:
            out.append(
                (
                    f"{where}.layer",
                    f"'{lm.layer}' is mapped twice (also at mapping.layers[{seen[lm.layer]}])",
                )
            )
            continue
        seen[lm.layer] = i
        if len(lm.crossbars) != len(lm.macros):
            out.append(
                (
                    f"{where}.crossbars",
                    f"has {len(lm.crossbars)} entries for {len(lm.macros)} macros",
                )
            )
            continue
        if len(set(lm.macros)) != len(lm.macros):
            out.append((f"{where}.macros", "names a macro twice"))
        xset = crossbar_set(layer, hw.xbar_size, hw.cell_bits, hw.weight_bits)
        need = lm.dup * xset.crossbars
        if sum(lm.crossbars) != need:
            out.append(
                (
                    f"{where}.crossbars",
                    f"add up to {sum(lm.crossbars)}, but dup {lm.dup} x a "
                    f"set of {xset.crossbars} crossbars needs {need}",
                )
            )
        for j, m in enumerate(lm.macros):
            if m >= len(groups):
                out.append(
                    (
                        f"{where}.macros[{j}]",
                        f"macro {m} does not exist (the hardware has "
                        f"{len(groups)} macros, numbered from 0)",
                    )
                )
                continue
            used[m].append((lm.layer, lm.crossbars[j]))
            if groups[m].adcs == 0:
                out.append(
                    (
                        f"{where}.macros[{j}]",
                        f"macro {m} ({groups[m].name}) has no ADC but "
                        f"hosts weight layer '{lm.layer}'",
                    )
                )
    for layer in network.weight_layers:
        if layer.name not in seen:
            out.append(("mapping.layers", f"weight layer '{layer.name}' is not mapped"))
    out += _check_sharing(arch, network, used, groups)
    out += _check_units(arch, network, groups)
    for name, given in mapping.hosts.items():
        hosts = given if isinstance(given, list) else [given]
        if name not in network:
            out.append((f"mapping.hosts.{name}", "is not a layer of the network"))
        elif network[name].kind.has_weights:
            out.append((f"mapping.hosts.{name}", "is a weight layer; map it in mapping.layers"))
        elif not hosts or len(set(hosts)) != len(hosts):
            out.append((f"mapping.hosts.{name}", "must name one or more distinct macros"))
        for m in hosts:
            if m >= len(groups):
                out.append((f"mapping.hosts.{name}", f"macro {m} does not exist"))
    macros = {lm.layer: len(lm.macros) for lm in mapping.layers} | {
        name: len(given) if isinstance(given, list) else 1 for name, given in mapping.hosts.items()
    }
    for i, name in enumerate(mapping.spread or ()):
        if name not in network:
            out.append((f"mapping.spread[{i}]", f"'{name}' is not a layer of the network"))
        elif macros.get(name, 1) < 2:
            out.append(
                (f"mapping.spread[{i}]", f"'{name}' runs on one macro: there is nothing to spread")
            )
    return out


def _check_sharing(
    arch: Architecture, network: Network, used: dict[int, list[tuple[str, int]]], groups: list
) -> list[Problem]:  # type: ignore[type-arg]
    mapping = arch.mapping
    assert mapping is not None
    out: list[Problem] = []
    pairs = {frozenset((lm.layer, lm.shares_with)) for lm in mapping.layers if lm.shares_with}
    by_layer = {lm.layer: lm for lm in mapping.layers}
    for i, lm in enumerate(mapping.layers):
        partner = lm.shares_with
        if partner is None:
            continue
        where = f"mapping.layers[{i}].shares_with"
        if partner not in by_layer:
            out.append((where, f"'{partner}' is not a mapped weight layer"))
        elif partner == lm.layer:
            out.append((where, "a layer cannot share macros with itself"))
        elif set(by_layer[partner].macros) != set(lm.macros):
            out.append(
                (
                    where,
                    f"'{lm.layer}' and '{partner}' share macros, so both must list the "
                    f"same macros ({sorted(lm.macros)} vs {sorted(by_layer[partner].macros)})",
                )
            )
        elif by_layer[partner].shares_with not in (None, lm.layer):
            out.append(
                (where, f"'{partner}' already shares with '{by_layer[partner].shares_with}'")
            )
    for m, residents in sorted(used.items()):
        total = sum(n for _, n in residents)
        names = sorted({name for name, _ in residents})
        if total > groups[m].crossbars:
            what = f"shared pair {' + '.join(names)}" if len(names) > 1 else f"layer '{names[0]}'"
            out.append(
                (
                    f"mapping (macro {m}, {groups[m].name})",
                    f"{what} needs {total} crossbars but the macro has {groups[m].crossbars}",
                )
            )
        if len(names) > 2 or (len(names) == 2 and frozenset(names) not in pairs):
            out.append(
                (
                    f"mapping (macro {m}, {groups[m].name})",
                    f"hosts layers {names} that are not declared as a sharing pair (shares_with)",
                )
            )
    return out


def _check_units(arch: Architecture, network: Network, groups: list) -> list[Problem]:  # type: ignore[type-arg]
    """Every macro has the digital units its layers need."""
    hw, mapping = arch.hardware, arch.mapping
    assert mapping is not None
    need: dict[int, dict[UnitKind, list[str]]] = defaultdict(lambda: defaultdict(list))
    placed: dict[str, list[int]] = {lm.layer: lm.macros for lm in mapping.layers}
    for layer in network.layers:
        if layer.kind.has_weights:
            if layer.name not in placed:
                continue
            xset = crossbar_set(layer, hw.xbar_size, hw.cell_bits, hw.weight_bits)
            macros = placed[layer.name]
            kinds = needed_units(layer, xset.partial_sum_adds > 0)
        else:
            macros = mapping.host(layer.name, layer.inputs, {k: v[0] for k, v in placed.items()})
            placed[layer.name] = macros
            kinds = needed_units(layer, False)
        for m in macros:
            for kind in kinds:
                need[m][kind].append(layer.name)
    out: list[Problem] = []
    for m, kinds in sorted(need.items()):
        if m >= len(groups):
            continue
        for kind, layers in sorted(kinds.items()):
            if groups[m].units.get(kind, 0) == 0:
                out.append(
                    (
                        f"mapping (macro {m}, {groups[m].name})",
                        f"has no '{kind}' unit but "
                        f"runs {', '.join(repr(n) for n in layers[:3])}"
                        f"{' and more' if len(layers) > 3 else ''}, which need one",
                    )
                )
    return out


def load_architecture(path: str | os.PathLike[str]) -> LoadedArch:
    """Load and check an arch.json; the network of its mapping is loaded too.

    Raises:
        InputError: listing every problem found, each with its JSON path.
    """
    file = os.fspath(path)
    if os.path.isdir(file) and os.path.exists(os.path.join(file, "arch.json")):
        file = os.path.join(file, "arch.json")
    arch = validate(Architecture, read_json(file), file, "architecture")
    problems = check_hardware(arch.hardware)
    network = None
    if arch.mapping is not None:
        spec = arch.mapping.network
        relative = Path(file).parent / spec
        try:
            network = load_model(relative if relative.exists() else spec)
        except InputError as exc:
            problems.append(("mapping.network", exc.message))
        else:
            problems += check_mapping(arch, network)
    if problems:
        raise problems_error(file, problems, "architecture")
    return LoadedArch(arch, network, file)
