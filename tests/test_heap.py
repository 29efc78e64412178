"""The search's processes keep the memory they free for their next arrays, and collect their
oldest objects seldom (pimsim.heap)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

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
    # malloc's own settings as glibc ships them: none of its tunables from this environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *sys.path])
    out = subprocess.run([sys.executable, "-c", setup + ROUNDS, *args], env=env, text=True,
                         check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    return int(out.stdout.split()[-1])


@pytest.fixture(scope="module")
def pages() -> int:
    """A round's pages, once this machine's malloc is seen giving them back at each round's end
    (glibc with its own thresholds; where it is not glibc, or the kernel backs malloc with huge
    pages, there is nothing to keep and the tests are skipped)."""
    probe = "from pimsim.heap import keep_heap\nprint(keep_heap())"
    kept = subprocess.run([sys.executable, "-c", probe], text=True, capture_output=True,
                          cwd=ROOT, check=True)  # fmt: skip
    if kept.stdout.split()[-1] != "True":
        pytest.skip("no glibc mallopt here: keep_heap changes nothing")
    pages = 4 * 3 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    if _faults("") < 9 * 10 * pages // 10:
        pytest.skip("this machine's malloc keeps freed pages already (huge pages?)")
    return pages


def test_kept_heap_faults_no_page_in_again(pages: int) -> None:
    assert _faults("from pimsim.heap import keep_heap\nassert keep_heap()\n") < pages // 10


def test_the_console_script_keeps_the_heap(pages: int) -> None:
    """``pimsyn`` as the console script sets the thresholds before its command (here ``models
    --json``), so the rounds after it fault no page in again."""
    setup = "from synth.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
    assert _faults(setup, "models", "--json") < pages // 10


def test_a_search_worker_keeps_the_heap() -> None:
    """A local worker sets the thresholds itself (whatever starts it: fork, forkserver, spawn)."""
    from synth.executors import _worker_start

    with mock.patch("synth.executors.keep_heap") as kept, mock.patch("threading.Thread"):
        with mock.patch("signal.signal"), mock.patch("synth.executors.few_full_collections") as few:
            _worker_start(os.getpid())
    kept.assert_called_once_with()
    few.assert_called_once_with()


# 300,000 records kept, as a search unit keeps its designs' (a dict and an instance each: both
# tracked by the collector, none cyclic): prints the collector's thresholds before, the full
# collections the records caused and the thresholds after. At CPython 3.11's (700, 10, 10), six
# full collections come; with few_full_collections, none until 1,000 middle ones.
RECORDS = """
import gc
print(*gc.get_threshold())
{setup}
class Record:
    pass
full = gc.get_stats()[2]["collections"]
kept = []
for k in range(300_000):
    r = Record()
    r.values = {{"k": r.__class__}}
    kept.append(r)
print(gc.get_stats()[2]["collections"] - full, *gc.get_threshold())
"""


def _collections(setup: str) -> tuple[list[int], int, list[int]]:
    """The thresholds before, the full collections, the thresholds after."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    out = subprocess.run([sys.executable, "-c", RECORDS.format(setup=setup)], text=True,
                         check=True, capture_output=True, cwd=ROOT, env=env)  # fmt: skip
    before, after = out.stdout.splitlines()
    full, *thresholds = map(int, after.split())
    return list(map(int, before.split())), full, thresholds


def test_few_full_collections_while_records_pile_up() -> None:
    start, full, same = _collections("")
    if full == 0:  # (a collector that does not work by generations this way: nothing to show)
        pytest.skip(f"no full collection here while 300,000 records pile up ({sys.version})")
    assert same == start
    start, full, fewer = _collections(
        "from pimsim.heap import few_full_collections\nfew_full_collections()"
    )
    assert fewer[:2] == start[:2]  # the young generations' thresholds are kept
    assert fewer[2] == 1000 and full == 0
