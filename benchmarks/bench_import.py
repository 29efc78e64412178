"""Benchmark the CNN front end: load time and peak memory of a full-size ONNX file, and zoo load times.

    python benchmarks/bench_import.py [--keep DIR]

Writes VGG16 with random float32 weights embedded (about 553 MB) to a temporary folder, then loads it
with ``load_network`` in a fresh process and reports wall time and that process's peak RSS against the
file size (target: peak RSS under 2x the file, under 15 s). Then times every zoo model (target: under
0.5 s each). Prints one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

HWM = """
def peak_kib():
    # VmHWM is this process image's own high-water mark; ru_maxrss would include the parent's
    # footprint, which Linux carries across fork and exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
"""

CHILD = (
    HWM
    + """
import json, sys, time
t = time.perf_counter()
from pimsim.network import load_network
net = load_network(sys.argv[1])
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "peak_rss_kib": peak_kib(),
                  "macs": net.macs, "layers": len(net)}))
"""
)

BASELINE = (
    HWM
    + """
import json
import pimsim.network
print(json.dumps({"peak_rss_kib": peak_kib()}))
"""
)


def _child(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="write the big file here and keep it")
    args = parser.parse_args()
    from pimsim.network.zoo import ZOO, zoo_model, zoo_network

    table = Table(title="CNN front end", title_justify="left")
    for col in ("case", "file MB", "seconds", "peak RSS MB", "RSS / file", "target", "ok"):
        table.add_column(col, justify="left" if col in ("case", "target") else "right")

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pimsyn-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    big = folder / "vgg16_weights.onnx"
    if not big.exists():
        model = zoo_model("vgg16", rng=np.random.default_rng(0))
        big.write_bytes(model.SerializeToString())
        del model
    size_mb = big.stat().st_size / 2**20
    base = _child(BASELINE)["peak_rss_kib"] / 1024
    res = _child(CHILD, str(big))
    rss_mb = res["peak_rss_kib"] / 1024
    ratio = rss_mb / size_mb
    table.add_row(
        "VGG16 ONNX with weights",
        f"{size_mb:.0f}",
        f"{res['seconds']:.2f}",
        f"{rss_mb:.0f} (interpreter+libs {base:.0f})",
        f"{ratio:.2f}",
        "< 2x, < 15 s",
        "yes" if ratio < 2 and res["seconds"] < 15 else "NO",
    )
    if not args.keep:
        big.unlink()
        folder.rmdir()
    for name in ZOO:
        start = time.perf_counter()
        zoo_network(name)
        seconds = time.perf_counter() - start
        table.add_row(
            f"zoo {name}", "", f"{seconds:.3f}", "", "", "< 0.5 s", "yes" if seconds < 0.5 else "NO"
        )
    Console(width=140).print(table)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
