"""``--validate``: rows, errors, the flag, and the rendering (on hand designs, fast)."""

from __future__ import annotations

import io
import math

from rich.console import Console

from synth.report import validation_table
from synth.validate import ValidationReport, validate_design
from tests.hand import two_layer_arch


def test_a_design_within_tolerance_is_not_flagged_and_one_beyond_is() -> None:
    arch, net = two_layer_arch()
    data = arch.model_dump(mode="json")
    fine = validate_design(0, data, net, 4, 5.0, None)
    assert not fine.flagged and fine.simulated["throughput_ips"] == fine.estimate["throughput_ips"]
    # the estimate's latency is 3709.5 ns, the simulation's 3737 cycles of 1 ns (-0.7 %): each block
    # sent to z (192 bits) is also read and written through the scratchpad ports (3 + 3 accesses)
    # and crosses one router more (injection), and each layer's first bit waits for its DACs'
    # conversion (10 ns at 0.1 GS/s; 3717 cycles without it), which the estimate's latency does
    # not charge
    assert math.isclose(fine.error_pct["latency_ns"], 100 * (3709.5 - 3737) / 3737)
    strict = validate_design(0, data, net, 4, 0.01, None)
    assert strict.flagged and strict.stalls  # the dominant stall causes are named
    text = io.StringIO()
    Console(file=text, width=220, color_system=None).print(
        validation_table(ValidationReport((fine, strict), 0.01, 4))
    )
    out = text.getvalue()
    assert "-0.74%" in out and "two" in out
    assert strict.stalls[0][0] in out


def test_validation_json_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from synth.validate import validate

    arch, net = two_layer_arch()
    report = validate([arch], net, images=2, tolerance_pct=5.0, out=tmp_path)
    data = json.loads((tmp_path / "validation.json").read_text())
    assert data["rows"][0]["design"] == "two" and not data["rows"][0]["flagged"]
    assert (tmp_path / "traces" / "design0.json.gz").exists() and report.rows[0].trace


def test_explore_validate_end_to_end(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from synth.cli import main as pimsyn_main

    out = tmp_path / "run"
    code = pimsyn_main(
        [
            "explore",
            "vgg11-cifar",
            "--power-w",
            "12",
            "--quick",
            "--jobs",
            "1",
            "--validate",
            "--top-k",
            "2",
            "--images",
            "2",
            "--out",
            str(out),
            "--no-baseline",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "estimate vs simulation" in text
    data = json.loads((out / "validation.json").read_text())
    assert len(data["rows"]) == 2 and data["images"] == 2
    for row in data["rows"]:  # a row is flagged exactly when some figure is beyond 5 %
        assert row["flagged"] == any(abs(v) > 5 for v in row["error_pct"].values())
        assert row["flagged"] == bool(row["stalls"]) or not row["flagged"]
    assert sorted(p.name for p in (out / "traces").iterdir()) == [
        "design0.json.gz",
        "design0.summary.json",
        "design1.json.gz",
        "design1.summary.json",
    ]
