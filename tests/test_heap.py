"""The search's processes keep the memory they free for their next arrays (pimsim.heap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Ten rounds of four 3 MiB arrays made (every page written) and freed, after three rounds to
# settle: prints the page faults of the ten rounds. glibc alone gives 12 MiB back to the kernel
# at each round's end (more than its trim threshold, 6 MiB after the first 3 MiB block freed), so
# every round faults nearly all its 3,072 pages (4 KiB) in again; with the heap kept, no round faults.
ROUNDS = """
import resource
import numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for r in range(13):
    if r == 3:
        f = faults()
    arrays = [np.ones(3 * 2**20 // 8) for _ in range(4)]
    del arrays
print(faults() - f)
"""


def _faults(setup: str, *args: str) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    out = subprocess.run([sys.executable, "-c", setup + ROUNDS, *args], env=env, text=True,
                         check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    return int(out.stdout.split()[-1])


def test_kept_heap_faults_no_page_in_again() -> None:
    pages = 4 * 3 * 2**20 // os.sysconf("SC_PAGE_SIZE")  # a round's pages
    assert _faults("") >= 9 * 10 * pages // 10  # glibc's own thresholds: each round anew
    assert _faults("from pimsim.heap import keep_heap\nassert keep_heap()\n") < pages // 10


def test_the_console_script_keeps_the_heap() -> None:
    """``pimsyn`` as the console script sets the thresholds before its command (here ``models
    --json``), so the rounds after it fault no page in again."""
    setup = "from synth.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
    pages = 4 * 3 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    assert _faults(setup, "models", "--json") < pages // 10
