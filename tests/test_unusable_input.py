"""Every command survives input that loads but cannot be used (issue 14): a network with nothing to
map onto crossbars, a layer too large for a budget, an arch.json that leaves a layer without ADCs or
units, a budget that fits only the fixed costs, a JSON file that is no trace, a folder that is no run.
Each ends in exit code 2 and one paragraph on stderr naming the file, the place and the cause, never
a traceback; the inputs that are merely small (one layer, FC only, the smallest budget) work.

Every command of both parsers is also run over the whole bad-input corpus (``tests/data/bad``), each
file through every command that reads its kind. The commands are listed from the argparse parsers, so
a new command fails ``test_every_command_is_tried`` until it has cases here.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import onnx
import pytest

from pimsim.cli.main import build_parser as pimsim_parser
from pimsim.cli.main import main as pimsim_main
from pimsim.components.library import load_library
from pimsim.network.load import load_model
from pimsim.network.onnx_builder import GraphWriter
from synth.budget import minimum_budget_w
from synth.cli import build_parser as pimsyn_parser
from synth.cli import main as pimsyn_main
from synth.settings import Settings
from tests.conftest import DATA, PIMCOMP, ROOT

BAD = DATA / "bad"
EXAMPLE = ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json"
QUICK = ["--quick", "--jobs", "1"]


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every command path of ``parser`` (a command with sub-actions counts, and so does each)."""
    found: set[tuple[str, ...]] = {prefix} if len(prefix) > 1 else set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _commands(sub, (*prefix, name))
    return found


def _call(argv: list[str]) -> int:
    main = pimsim_main if argv[0] == "pimsim" else pimsyn_main
    try:
        return main(argv[1:])
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code or 0)


def _command(argv: list[str]) -> tuple[str, ...]:
    """The command path an argument list runs, e.g. ("pimsyn", "models", "export")."""
    known = ALL_COMMANDS
    words = [w for w in argv if not w.startswith("-")]
    for n in (3, 2):
        if tuple(words[:n]) in known:
            return tuple(words[:n])
    raise AssertionError(f"no command in {argv}")


ALL_COMMANDS = _commands(pimsim_parser(), ("pimsim",)) | _commands(pimsyn_parser(), ("pimsyn",))


def _save(name: str, folder: Path, build) -> Path:  # type: ignore[no-untyped-def]
    g = GraphWriter(name, (3, 8, 8) if name != "huge_fc" else (4096, 1, 1))
    path = folder / f"{name}.onnx"
    onnx.save(g.model(build(g)), path)
    return path


