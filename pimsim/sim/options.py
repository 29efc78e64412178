"""How to run a simulation: images in flight, an optional trace, the guards against runaway runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimOptions:
    """How to run: images in flight, and an optional trace.

    ``images``: images fed to the first layers back to back (each layer takes the next image as
    soon as it is free); throughput is measured between their completions. ``trace``: a file for a
    Chrome trace (``.gz``: gzipped), with ``trace_level`` ``layer``, ``block`` or ``bit``;
    ``overwrite`` allows replacing an existing trace. ``max_cycles`` and ``max_wall_s`` stop a
    runaway run: the result is then partial (``SimResult.stopped`` says why), its figures measured
    on the images that finished and its energy on the work done.
    """

    images: int = 4
    trace: str | None = None
    trace_level: str = "block"
    overwrite: bool = False
    max_cycles: int | None = None
    max_wall_s: float | None = None
