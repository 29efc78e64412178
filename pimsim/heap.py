"""Keep the memory a process frees for its next arrays (glibc's ``malloc``), and keep Python's
cyclic collector from walking the search's records again and again, for the search.

The search allocates and frees the same few megabytes of arrays for every batch it scores. glibc
serves a request of more than its mmap threshold (128 KiB at first, raised to the largest such
block freed so far) with pages of its own from the kernel, and gives the top of its heap back to
the kernel when more than its trim threshold (twice the mmap threshold) is free there; a page the
process gets again is zeroed by the kernel and faults on its first write. A batch of 64 VGG16
designs laid end to end (21,000 macros, 22,000 shares; its (M, 6) unit counts alone 1 MiB) frees
more than that at its end, so every batch paid its pages again: ``design_stack`` 20-32 instead of
10-13 us a design in batches of 16, 95,000 page faults in 2.5 s of benchmark instead of 46,000
(load 7, alternating runs). :func:`keep_heap` sets both thresholds once (``mallopt``; setting
either also stops glibc moving them): blocks up to :data:`MMAP_THRESHOLD_BYTES` come from the
heap, and up to :data:`TRIM_THRESHOLD_BYTES` free at its top stays there for the next batch.

It changes no figure, only where the bytes live. Called by the ``pimsyn`` console script before
the command (forked workers inherit it), by each local worker of the search as it starts
(whatever starts it) and by the benchmarks that time the search's path; a
library import changes nothing. Elsewhere than glibc (no ``mallopt``, or one that refuses the
values) it does nothing and says so.

The search keeps a record of every design it scores until its unit ends (some 50,000 under
``--thorough``, three tracked objects each, and the EA's ranks), and makes almost no cyclic
garbage (65 objects over three thorough ResNet18 units). CPython collects its oldest generation
once ten younger collections have passed and its survivors have grown by a quarter since the last
one, so a unit paid 6-8 full collections that walked all its records and found nothing: 0.13-0.22
s of a 4-5 s unit, after the console script's ``gc.freeze`` (0.4-0.5 s without it). The young
collections, which find the short-lived garbage, cost 0.12-0.17 s a unit whatever their threshold.
:func:`few_full_collections` lets :data:`YOUNG_BETWEEN_FULL` middle-generation collections pass
between two full ones instead of ten (a unit makes 70-90): one full collection every dozen units
or so. Cyclic garbage waits longer; nothing else changes.
"""

from __future__ import annotations

import ctypes
import gc

__all__ = [
    "MMAP_THRESHOLD_BYTES",
    "TRIM_THRESHOLD_BYTES",
    "YOUNG_BETWEEN_FULL",
    "few_full_collections",
    "keep_heap",
]

#: blocks up to this size come from the heap (glibc's largest allowed value on 64 bits is 32 MiB)
MMAP_THRESHOLD_BYTES = 16 * 2**20
#: free memory at the heap's top kept for the process's next arrays (per process)
TRIM_THRESHOLD_BYTES = 64 * 2**20

#: middle-generation collections between two full ones (CPython's default is 10)
YOUNG_BETWEEN_FULL = 1000

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def keep_heap() -> bool:
    """Set glibc's mmap and trim thresholds to :data:`MMAP_THRESHOLD_BYTES` and
    :data:`TRIM_THRESHOLD_BYTES` for this process (see the module). Returns whether both were
    set (False where there is no glibc ``mallopt`` or it refused them; then nothing changed but
    what it accepted)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # (no C library by that name, no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return bool(mmap) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def few_full_collections() -> None:
    """Let :data:`YOUNG_BETWEEN_FULL` collections of the middle generation pass between two full
    collections (``gc.set_threshold``'s third value; the young generations' thresholds are kept):
    see the module. An incremental collector (that of CPython 3.14's first releases) ignores the
    third value: there it changes nothing."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, YOUNG_BETWEEN_FULL)
