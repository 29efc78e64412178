"""Component libraries as data, and the ISAAC preset reproducing ISAAC's published figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimsim.arch.check import load_architecture
from pimsim.components import load_library
from pimsim.components.library import LIBRARIES
from pimsim.errors import InputError
from pimsim.model.estimate import estimate
from pimsim.model.inventory import Component
from tests.conftest import ROOT

ISAAC = ROOT / "configs" / "arch" / "isaac" / "arch.json"


def _parts(lib):  # type: ignore[no-untyped-def]
    return [
        *lib.crossbars,
        *lib.adcs,
        *lib.dacs,
        *lib.sample_holds,
        *lib.units,
        *lib.buffers,
        *lib.nocs,
        *lib.fixed,
        *lib.interfaces,
    ]


@pytest.mark.parametrize("name", ["pimsyn", "pimsyn-released", "isaac"])
def test_builtin_libraries_load_and_cite_sources(name: str) -> None:
    lib = load_library(name)
    parts = _parts(lib)
    assert parts and all(p.source for p in parts)


@pytest.mark.parametrize("name", ["pimsyn", "isaac"])
def test_priced_libraries_have_every_area_routers_links_and_an_interface(name: str) -> None:
    lib = load_library(name)
    areas = [getattr(p, "area_mm2", None) for p in _parts(lib) if not hasattr(p, "flit_bits")]
    assert None not in areas
    (noc,) = lib.nocs
    assert noc.router_area_mm2 == 0.151 and noc.router_power_w == 0.042 and noc.flit_bits == 32
    assert noc.hop_energy_pj > 0 and noc.router_ports == 8
    (io,) = lib.interfaces
    assert io.bandwidth_gbit_s > 0 and io.area_mm2


def test_default_library_keeps_the_released_power_and_energy() -> None:
    """Only areas, sources, the NoC, the interface and the scratchpad's banking differ from the
    released numbers; the banking splits the released 1024-bit access over 4 banks of 256 bits, so
    the port rate and the energy per bit stay the released ones."""
    released, default = load_library("pimsyn-released"), load_library("pimsyn")
    banking = {"word_bits", "banks", "read_energy_nj", "write_energy_nj"}
    for kind in ("crossbars", "adcs", "dacs", "units", "buffers"):
        for old, new in zip(getattr(released, kind), getattr(default, kind), strict=True):
            skip = {"area_mm2", "source"} | (banking if kind == "buffers" else set())
            assert old.model_dump(exclude=skip) == new.model_dump(exclude=skip)
    for old, new in zip(released.buffers, default.buffers, strict=True):
        assert (old.bank_count, old.word_bits, new.banks, new.word_bits) == (1, 1024, 4, 256)
        assert old.port_bits_per_ns == new.port_bits_per_ns == 1024 / old.access_latency_ns
        assert old.read_energy_nj / 1024 == new.read_energy_nj / 256
        assert old.write_energy_nj / 1024 == new.write_energy_nj / 256
    assert released.interfaces == [] and all(
        getattr(p, "area_mm2", None) is None for p in _parts(released)
    )


def test_released_library_holds_the_released_numbers() -> None:
    lib = load_library("pimsyn-released")
    assert [x.size_rows for x in lib.crossbars] == [128, 256, 512]
    assert sorted(a.resolution_bits for a in lib.adcs) == [4, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert lib.adc(6).peak_power_w == 1.26e-3  # the released file's typo corrected
    assert lib.adc(13).frequency_ghz == 4 and lib.adc(14).latency_ns == 30
    assert [d.resolution_bits for d in lib.dacs] == [1, 2, 4]
    assert {u.kind.value for u in lib.units} == {
        "pool",
        "activation",
        "shift_add",
        "add",
        "sigmoid",
        "eltwise",
    }
    assert all(u.lanes == 32 for u in lib.units)
    assert [b.size_kib for b in lib.buffers] == [64, 128, 256, 512, 1024, 2048, 4096]
    assert lib.buffer(4096).read_energy_nj == 0.4723 and lib.nocs[0].chip_power_w == 0.104
    (noc,) = lib.nocs
    assert noc.router_power_w == 0 and noc.hop_energy_pj == 0 and noc.flit_bits == 64


def test_isaac_tile_and_chip_power_and_area() -> None:
    """ISAAC: tile 330 mW and 0.372 mm^2; chip 65.8 W and 85.4 mm^2 (ISCA 2016, Table 2)."""
    hw = estimate(load_architecture(ISAAC).arch).hardware
    (tile,) = hw.macros
    assert tile.count == 168
    assert tile.peak_power_w == pytest.approx(0.330, rel=0.001)
    assert tile.area_mm2 == pytest.approx(0.372, rel=0.001)
    assert hw.total_peak_power_w == pytest.approx(65.8, rel=0.001)
    assert hw.total_area_mm2 == pytest.approx(85.4, rel=0.001)
    assert hw.peak_power_w[Component.FIXED] == pytest.approx(168 * (7 + 1.68 + 12 * 1.47) / 1e3)
    assert hw.peak_power_w[Component.INTERFACE] == 10.4  # HyperTransport, per chip
    assert hw.area_mm2[Component.INTERFACE] == 22.88


def test_isaac_peak_throughput_and_efficiency() -> None:
    """16128 crossbars x 128x128 2-bit cells = 2048 16-bit weights each, one 16-bit MVM per 16 reads
    of 100 ns: 41.3 TOPS; over 65.8 W that is 0.63 TOPS/W (PIMSYN Table IV)."""
    hw = estimate(load_architecture(ISAAC).arch).hardware
    assert hw.crossbars == 168 * 12 * 8
    assert hw.peak_tops == pytest.approx(16128 * 2048 * 2 / 1.6e-6 / 1e12)
    assert round(hw.peak_tops_per_w, 2) == 0.63


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["adcs"][0].update(static_power_w=-1), "adcs[0].static_power_w"),
        (lambda d: d["crossbars"][0].pop("latency_ns"), "crossbars[0].latency_ns: Field required"),
        (lambda d: d["units"][0].update(kind="teleporter"), "units[0].kind"),
        (lambda d: d["buffers"][0].update(source=""), "buffers[0].source"),
        (lambda d: d["adcs"].append(dict(d["adcs"][0])), "repeats resolution_bits=4"),
    ],
)
def test_bad_library_files(tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((LIBRARIES / "pimsyn.json").read_text())
    mutate(data)
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        load_library(path)
    assert expected in info.value.message and "lib.json" in info.value.message


def test_user_library_file_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    data = json.loads((LIBRARIES / "pimsyn.json").read_text())
    data["name"] = "mine"
    path.write_text(json.dumps(data))
    assert load_library(path).name == "mine"
    with pytest.raises(InputError, match="Built-in libraries: isaac, pimsyn, pimsyn-released"):
        load_library("nonesuch")
