"""arch.json: schema, round trip, every consistency error with its JSON path, the examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from pimsim.arch.check import load_architecture
from pimsim.arch.schema import Architecture
from pimsim.cli.main import main as pimsim_main
from pimsim.errors import InputError
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "configs" / "arch").rglob("*.json"))
VGG = ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json"


def test_there_are_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert "arch.json" in names and "vgg11-cifar-simple.json" in names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_validate_round_trip_and_estimate(path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text())
    jsonschema.validate(data, Architecture.model_json_schema())
    loaded = load_architecture(path)
    assert loaded.arch.model_dump(mode="json", exclude_none=True) == data
    assert pimsim_main(["estimate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hardware"]["total_peak_power_w"] > 0
    if loaded.network is not None:
        assert report["period_ns"] > 0 and report["energy_per_image_pj"] > 0


def _write(tmp_path: Path, data: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(data))
    return path


def _problems(tmp_path: Path, mutate) -> str:  # type: ignore[no-untyped-def]
    data = json.loads(VGG.read_text())
    mutate(data)
    with pytest.raises(InputError) as info:
        load_architecture(_write(tmp_path, data))
    return info.value.message


def _layer(data: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(lay for lay in data["mapping"]["layers"] if lay["layer"] == name)


CASES = {
    "adc_rule": (lambda d: d["hardware"].update(adc_bits=9), ["hardware.adc_bits", "needs 8 bits"]),
    "adc_part": (
        lambda d: d["hardware"]["parts"]["adc"].update(resolution_bits=10),
        ["hardware.parts.adc.resolution_bits", "is 10 but adc_bits is 8"],
    ),
    "too_many_crossbars": (
        lambda d: d["hardware"]["macros"][0].update(crossbars=10),
        ["macro 0", "needs 32 crossbars but the macro has 10"],
    ),
    "unmapped": (lambda d: d["mapping"]["layers"].pop(), ["weight layer 'fc", "is not mapped"]),
    "unknown_layer": (
        lambda d: _layer(d, "conv2").update(layer="ghost"),
        ["mapping.layers[0].layer", "'ghost' is not a layer"],
    ),
    "wrong_sum": (
        lambda d: _layer(d, "conv2").update(dup=3),
        ["mapping.layers[0].crossbars", "dup 3 x a set of 8 crossbars needs 24"],
    ),
    "no_adc": (
        lambda d: d["hardware"]["macros"][0].update(adcs=0),
        ["macro 0 (conv2#0) has no ADC but hosts weight layer 'conv2'"],
    ),
    "missing_macro": (
        lambda d: _layer(d, "conv2").update(macros=[999]),
        ["mapping.layers[0].macros[0]", "macro 999 does not exist"],
    ),
    "fingerprint": (
        lambda d: d["mapping"].update(fingerprint="0" * 16),
        ["mapping.fingerprint", "made for another network"],
    ),
    "unknown_network": (
        lambda d: d["mapping"].update(network="no_such_net"),
        ["mapping.network", "neither a zoo model nor a file"],
    ),
    "undeclared_sharing": (
        lambda d: _layer(d, "conv6").update(
            macros=[0], crossbars=[_layer(d, "conv6")["crossbars"][0]]
        ),
        ["not declared as a sharing pair"],
    ),
    "shared_pair_too_big": (
        lambda d: _layer(d, "conv6").update(
            macros=[0], shares_with="conv2", crossbars=[_layer(d, "conv6")["crossbars"][0]]
        ),
        ["shared pair conv2 + conv6 needs", "but the macro has 32"],
    ),
    "missing_unit": (
        lambda d: d["hardware"]["macros"][0]["units"].pop("shift_add"),
        ["has no 'shift_add' unit but runs 'conv2'"],
    ),
    "wrong_type": (
        lambda d: d["hardware"].update(xbar_size="big"),
        ["hardware.xbar_size", "valid integer"],
    ),
    "negative": (
        lambda d: d["hardware"]["macros"][1].update(adcs=-2),
        ["hardware.macros[1].adcs", "greater than or equal to 0"],
    ),
    "missing_field": (
        lambda d: d["hardware"].pop("cell_bits"),
        ["hardware.cell_bits", "Field required"],
    ),
    "extra_field": (
        lambda d: d["hardware"].update(colour="red"),
        ["hardware.colour", "not permitted"],
    ),
    "bad_buffer": (
        lambda d: d["hardware"]["macros"][0].update(buffer_kib=100),
        ["hardware.macros[0].buffer_kib", "no buffer part of 100 KiB"],
    ),
    "version": (lambda d: d.update(schema_version=2), ["schema_version"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_consistency_errors_name_the_path_and_the_problem(tmp_path: Path, case: str) -> None:
    mutate, expected = CASES[case]
    message = _problems(tmp_path, mutate)
    assert "arch.json" in message
    for text in expected:
        assert text in message, message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def several(d: dict) -> None:  # type: ignore[type-arg]
        d["hardware"]["macros"][0]["adcs"] = 0
        d["mapping"]["layers"].pop()
        d["hardware"]["adc_bits"] = 9

    message = _problems(tmp_path, several)
    assert "4 problems" in message  # adc_bits 9 breaks the rule and no longer matches the part
    assert "is 8 but adc_bits is 9" in message
    assert "no ADC" in message and "is not mapped" in message and "needs 8 bits" in message


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "arch.json"
    bad.write_text("{ not json")
    with pytest.raises(InputError, match="line 1, column 3"):
        load_architecture(bad)
    with pytest.raises(InputError, match="no such file"):
        load_architecture(tmp_path / "missing.json")


def test_cli_estimate_bad_arch_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(VGG.read_text())
    data["hardware"]["adc_bits"] = 12
    path = _write(tmp_path, data)
    assert pimsim_main(["estimate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "hardware.adc_bits" in err and "needs 8 bits" in err and "Traceback" not in err


def test_schema_command_prints_both_schemas(capsys) -> None:  # type: ignore[no-untyped-def]
    assert pimsim_main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Architecture" and "hardware" in schema["properties"]
    for name, definition in schema["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            assert "description" in spec, f"{name}.{field} has no description"
    assert pimsim_main(["schema", "--library"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "ComponentLibrary"


def test_arch_model_is_frozen() -> None:
    arch = load_architecture(VGG).arch
    with pytest.raises(Exception, match="frozen"):
        arch.hardware.xbar_size = 256  # type: ignore[misc]


def test_relative_network_path_is_resolved_next_to_the_file(tmp_path: Path) -> None:
    from pimsim.network.pimcomp_export import to_pimcomp
    from pimsim.network.zoo import zoo_network

    (tmp_path / "net.json").write_text(json.dumps(to_pimcomp(zoo_network("vgg11-cifar"))))
    data = copy.deepcopy(json.loads(VGG.read_text()))
    data["mapping"]["network"] = "net.json"
    loaded = load_architecture(_write(tmp_path, data))
    assert loaded.network is not None and loaded.network.macs == zoo_network("vgg11-cifar").macs
