"""Bad input never crashes: every file of the corpus under tests/data/bad and every out-of-range
argument makes the command-line tools exit with code 2 and one paragraph on stderr that names the
file, the place in it and the cause, never a traceback.

Each case is (corpus file or argument list, the place the message must name, the cause it must give).
The corpus is written by ``tests/data/bad/make_corpus.py``; its README lists the cases.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pimsim.cli.main import main as pimsim_main
from pimsim.components.library import load_library
from pimsim.network.zoo import zoo_network
from synth.budget import minimum_budget_w
from synth.cli import main as pimsyn_main
from synth.settings import Settings
from tests.conftest import DATA, PIMCOMP, ROOT

BAD = DATA / "bad"
NETWORK = ["network", "{file}"]
ESTIMATE = ["estimate", "{file}"]
EXPLORE = ["explore", "resnet18-cifar", "--power-w", "20", "--quick", "--jobs", "1"]
LIBRARY = [*EXPLORE, "--library", "{file}"]

#: (corpus file, command, place, cause)
FILE_CASES: list[tuple[str, list[str], str, str]] = [
    ("onnx/not_onnx_text.onnx", NETWORK, "at byte 0", "is not a readable ONNX model"),
    ("onnx/random_bytes.onnx", NETWORK, "at byte 6", "is not a readable ONNX model"),
    ("onnx/truncated.onnx", NETWORK, "runs past the end", "file truncated?"),
    ("onnx/empty_file.onnx", NETWORK, "graph", "holds no nodes"),
    ("onnx/empty_graph.onnx", NETWORK, "graph", "holds no nodes"),
    (
        "onnx/unknown_op.onnx",
        NETWORK,
        "node 'z' (op LpNormalization, node #1)",
        "operator LpNormalization is not supported",
    ),
    (
        "onnx/custom_domain_op.onnx",
        NETWORK,
        "node 'y' (op Frobnicate, node #0)",
        "of domain 'com.example' is not supported",
    ),
    ("onnx/dynamic_shape.onnx", NETWORK, "input 'x'", "dynamic dimension 'H' at axis 2"),
    ("onnx/zero_dim.onnx", NETWORK, "input 'x'", "zero-size dimension (0) at axis 1"),
    ("onnx/negative_dim.onnx", NETWORK, "input 'x'", "negative dimension (-8) at axis 2"),
    ("onnx/huge_dim.onnx", NETWORK, "input 'x'", "absurd dimension 4000000000 at axis 3"),
    ("onnx/rank5_input.onnx", NETWORK, "input 'x'", "has rank 5"),
    (
        "onnx/cycle.onnx",
        NETWORK,
        "node 'y' (op Add, node #0)",
        "cycle of nodes ('y' -> 'z' -> 'y')",
    ),
    (
        "onnx/dangling_edge.onnx",
        NETWORK,
        "node 'z' (op Add, node #1)",
        "reads tensor 'ghost', which no node, graph input or initializer produces",
    ),
    (
        "onnx/missing_graph_input.onnx",
        NETWORK,
        "node 'c1' (op Conv, node #0)",
        "reads tensor 'x', which no node",
    ),
    (
        "onnx/tensor_written_twice.onnx",
        NETWORK,
        "node 'y' (op Sigmoid, node #1)",
        "writes tensor 'y', which node #0 already produces",
    ),
    ("onnx/group_zero.onnx", NETWORK, "node 'y' (op Conv, node #0)", "has group=0"),
    (
        "onnx/weight_mismatch.onnx",
        NETWORK,
        "node 'y' (op Conv, node #0)",
        "weight of shape [4, 5, 3, 3], which do not fit Cin=3",
    ),
    (
        "onnx/window_too_big.onnx",
        NETWORK,
        "node 'y' (op MaxPool, node #0), tensor 'y'",
        "zero-size or negative dimension [1, 3, -3, -3]",
    ),
    (
        "onnx/kernel_shape_mismatch.onnx",
        NETWORK,
        "node 'y' (op Conv, node #0)",
        "kernel_shape [5, 5] but its weight's kernel is [3, 3]",
    ),
    (
        "onnx/attribute_wrong_type.onnx",
        NETWORK,
        "node 'y' (op Concat, node #2)",
        "attribute 'axis' is of type STRING, not INT",
    ),
    (
        "onnx/corrupt_initializer.onnx",
        NETWORK,
        "initializer 'b1'",
        "its data does not fit its dims [4]",
    ),
    ("onnx/bad_utf8_name.onnx", NETWORK, "model.graph.node[1].output[0]", "is not valid UTF-8"),
    ("pimcomp/not_json.json", NETWORK, "line 2, column 1", "is not valid JSON"),
    ("pimcomp/deep_nesting.json", NETWORK, "", "nests arrays or objects too deeply"),
    ("pimcomp/empty_list.json", NETWORK, "top level", "must be a non-empty JSON list of nodes"),
    ("pimcomp/object_not_list.json", NETWORK, "top level", "must be a non-empty JSON list"),
    ("pimcomp/only_input.json", NETWORK, "top level", "has no layer that computes anything"),
    (
        "pimcomp/missing_output_dim.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "lacks the field 'output_dim'",
    ),
    (
        "pimcomp/missing_kernel.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "lacks the parameter 'kernel_h'",
    ),
    (
        "pimcomp/provider_wrong_type.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "field 'provider' has the wrong type (str: x)",
    ),
    (
        "pimcomp/provider_not_names.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "field 'provider' must list node names",
    ),
    (
        "pimcomp/dangling_provider.json",
        NETWORK,
        "node [2] 'pool1' (OP_POOL)",
        "names the provider 'ghost', which is not a node",
    ),
    ("pimcomp/cycle.json", NETWORK, "node [1] 'conv1' (OP_CONV)", "is on a cycle of providers"),
    (
        "pimcomp/duplicate_name.json",
        NETWORK,
        "node [2] 'conv1' (OP_POOL)",
        "repeats the name 'conv1' of node [1]",
    ),
    (
        "pimcomp/nan_parameter.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "parameter 'kernel_h' must be a whole number",
    ),
    (
        "pimcomp/param_not_object.json",
        NETWORK,
        "node [2] 'pool1' (OP_POOL)",
        "field 'param' is not an object",
    ),
    (
        "pimcomp/zero_dim.json",
        NETWORK,
        "node [2] 'pool1' (OP_POOL)",
        "output_dim must be 2 or 4 positive integers",
    ),
    (
        "pimcomp/unknown_operation.json",
        NETWORK,
        "node [2] 'pool1' (OP_FOO)",
        "operation 'OP_FOO' is not supported",
    ),
    (
        "pimcomp/window_mismatch.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "cannot give a 4x8x8 output",
    ),
    (
        "pimcomp/channel_mismatch.json",
        NETWORK,
        "node [1] 'conv1' (OP_CONV)",
        "input_channel is 5 but its provider delivers 3 channels",
    ),
    ("arch/not_json.json", ESTIMATE, "line 1, column 1", "is not valid JSON"),
    ("arch/empty_file.json", ESTIMATE, "line 1, column 1", "is not valid JSON"),
    ("arch/list.json", ESTIMATE, "at (top level)", "Input should be a valid dictionary"),
    ("arch/missing_fields.json", ESTIMATE, "at hardware.xbar_size", "2 problems"),
    ("arch/wrong_types.json", ESTIMATE, "at hardware.cell_bits", "Input should be a valid integer"),
    (
        "arch/negative_count.json",
        ESTIMATE,
        "at hardware.macros[0].adcs",
        "greater than or equal to 0",
    ),
    (
        "arch/absurd_crossbars.json",
        ESTIMATE,
        "at hardware.macros[0].crossbars",
        "less than or equal to 1048576",
    ),
    (
        "arch/absurd_macro_count.json",
        ESTIMATE,
        "at hardware:",
        "the macro groups add up to 3145799 macros",
    ),
    ("arch/nan_clock.json", ESTIMATE, "at hardware.clock_ghz", "Input should be a finite number"),
    ("arch/unknown_key.json", ESTIMATE, "at hardware.xbar_sise", "Extra inputs are not permitted"),
    ("arch/unknown_schema_version.json", ESTIMATE, "at schema_version", "Input should be 1"),
    (
        "arch/unknown_network.json",
        ESTIMATE,
        "at mapping.network",
        "vgg99: is neither a zoo model nor a file",
    ),
    (
        "arch/wrong_fingerprint.json",
        ESTIMATE,
        "at mapping.fingerprint",
        "the mapping was made for another network",
    ),
    (
        "arch/layer_over_macro.json",
        ["run", "{file}", "--images", "1"],
        "at mapping (macro 0, conv2#0)",
        "needs 32 crossbars but the macro has 16",
    ),
    (
        "arch/nonexistent_macro.json",
        ["compile", "{file}"],
        "at mapping.layers[0].macros[0]",
        "macro 999 does not exist",
    ),
    (
        "arch/host_nonexistent_macro.json",
        ESTIMATE,
        "at mapping.hosts.pool4",
        "macro 5000 does not exist",
    ),
    (
        "arch/adc_bits_mismatch.json",
        ESTIMATE,
        "at hardware.parts.adc.resolution_bits",
        "is 8 but adc_bits is 9",
    ),
    ("library/not_json.json", LIBRARY, "", "cannot be read ('utf-8' codec"),
    ("library/missing_value.json", LIBRARY, "at adcs[0].static_power_w", "Field required"),
    (
        "library/negative_value.json",
        LIBRARY,
        "at dacs[0].static_power_w",
        "greater than or equal to 0",
    ),
    (
        "library/wrong_unit.json",
        LIBRARY,
        "at crossbars[0].latency_ns",
        "Input should be a valid number",
    ),
    ("library/missing_source.json", LIBRARY, "at buffers[0].source", "Field required"),
    (
        "library/infinite_power.json",
        LIBRARY,
        "at units[0].peak_power_w",
        "Input should be a finite number",
    ),
    ("library/no_nocs.json", LIBRARY, "at nocs", "List should have at least 1 item"),
    ("library/duplicate_part.json", LIBRARY, "adcs[10]", "repeats resolution_bits=4 of adcs[0]"),
    (
        "library/no_lossless_adc.json",
        [*LIBRARY, "--xbars", "128", "--cell-bits", "2", "--dac-bits", "1"],
        "can be built at any budget",
        "8-bit ADC",
    ),
]

#: (program, arguments, place, cause); "{bad}" is the corpus folder.
ARGUMENT_CASES: list[tuple[str, list[str], str, str]] = [
    ("pimsyn", ["explore", "resnet18", "--power-w", "0"], "--power-w", "must be a finite number"),
    ("pimsyn", ["explore", "resnet18", "--power-w", "-5"], "--power-w", "greater than 0"),
    ("pimsyn", ["explore", "resnet18", "--power-w", "nan"], "--power-w", "'nan' must be"),
    ("pimsyn", ["explore", "resnet18", "--power-w", "inf"], "--power-w", "'inf' must be"),
    ("pimsyn", ["explore", "resnet18", "--power-w", "lots"], "--power-w", "'lots' is not a number"),
    ("pimsyn", ["explore", "resnet18-cifar", "--quick"], "--power-w", "give the power budget"),
    ("pimsyn", [*EXPLORE, "--jobs", "0"], "--jobs", "'0' must be at least 1"),
    ("pimsyn", [*EXPLORE, "--images", "0"], "--images", "'0' must be at least 1"),
    ("pimsyn", [*EXPLORE, "--top-k", "0"], "--top-k", "'0' must be at least 1"),
    ("pimsyn", [*EXPLORE, "--tolerance", "-1"], "--tolerance", "of at least 0"),
    ("pimsyn", [*EXPLORE, "--alpha", "nan"], "--alpha", "'nan' must be a finite number"),
    ("pimsyn", [*EXPLORE, "--rram-ratios", "0,1.5"], "--rram-ratios", "between 0 and 1"),
    ("pimsyn", [*EXPLORE, "--rram-ratios", "a,b"], "--rram-ratios", "comma-separated list"),
    ("pimsyn", [*EXPLORE, "--cell-bits", "3"], "--cell-bits", "among [1, 2, 4]"),
    ("pimsyn", [*EXPLORE, "--xbars", "100"], "--xbars", "among [128, 256, 512]"),
    ("pimsyn", [*EXPLORE, "--seed", "x"], "--seed", "invalid int value"),
    ("pimsyn", [*EXPLORE, "--library", "nonesuch"], "nonesuch", "neither a built-in component"),
    ("pimsyn", ["explore", "nonesuch", "--power-w", "20"], "nonesuch", "neither a zoo model"),
    ("pimsyn", ["explore", "", "--power-w", "20"], "argument model", "the model is empty"),
    ("pimsyn", ["models", "export", "nonesuch", "-o", "x.onnx"], "nonesuch", "is not a zoo model"),
    ("pimsyn", ["baseline", "isaac", "{bad}/onnx/cycle.onnx"], "node 'y'", "cycle of nodes"),
    ("pimsim", ["run", "{bad}/no/such/arch.json"], "arch.json", "no such file"),
    ("pimsim", ["estimate", "{bad}"], "bad", "cannot be read"),
    ("pimsim", ["run", "{bad}/arch/list.json", "--images", "0"], "--images", "must be at least 1"),
    ("pimsim", ["compile", "{bad}/arch/list.json", "--images", "-1"], "--images", "at least 1"),
    ("pimsim", ["trace", "{bad}/arch/list.json", "--limit", "0"], "--limit", "at least 1"),
    (
        "pimsim",
        ["network", "vgg13", "--input-shape", "1,x"],
        "--input-shape",
        "not a list of integers",
    ),
    (
        "pimsim",
        ["network", "vgg13", "--input-shape", "0,3,4,4"],
        "--input-shape",
        "must be a positive integer",
    ),
    (
        "pimsim",
        ["network", "vgg13", "--input-shape", "1,3,32,32"],
        "input shape",
        "the zoo model 'vgg13' has a fixed input size",
    ),
    (
        "pimsim",
        ["network", "{bad}/onnx/dynamic_shape.onnx", "--input-shape", "3,8"],
        "input 'x'",
        "has rank 4 but the input shape given has 2 dimensions",
    ),
    (
        "pimsim",
        ["network", "{bad}/onnx/dynamic_shape.onnx", "--input-shape", "1,3,8,9999999999"],
        "input shape",
        "dimension 3 is 9999999999",
    ),
    (
        "pimsim",
        ["network", str(PIMCOMP / "alexnet.json"), "--input-shape", "1,3,8,8"],
        "input shape",
        "a PIMCOMP JSON network has fixed shapes",
    ),
    ("pimsim", ["network"], "model", "the following arguments are required"),
    ("pimsim", ["frobnicate"], "COMMAND", "invalid choice"),
]


def _call(program: str, argv: list[str]) -> int:
    main = pimsim_main if program == "pimsim" else pimsyn_main
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


def _check(code: int, out: str, err: str, names: list[str]) -> None:
    """Exit code 2, nothing on stdout, one paragraph on stderr naming everything in ``names``."""
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error:"), err
    assert len(err.strip().splitlines()) == 1, err  # one paragraph: one unwrapped line
    assert out == ""
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"


@pytest.mark.parametrize(
    "name,argv,place,cause", [pytest.param(*case, id=case[0]) for case in FILE_CASES]
)
def test_bad_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    argv: list[str],
    place: str,
    cause: str,
) -> None:
    file = BAD / name
    assert file.stat().st_size < 50_000
    out_dir = tmp_path / "out"
    args = [a.replace("{file}", str(file)) for a in argv]
    program = "pimsyn" if argv[0] == "explore" else "pimsim"
    if program == "pimsyn":
        args += ["--out", str(out_dir)]
    code = _call(program, args)
    out, err = capsys.readouterr()
    _check(code, out, err, [str(file), place, cause])
    assert not out_dir.exists()  # bad input leaves nothing behind


@pytest.mark.parametrize(
    "program,argv,place,cause",
    ARGUMENT_CASES,
    ids=[" ".join(case[1])[:60] for case in ARGUMENT_CASES],
)
def test_bad_argument(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    program: str,
    argv: list[str],
    place: str,
    cause: str,
) -> None:
    args = [a.replace("{bad}", str(BAD)) for a in argv]
    if args[0] == "explore":
        args += ["--out", str(tmp_path / "out")]
    if args[:2] == ["models", "export"]:
        args[-1] = str(tmp_path / args[-1])
    code = _call(program, args)
    out, err = capsys.readouterr()
    _check(code, out, err, [place, cause])
    assert not (tmp_path / "out").exists()


def test_budget_too_small_names_the_smallest_budget_that_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The budget the message gives is minimum_budget_w rounded up, and it really works."""
    code = _call(
        "pimsyn", [*EXPLORE[:3], "1", "--quick", "--jobs", "1", "--out", str(tmp_path / "a")]
    )
    out, err = capsys.readouterr()
    _check(code, out, err, ["command line, --power-w", "1 W is too small for resnet18-cifar"])
    found = re.search(r"the smallest budget that works is ([0-9.]+) W", err)
    assert found, err
    smallest = float(found.group(1))
    minimum, _ = minimum_budget_w(
        zoo_network("resnet18-cifar"), load_library("pimsyn"), Settings(power_w=smallest).quick()
    )
    assert minimum <= smallest < minimum + 0.01
    assert (
        _call(
            "pimsyn",
            [
                *EXPLORE[:3],
                str(smallest),
                "--quick",
                "--jobs",
                "1",
                "--out",
                str(tmp_path / "b"),
                "--no-baseline",
            ],
        )
        == 0
    )
    capsys.readouterr()
    below = f"{smallest - 0.01:.2f}"
    assert (
        _call(
            "pimsyn", [*EXPLORE[:3], below, "--quick", "--jobs", "1", "--out", str(tmp_path / "c")]
        )
        == 2
    )
    assert f"the smallest budget that works is {found.group(1)} W" in capsys.readouterr().err


def test_every_corpus_file_has_a_case_and_a_readme_line() -> None:
    files = {
        p.relative_to(BAD).as_posix()
        for p in BAD.rglob("*")
        if p.is_file() and p.suffix in (".onnx", ".json")
    }
    cases = {c[0] for c in FILE_CASES}
    assert files == cases
    readme = (BAD / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "pimsim.cli", "network", str(BAD / "onnx" / "truncated.onnx")],
        [
            sys.executable,
            "-m",
            "pimsim.cli",
            "estimate",
            str(BAD / "arch" / "absurd_crossbars.json"),
        ],
        [
            sys.executable,
            "-c",
            "from synth.cli import main; main()",
            "explore",
            "resnet18",
            "--power-w",
            "nan",
        ],
    ],
)
def test_console_scripts_exit_2_without_traceback(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
    assert proc.stdout == ""
