"""Making a self-contained :class:`Hardware` from a component library and a few choices."""

from __future__ import annotations

from pimsim.arch.schema import (
    Hardware,
    LayerMapping,
    MacroGroup,
    Mapping,
    Noc,
    Parts,
    lossless_adc_bits,
)
from pimsim.components.library import ComponentLibrary
from pimsim.errors import InputError
from pimsim.network.graph import Network


def select_parts(library: ComponentLibrary, xbar: int, cell_bits: int, dac_bits: int) -> Parts:
    """The library's parts for this combination (all units and buffers, so any macro may use them).

    Raises:
        InputError: the library lacks the crossbar, the DAC or the lossless ADC.
    """
    adc_bits = lossless_adc_bits(xbar, dac_bits, cell_bits)
    crossbar, dac, adc = library.crossbar(xbar), library.dac(dac_bits), library.adc(adc_bits)
    missing = [
        what
        for part, what in (
            (crossbar, f"{xbar}x{xbar} crossbar"),
            (dac, f"{dac_bits}-bit DAC"),
            (adc, f"{adc_bits}-bit ADC"),
        )
        if part is None
    ]
    if crossbar is not None and cell_bits not in crossbar.cell_bits:
        missing.append(f"{cell_bits}-bit cells")
    if missing:
        raise InputError(f"library '{library.name}'", "", f"has no {' or '.join(missing)}")
    return Parts(
        crossbar=crossbar,
        dac=dac,
        adc=adc,  # type: ignore[arg-type]
        sample_hold=library.sample_holds[0] if library.sample_holds else None,
        units=list(library.units),
        buffers=list(library.buffers),
        noc=library.nocs[0],
        fixed=list(library.fixed),
        interface=library.interfaces[0] if library.interfaces else None,
    )


def build_hardware(
    library: ComponentLibrary,
    xbar_size: int,
    cell_bits: int,
    dac_bits: int,
    macros: list[MacroGroup],
    noc: Noc | None = None,
    chip_fixed: dict[str, int] | None = None,
    chips: int = 1,
    clock_ghz: float = 1.0,
) -> Hardware:
    """Embed the library's parts that these choices need (only the units, buffers and fixed parts
    the macros use).

    Raises:
        InputError: the library lacks the crossbar size, the DAC, the lossless ADC resolution, or a
            unit, buffer or fixed part that a macro uses.
    """
    adc_bits = lossless_adc_bits(xbar_size, dac_bits, cell_bits)
    where = f"library '{library.name}'"
    every = select_parts(library, xbar_size, cell_bits, dac_bits)
    kinds = sorted({kind for m in macros for kind in m.units})
    units = [library.unit(kind) for kind in kinds]
    if any(u is None for u in units):
        missing = [str(k) for k, u in zip(kinds, units, strict=True) if u is None]
        raise InputError(where, "units", f"has no unit of kind {', '.join(missing)}")
    sizes = sorted({m.buffer_kib for m in macros})
    buffers = [library.buffer(kib) for kib in sizes]
    if any(b is None for b in buffers):
        raise InputError(where, "buffers", f"has no buffer of {sizes} KiB")
    names = sorted({n for m in macros for n in m.fixed} | set(chip_fixed or {}))
    fixed = [library.fixed_part(n) for n in names]
    if any(f is None for f in fixed):
        raise InputError(where, "fixed", f"lacks one of the fixed parts {names}")
    parts = every.model_copy(update={"units": units, "buffers": buffers, "fixed": fixed})
    return Hardware(
        xbar_size=xbar_size,
        cell_bits=cell_bits,
        dac_bits=dac_bits,
        adc_bits=adc_bits,
        parts=parts,
        macros=macros,
        noc=noc or Noc(),
        chip_fixed=chip_fixed or {},
        chips=chips,
        clock_ghz=clock_ghz,
    )


def build_mapping(
    network: Network, source: str, layers: list[LayerMapping], hosts: dict[str, int] | None = None
) -> Mapping:
    """A mapping of ``network`` (named ``source`` in the file) with its fingerprint filled in."""
    return Mapping(
        network=source, fingerprint=network.fingerprint(), layers=layers, hosts=hosts or {}
    )
