"""The trace format: what ``pimsim run --trace`` writes and every reader (inspector, plots) reads.

A trace is Chrome Trace Event JSON (Perfetto, chrome://tracing), gzipped when its name ends in
``.gz``. It sits at the bottom of the package layering: the simulator's tracer
(:mod:`pimsim.sim.trace`) writes through :class:`~pimsim.traceformat.writer.TraceWriter`, and the
inspector (:mod:`pimsim.tui`), ``pimsim run --plot`` and ``pimsim trace --summary`` read through
:func:`~pimsim.traceformat.reader.load_trace`; neither side imports the other.

Layout (format version :data:`~pimsim.traceformat.events.FORMAT_VERSION`):

- ``otherData``: the run's metadata (arch, network, images, clock, level) plus ``format`` and
  ``format_version``;
- one *process* per macro (pid = macro index) and one for the NoC (pid
  :data:`~pimsim.traceformat.events.NOC_PID`); its ``process_name`` metadata carries ``macro`` as
  data (``null`` for the NoC);
- one *thread* (track) per hardware unit and concurrent job; its ``thread_name`` metadata carries
  the unit's identity as data (:class:`~pimsim.traceformat.events.Unit`: summary name, kind, macro,
  lane index, layer and share for a PE group, link ends for a link). Readers take the identity from
  there and never parse display names;
- slices (``X``) with layer, image, block (and bit), ``busy_ns`` and ``energy_pj``; counters (``C``).

Version 1 traces (no unit data) still load: their macro is their pid (the only thing version 1
encoded), their label is the process and thread names.
"""

from pimsim.traceformat.events import FORMAT_VERSION, LEVELS, NOC_PID, Unit, summary_path

__all__ = ["FORMAT_VERSION", "LEVELS", "NOC_PID", "Unit", "summary_path"]
