"""The commands of this stage (`pimsyn models`, `pimsim network`) and every bad-input path they meet.

Bad input must give one paragraph naming the file, the place and the cause, exit code 2, and no
traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from pimsim.cli.main import main as pimsim_main
from pimsim.network.zoo import ZOO, zoo_model
from synth.cli import main as pimsyn_main
from tests.conftest import DATA, PIMCOMP, onnx_text


def run_pimsim(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = pimsim_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_every_zoo_entry(capsys) -> None:  # type: ignore[no-untyped-def]
    assert pimsyn_main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(ZOO)
    vgg16 = next(r for r in rows if r["name"] == "vgg16")
    assert vgg16["macs"] == 15_470_264_320 and vgg16["weight_layers"] == 16
    assert pimsyn_main(["models"]) == 0
    text = capsys.readouterr().out
    assert "resnet18" in text and "15.470" in text and "GMACs" in text


def test_models_export_onnx_and_pimcomp(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    onnx_path, json_path = tmp_path / "v.onnx", tmp_path / "v.json"
    assert pimsyn_main(["models", "export", "vgg13", "-o", str(onnx_path)]) == 0
    assert pimsyn_main(["models", "export", "VGG13", "-o", str(json_path)]) == 0
    capsys.readouterr()
    for path in (onnx_path, json_path):
        assert run_pimsim(capsys, "network", str(path), "--json")[0] == 0
    # nothing the user had is overwritten without --force
    before = onnx_path.read_bytes()
    assert pimsyn_main(["models", "export", "alexnet", "-o", str(onnx_path)]) == 2
    assert "already exists" in capsys.readouterr().err and onnx_path.read_bytes() == before
    assert pimsyn_main(["models", "export", "alexnet", "-o", str(onnx_path), "--force"]) == 0
    assert onnx_path.read_bytes() != before


def test_network_table_and_json(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_pimsim(capsys, "network", "vgg13")
    assert code == 0 and "conv +relu" in out and "3x224x224" in out and "11.3G" in out
    code, out, _ = run_pimsim(capsys, "network", str(PIMCOMP / "msra_A.json"), "--json")
    data = json.loads(out)
    assert code == 0 and data["macs"] == 19_051_814_912  # worked out by hand in test_pimcomp
    assert data["fingerprint"] and len(data["layers"]) == 27
    assert {"kind", "in_shapes", "out_shape", "kernel", "pads", "macs"} <= set(data["layers"][0])


def test_network_input_shape_option(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_pimsim(
        capsys,
        "network",
        str(DATA / "torchnet_noparams.onnx"),
        "--input-shape",
        "1,3,20,22",
        "--json",
    )
    assert code == 0 and json.loads(out)["macs"] == 47520 + 248832 + 15552 + 13824 + 7200


def _bad_inputs(tmp_path):  # type: ignore[no-untyped-def]
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n")
    full = zoo_model("resnet18").SerializeToString()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(full[: len(full) // 2])
    unknown = tmp_path / "unknown_op.onnx"
    unknown.write_bytes(
        onnx_text("""
      g (float[1,3,8,8] x, float[4,3,3,3] w) => (float z) {
        y = Conv(x, w)
        z = LpNormalization(y)
      }""").SerializeToString()
    )
    dynamic = tmp_path / "dynamic.onnx"
    dynamic.write_bytes(
        onnx_text("""
      g (float[N,3,H,W] x, float[4,3,3,3] w) => (float y) {
        y = Conv(x, w)
      }""").SerializeToString()
    )
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    return [
        (str(text), "notes.onnx", "not a readable ONNX model"),
        (str(truncated), "truncated.onnx", "truncated"),
        (str(unknown), "node 'z' (op LpNormalization", "LpNormalization is not supported"),
        (str(dynamic), "input 'x'", "dynamic dimension 'H' at axis 2"),
        (str(tmp_path / "missing.onnx"), "missing.onnx", "no such file"),
        (str(empty), "empty.onnx", "holds no nodes"),
        ("no_such_model", "no_such_model", "neither a zoo model nor a file"),
    ]


def test_bad_inputs_exit_2_with_one_paragraph(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    for path, place, cause in _bad_inputs(tmp_path):
        code, out, err = run_pimsim(capsys, "network", path)
        assert code == 2, path
        assert place in err and cause in err, err
        assert "Traceback" not in err and out == ""
        assert err.count("\n\n") == 0


def test_console_script_prints_no_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage\xff\xff\xff")
    proc = subprocess.run(
        [sys.executable, "-m", "pimsim.cli", "network", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "bad.onnx" in proc.stderr


@pytest.mark.parametrize(
    "argv,cause",
    [
        (["network"], "the following arguments are required: model"),
        (["network", "vgg13", "--input-shape", "1,x"], "not a list of integers"),
        (["network", "vgg13", "--input-shape", "0,3,4,4"], "must be a positive integer"),
        (["network", "vgg13", "--input-shape", "3,32,32"], "fixed input size"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments(capsys, argv, cause) -> None:  # type: ignore[no-untyped-def]
    try:
        code = pimsim_main(argv)  # errors found after parsing return 2
    except SystemExit as exc:  # argparse's own errors exit with 2
        code = exc.code
    assert code == 2
    assert cause in capsys.readouterr().err


def test_every_zoo_model_round_trips_through_an_onnx_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pimsim.network import load_network
    from pimsim.network.zoo import zoo_network

    for name in ZOO:
        path = tmp_path / f"{name}.onnx"
        onnx.save(zoo_model(name), path)
        assert load_network(path).fingerprint() == zoo_network(name).fingerprint()


def test_arch_json_names_its_model_file_relative_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A design written from one folder runs from any other: arch.json names a model file by its
    path relative to arch.json (how it is read); a zoo name stays a zoo name."""
    from pimsim.network.load import model_reference

    (tmp_path / "models").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert pimsyn_main(["models", "export", "vgg11-cifar", "-o", "../models/v.onnx"]) == 0
    assert model_reference("../models/v.onnx", "out/deep") == "../../../models/v.onnx"
    assert model_reference("vgg11-cifar", "out/deep") == "vgg11-cifar"
    assert pimsyn_main(["baseline", "isaac", "../models/v.onnx", "-o", "out/deep/a.json"]) == 0
    arch = json.loads((tmp_path / "work" / "out" / "deep" / "a.json").read_text())
    assert arch["mapping"]["network"] == "../../../models/v.onnx"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert pimsim_main(["estimate", "../work/out/deep/a.json", "--json"]) == 0