def _arch_variant(folder: Path, name: str, change) -> Path:  # type: ignore[no-untyped-def]
    data = json.loads(EXAMPLE.read_text())
    change(data)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small files that load but cannot be used (and a few that are merely small)."""
    d = tmp_path_factory.mktemp("unusable")
    macro0 = lambda data: data["hardware"]["macros"][0]  # noqa: E731
    files = {
        # networks: 8x8x3 images (huge_fc: a 4096-vector)
        "pool_only": _save("pool_only", d, lambda g: g.maxpool("input", 2, 2)),
        "relu_only": _save("relu_only", d, lambda g: g.relu("input")),
        "one_conv": _save("one_conv", d, lambda g: g.conv("input", 4, 3, pad=1)),
        "fc_only": _save("fc_only", d, lambda g: g.fc(g.flatten("input", 192), 10)),
        "huge_fc": _save("huge_fc", d, lambda g: g.fc(g.flatten("input", 4096), 100_000)),
        # arch.json: the VGG11-CIFAR example with one thing taken away
        "no_adc": _arch_variant(d, "no_adc", lambda a: macro0(a).update(adcs=0)),
        "no_shift_add": _arch_variant(d, "no_shift_add", lambda a: macro0(a)["units"].pop("shift_add")),
        "no_pool_unit": _arch_variant(d, "no_pool_unit", lambda a: macro0(a)["units"].pop("pool")),
        "no_crossbars": _arch_variant(d, "no_crossbars", lambda a: macro0(a).update(crossbars=0)),
        "unmapped": _arch_variant(
            d, "unmapped", lambda a: a["mapping"].update(layers=a["mapping"]["layers"][1:])
        ),
        "no_mapping": _arch_variant(d, "no_mapping", lambda a: a.pop("mapping")),
        # traces that are none
        "ints": d / "ints.json",
        "text_ts": d / "text_ts.json",
        # run folders that are none
        "empty_dir": d / "empty_dir",
        "onnx_dir": d / "folder.onnx",
        "unmapped_run": d / "unmapped_run",
        "out": d / "out",
    }  # fmt: skip
    files["ints"].write_text("[1, 2]")
    slice_ = {"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": "soon", "dur": 1, "args": {}}
    files["text_ts"].write_text(json.dumps({"traceEvents": [slice_]}))
    files["empty_dir"].mkdir()
    files["onnx_dir"].mkdir()
    files["unmapped_run"].mkdir()
    shutil.copy(files["no_mapping"], files["unmapped_run"] / "arch.json")
    (files["unmapped_run"] / "report.json").write_text('{"model": "vgg11-cifar"}')
    files["out"].mkdir()
    return files


NO_WEIGHTS = "has no convolution or fully connected layer"
#: (id, argv, [file, place, cause]); "{name}" is a file of ``inputs``
CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "explore: only a pooling layer",
        ["pimsyn", "explore", "{pool_only}", "--power-w", "5", *QUICK],
        ["{pool_only}", "graph", f"{NO_WEIGHTS} (only pool)"],
    ),
    (
        "explore: only an activation",
        ["pimsyn", "explore", "{relu_only}", "--power-w", "5", *QUICK],
        ["{relu_only}", "graph", f"{NO_WEIGHTS} (only act)"],
    ),
    (
        "baseline: only a pooling layer",
        ["pimsyn", "baseline", "isaac", "{pool_only}", "-o", "{out}/isaac.json"],
        ["{pool_only}", "graph", NO_WEIGHTS],
    ),
    (
        "explore: a layer too large for the budget",
        ["pimsyn", "explore", "{huge_fc}", "--power-w", "5", *QUICK],
        ["command line, --power-w", "5 W is too small for huge_fc", "smallest budget that works"],
    ),
    (
        "estimate: a macro without ADCs",
        ["pimsim", "estimate", "{no_adc}"],
        ["{no_adc}", "mapping.layers[0].macros[0]", "has no ADC but hosts weight layer 'conv2'"],
    ),
    (
        "run: a macro without shift-and-add",
        ["pimsim", "run", "{no_shift_add}", "--images", "1"],
        ["{no_shift_add}", "macro 0, conv2#0", "has no 'shift_add' unit but runs 'conv2'"],
    ),
    (
        "compile: a pooling layer's host without a pool unit",
        ["pimsim", "compile", "{no_pool_unit}"],
        ["{no_pool_unit}", "macro 0, conv2#0", "has no 'pool' unit but runs 'pool4'"],
    ),
    (
        "run: a macro without crossbars",
        ["pimsim", "run", "{no_crossbars}", "--images", "1"],
        ["{no_crossbars}", "macro 0, conv2#0", "needs 32 crossbars but the macro has 0"],
    ),
    (
        "estimate: a weight layer left unmapped",
        ["pimsim", "estimate", "{unmapped}"],
        ["{unmapped}", "mapping.layers", "weight layer 'conv2' is not mapped"],
    ),
    (
        "run: hardware without a mapping",
        ["pimsim", "run", "{no_mapping}"],
        ["{no_mapping}", "mapping", "there is no network to run"],
    ),
    (
        "compile: hardware without a mapping",
        ["pimsim", "compile", "{no_mapping}"],
        ["{no_mapping}", "mapping", "there is no network to run"],
    ),
    (
        "trace: a PIMCOMP network",
        ["pimsim", "trace", str(PIMCOMP / "alexnet.json"), "--summary"],
        [str(PIMCOMP / "alexnet.json"), "traceEvents", "but no trace event"],
    ),
    (
        "trace: a list of numbers",
        ["pimsim", "trace", "{ints}", "--summary"],
        ["{ints}", "traceEvents", "holds 2 entries but no trace event"],
    ),
    (
        "trace: a slice whose time is text",
        ["pimsim", "trace", "{text_ts}", "--summary"],
        ["{text_ts}", "traceEvents", "could not convert string to float: 'soon'"],
    ),
    (
        "plot: an empty folder",
        ["pimsyn", "plot", "{empty_dir}"],
        ["{empty_dir}", "holds no report.json", "`pimsyn explore` output folder"],
    ),
    (
        "plot: a run whose design maps nothing",
        ["pimsyn", "plot", "{unmapped_run}"],
        ["{unmapped_run}/arch.json", "mapping", "is missing"],
    ),
    (
        "explore --resume: a folder that is no run",
        ["pimsyn", "explore", "--resume", "{empty_dir}"],
        ["{empty_dir}", "holds no run.json", "not a `pimsyn explore` run"],
    ),
    (
        "models export: a folder as output",
        ["pimsyn", "models", "export", "vgg11-cifar", "-o", "{out}"],
        ["{out}", "has an unknown extension"],
    ),
    (
        "models export: onto a folder",
        ["pimsyn", "models", "export", "vgg11-cifar", "-o", "{onnx_dir}"],
        ["{onnx_dir}", "is a directory"],
    ),
    (
        "explore: --out under a file",
        ["pimsyn", "explore", "{one_conv}", "--power-w", "5", *QUICK, "--out", "{one_conv}/run"],
        ["{one_conv}/run", "cannot be created (Not a directory)"],
    ),
    (
        "run: --trace onto a folder",
        ["pimsim", "run", str(EXAMPLE), "--images", "1", "--trace", "{empty_dir}"],
        ["{empty_dir}", "is a directory"],
    ),
    (
        "trace: a folder",
        ["pimsim", "trace", "{empty_dir}", "--summary"],
        ["{empty_dir}", "is not a readable trace", "Is a directory"],
    ),
    (
        "models: an unknown option",
        ["pimsyn", "models", "--layers"],
        ["command line", "unrecognized arguments: --layers"],
    ),
    (
        "network: a model with a dynamic size and no --input-shape",
        ["pimsim", "network", str(BAD / "onnx" / "dynamic_shape.onnx")],
        [str(BAD / "onnx" / "dynamic_shape.onnx"), "input 'x'", "dynamic dimension 'H'"],
    ),
    (
        "schema: an unknown option",
        ["pimsim", "schema", "--network"],
        ["command line", "unrecognized arguments: --network"],
    ),
]


def _check(code: int, out: str, err: str, names: list[str]) -> None:
    """Exit code 2, nothing on stdout, one paragraph on stderr naming everything in ``names``."""
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error:"), err
    assert len(err.strip().splitlines()) == 1, err  # one paragraph: one unwrapped line
    assert out == ""
    for name in names:
        assert name in err, f"{name!r} not in {err!r}"


def _fill(text: str, inputs: dict[str, Path]) -> str:
    for key, path in inputs.items():
        text = text.replace(f"{{{key}}}", str(path))
    return text


@pytest.mark.parametrize("argv,names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unusable_input_is_one_paragraph(
    inputs: dict[str, Path], capsys: pytest.CaptureFixture[str], argv: list[str], names: list[str]
) -> None:
    args = [_fill(a, inputs) for a in argv]
    if args[1] == "explore" and "--resume" not in args and "--out" not in args:
        args += ["--out", str(inputs["out"] / "run")]
    code = _call(args)
    out, err = capsys.readouterr()
    _check(code, out, err, [_fill(n, inputs) for n in names])
    assert not (inputs["out"] / "run").exists()  # unusable input leaves nothing behind


#: the commands that read each kind of corpus file, "{file}" the file, "{run}" a run folder holding it
CORPUS_COMMANDS: dict[str, list[list[str]]] = {
    "onnx": [
        ["pimsim", "network", "{file}"],
        ["pimsyn", "explore", "{file}", "--power-w", "20", *QUICK, "--out", "{out}/explored"],
        ["pimsyn", "baseline", "isaac", "{file}", "-o", "{out}/isaac.json"],
        ["pimsim", "trace", "{file}", "--summary"],
    ],
    "arch": [
        ["pimsim", "estimate", "{file}"],
        ["pimsim", "run", "{file}", "--images", "1"],
        ["pimsim", "compile", "{file}"],
        ["pimsim", "trace", "{file}", "--summary"],
        ["pimsyn", "plot", "{run}"],
    ],
    "library": [
        # the combination whose lossless ADC no_lossless_adc.json lacks; the others fail on loading
        ["pimsyn", "explore", "resnet18-cifar", "--power-w", "20", *QUICK, "--library", "{file}"]
        + ["--xbars", "128", "--cell-bits", "2", "--dac-bits", "1", "--out", "{out}/explored"],
    ],
}
CORPUS_COMMANDS["pimcomp"] = CORPUS_COMMANDS["onnx"]
#: a PIMCOMP network is a JSON list of objects: `pimsim trace` takes it for a trace without events
#: only if no entry has a 'ph' field, which is the refusal this test expects for every such file
CORPUS = sorted(p for p in BAD.rglob("*") if p.suffix in (".onnx", ".json"))


@pytest.mark.parametrize("file", CORPUS, ids=[str(p.relative_to(BAD)) for p in CORPUS])
def test_every_command_refuses_the_bad_corpus(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], file: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(file, run / "arch.json")
    (run / "report.json").write_text('{"model": "vgg11-cifar"}')
    for argv in CORPUS_COMMANDS[file.parent.name]:
        args = [
            a.replace("{file}", str(file))
            .replace("{run}", str(run))
            .replace("{out}", str(tmp_path))
            for a in argv
        ]
        code = _call(args)
        out, err = capsys.readouterr()
        named = str(run / "arch.json") if "{run}" in argv else str(file)
        _check(code, out, err, [named])
        assert not (tmp_path / "explored").exists()  # bad input leaves nothing behind
        assert not (tmp_path / "isaac.json").exists()


def test_every_command_is_tried() -> None:
    """Each command of both parsers meets unusable input here (a new command needs cases)."""
    tried = {_command(c[1]) for c in CASES}
    tried |= {_command(argv) for argvs in CORPUS_COMMANDS.values() for argv in argvs}
    assert ALL_COMMANDS == {
        ("pimsim", "network"), ("pimsim", "schema"), ("pimsim", "estimate"), ("pimsim", "run"),
        ("pimsim", "trace"), ("pimsim", "compile"), ("pimsyn", "explore"), ("pimsyn", "plot"),
        ("pimsyn", "baseline"), ("pimsyn", "models"), ("pimsyn", "models", "export"),
    }  # fmt: skip
    assert tried == ALL_COMMANDS, sorted(ALL_COMMANDS - tried)


def test_a_single_layer_at_the_smallest_budget_goes_through_every_command(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One 3x3 conv (3 -> 4 channels, 8x8) synthesized at the smallest budget that works, which
    the fixed costs nearly fill, then estimated, compiled, simulated, traced, plotted and mapped
    onto ISAAC: every command ends with 0 and the design maps that one layer within the budget; a
    simulation stopped by its first cycle guard still renders (it divided by 0 ns)."""
    model = inputs["one_conv"]
    network = load_model(model)
    settings = Settings(power_w=1.0).quick()
    smallest, _ = minimum_budget_w(network, load_library(settings.library), settings)
    run = tmp_path / "run"
    explore = ["pimsyn", "explore", str(model), "--power-w", repr(smallest), *QUICK]
    assert _call([*explore, "--validate", "--top-k", "1", "--images", "1", "--out", str(run)]) == 0
    arch = run / "arch.json"
    trace = tmp_path / "t.json.gz"
    for argv, expected in (
        (["pimsim", "network", str(model)], 0),
        (["pimsim", "estimate", str(arch)], 0),
        (["pimsim", "compile", str(arch)], 0),
        (["pimsim", "run", str(arch), "--images", "2", "--trace", str(trace)], 0),
        (["pimsim", "trace", str(trace), "--summary"], 0),
        (["pimsyn", "plot", str(run)], 0),
        (["pimsyn", "baseline", "isaac", str(model), "-o", str(tmp_path / "isaac.json")], 0),
        # stopped before its first event ends: 0 ns simulated, every unit idle, exit 3 (partial)
        (["pimsim", "run", str(arch), "--max-cycles", "1", "--plot", str(tmp_path / "t")], 3),
    ):
        assert _call(argv) == expected, argv
    assert "Traceback" not in capsys.readouterr().err
    mapping = json.loads(arch.read_text())["mapping"]
    assert [layer["layer"] for layer in mapping["layers"]] == [network.weight_layers[0].name]
    best = json.loads((run / "report.json").read_text())["best"]
    assert best["peak_power_w"] <= smallest
    # just below, the same command is refused with the smallest budget named
    below = f"{smallest * 0.99!r}"
    assert _call([*explore[:4], below, *QUICK, "--out", str(tmp_path / "below")]) == 2
    assert "too small for one_conv" in capsys.readouterr().err


def test_a_default_run_folder_that_cannot_be_made_is_one_paragraph(
    inputs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --out the run goes under runs/; a file of that name is named in the message."""
    monkeypatch.chdir(tmp_path)
    Path("runs").write_text("not a folder")
    code = _call(["pimsyn", "explore", str(inputs["one_conv"]), "--power-w", "5", *QUICK])
    out, err = capsys.readouterr()
    _check(code, out, err, ["runs/one_conv-5w", "cannot be created (Not a directory)", "--out"])


def test_a_network_of_fc_layers_only_is_explored(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No conv layer: nothing to duplicate (the annealing once crashed on the empty vector)."""
    argv = ["pimsyn", "explore", str(inputs["fc_only"]), "--power-w", "5", *QUICK]
    assert _call([*argv, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    best = json.loads((tmp_path / "run" / "report.json").read_text())["best"]
    assert best["dup"] == [1]
