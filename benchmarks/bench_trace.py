"""Benchmark the trace inspector on a large trace (default 10^6 slices).

    python benchmarks/bench_trace.py [--slices N]

Writes a synthetic Chrome trace of N slices over 200 units and 20 layers (gzipped), then times
loading it, rendering the units table and a 200-column timeline (what opening the app does).
Target: a few seconds for 10^6 events.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pimsim.traceformat.events import FORMAT, FORMAT_VERSION, Unit
from pimsim.traceformat.reader import load_trace
from pimsim.tui.views import Filters, timeline, units_table


def write(path: Path, slices: int) -> None:
    with gzip.open(path, "wt", compresslevel=1) as out:
        other = {"format": FORMAT, "format_version": FORMAT_VERSION}
        out.write('{"otherData":' + json.dumps(other) + ',"traceEvents":[\n')
        for unit in range(200):
            out.write(
                json.dumps(
                    {
                        "ph": "M",
                        "name": "process_name",
                        "pid": unit // 4,
                        "args": {"name": f"macro {unit // 4}", "macro": unit // 4},
                    }
                )
                + ",\n"
            )
            out.write(
                json.dumps(
                    {
                        "ph": "M",
                        "name": "thread_name",
                        "pid": unit // 4,
                        "tid": unit,
                        "args": {
                            "name": f"unit {unit}",
                            "unit": Unit(
                                f"macro {unit // 4}/unit {unit}", "adc", unit // 4
                            ).to_args(),
                        },
                    }
                )
                + ",\n"
            )
        per = slices // 200
        for unit in range(200):
            rows = [
                json.dumps(
                    {
                        "ph": "X",
                        "name": "s",
                        "pid": unit // 4,
                        "tid": unit,
                        "ts": 1.0 * i,
                        "dur": 0.8,
                        "args": {
                            "layer": f"l{(unit + i) % 20}",
                            "image": i % 4,
                            "block": i,
                            "busy_ns": 800.0,
                            "energy_pj": 1.0,
                        },
                    },
                    separators=(",", ":"),
                )
                for i in range(per)
            ]
            out.write(",\n".join(rows) + (",\n" if unit < 199 else "\n"))
        out.write("]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pimsyn-trace-"))
    path = folder / "big.json.gz"
    write(path, args.slices)
    start = time.perf_counter()
    data = load_trace(path)
    loaded = time.perf_counter() - start
    console = Console(file=open(os.devnull, "w"), width=240)  # noqa: SIM115
    start = time.perf_counter()
    console.print(units_table(data, limit=50))
    console.print(timeline(data, Filters(), 0, data.end_us, 200, max_rows=60))
    rendered = time.perf_counter() - start
    table = Table(title="trace inspector", title_justify="left")
    for col in ("slices", "file MB", "load s", "first render s", "target"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{len(data.track):,}",
        f"{path.stat().st_size / 2**20:.1f}",
        f"{loaded:.2f}",
        f"{rendered:.2f}",
        "a few seconds",
    )
    Console().print(table)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
