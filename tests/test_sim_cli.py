"""``pimsim run`` and ``pimsim compile``, and the layering rules the simulator keeps."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import onnx
import pytest

from pimsim.arch.schema import Architecture
from pimsim.cli.main import main as pimsim_main
from pimsim.model.plan import Plan
from pimsim.sim import compile_program
from pimsim.sim.expand import program_ops
from tests.conftest import ROOT, onnx_text
from tests.test_sim_hand import TO_FC, TWO_CONVS, to_fc, two_convs

VGG = ROOT / "configs" / "arch" / "examples" / "vgg11-cifar-simple.json"
ISAAC = ROOT / "configs" / "arch" / "isaac" / "arch.json"


def pimsim(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = pimsim_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def save(tmp_path: Path, plan: Plan, text: str) -> Path:
    """Write a hand design as arch.json with its network as ONNX beside it."""
    onnx.save(onnx_text(text), tmp_path / "hand.onnx")
    assert plan.arch.mapping is not None
    mapping = plan.arch.mapping.model_copy(update={"network": "hand.onnx"})
    arch = plan.arch.model_copy(update={"mapping": mapping})
    path = tmp_path / "arch.json"
    path.write_text(arch.model_dump_json(exclude_none=True))
    assert Architecture.model_validate_json(path.read_text()) == arch
    return path


def test_run_prints_simulation_beside_estimate(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    arch = save(tmp_path, two_convs(), TWO_CONVS)
    code, out, err = pimsim(capsys, "run", str(arch), "--images", "2")
    assert code == 0 and err == ""
    for text in (
        "simulated",
        "estimate",
        "difference",
        "throughput",
        "+0.00%",
        "per layer",
        "busiest units",
        "energy per image by component",
        "macro 0/ADC bank",
    ):
        assert text in out, text


def test_run_json_and_trace(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    trace = tmp_path / "out" / "run.json.gz"
    code, out, _ = pimsim(
        capsys,
        "run",
        str(VGG),
        "--images",
        "2",
        "--json",
        "--trace",
        str(trace),
        "--trace-level",
        "layer",
    )
    assert code == 0
    data = json.loads(out)
    assert abs(data["difference_pct"]["throughput"]) < 1
    assert abs(data["difference_pct"]["energy per image"]) < 1
    sim = data["simulation"]
    assert sim["images"] == 2 and len(sim["latency_ns"]) == 2 and sim["events"] > 0
    assert sim["trace_file"] == str(trace) and (tmp_path / "out" / "run.summary.json").exists()
    code, _, err = pimsim(capsys, "run", str(VGG), "--images", "1", "--trace", str(trace))
    assert code == 2 and "already exists" in err and "Traceback" not in err
    assert (
        pimsim(capsys, "run", str(VGG), "--images", "1", "--trace", str(trace), "--force")[0] == 0
    )


def test_run_input_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = pimsim(capsys, "run", str(ISAAC))
    assert code == 2 and "mapping" in err and "Traceback" not in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        pimsim_main(["run", str(VGG), "--images", "0"])
    assert exit_info.value.code == 2 and "--images" in capsys.readouterr().err
    code, _, err = pimsim(capsys, "run", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err


def test_run_reports_a_deadlock(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    arch = save(tmp_path, to_fc(), TO_FC)
    code, out, err = pimsim(capsys, "run", str(arch), "--images", "1")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "deadlock" in err and "waits for block 15 of 'p'" in err and "buffer_kib" in err


def test_compile_lists_the_program(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    arch = save(tmp_path, two_convs(), TWO_CONVS)
    code, out, _ = pimsim(capsys, "compile", str(arch))
    assert code == 0 and "instructions per image" in out
    code, out, _ = pimsim(capsys, "compile", str(arch), "--json", "--images", "2")
    data = json.loads(out)
    assert [x["name"] for x in data["program"]["layers"]] == ["y", "z"]
    ops = data["ops"]
    # per image and layer: 4 blocks x (load, 4 x (mvm, adc, shift-add), add, store), plus the
    # 4 transfers of y to z
    assert len(ops) == 2 * (2 * 4 * (1 + 12 + 2) + 4)
    seen: set[str] = set()
    for op in ops:  # streamed in an order where every dependency comes first
        assert all(a in seen for a in op["after"]) and (op.get("slot") in seen | {None})
        seen.add(op["id"])
    z_first = next(op for op in ops if op["id"] == "load:z@1:0:0")
    assert z_first["after"] == ["transfer:y->z@1:0:1"]  # the window: y's rows 0 and 1
    code, out, _ = pimsim(capsys, "compile", str(arch), "--json", "--level", "block")
    assert len(json.loads(out)["ops"]) == 2 * 4 * 6 + 4


def test_program_ops_are_lazy() -> None:
    program = compile_program(two_convs())
    ops = program_ops(program, images=10**6)  # a generator: nothing is built up front
    first = next(ops)
    assert first.id == "load:y@0:0:0" and first.after == ()


def _python_files() -> list[Path]:
    return sorted((ROOT / "pimsim").rglob("*.py"))


def test_only_pimsim_sim_creates_a_simpy_environment() -> None:
    for path in _python_files():
        tree = ast.parse(path.read_text())
        inside = path.parent.name == "sim" and path.parent.parent.name == "pimsim"
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                module = node.module if isinstance(node, ast.ImportFrom) else None
                if not inside:
                    assert "simpy" not in names and not (module or "").startswith("simpy"), path
                assert "synth" not in names and not (module or "").startswith("synth"), path


def test_no_module_level_state_in_the_simulator() -> None:
    mutable = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
    for path in sorted((ROOT / "pimsim" / "sim").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", "") == "__all__" for t in targets):
                    continue
                value = node.value
                where = f"{path.name}:{node.lineno}"
                assert not isinstance(value, mutable), where
                if isinstance(value, ast.Call):
                    assert getattr(value.func, "id", "") in ("MappingProxyType", "frozenset"), where
