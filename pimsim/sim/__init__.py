"""The cycle-level simulator: a design's network run event by event on SimPy.

The module list is the architecture:

- :mod:`~pimsim.sim.ir` and :mod:`~pimsim.sim.compiler`: the dataflow compiler, arch.json's mapping
  + the network -> an IR program (what each layer share does per block and bit, and what it waits
  for), expanded into instructions lazily by :mod:`~pimsim.sim.expand`;
- the hardware, one module per component kind: :mod:`~pimsim.sim.pe` (crossbars with DACs and
  sample-and-holds), :mod:`~pimsim.sim.adc` (a macro's shared ADC bank), :mod:`~pimsim.sim.units`
  (digital units), :mod:`~pimsim.sim.buffer` (scratchpad space and port), :mod:`~pimsim.sim.noc`
  (mesh links and flows); :mod:`~pimsim.sim.core` holds the pieces they are made of (pools of
  servers, progress counters, the clock, the run's environment);
- :mod:`~pimsim.sim.stage` and :mod:`~pimsim.sim.share`: a layer share's pipeline, one small state
  machine per stage, driven by callbacks on the run's SimPy environment;
- :mod:`~pimsim.sim.engine`: :func:`simulate`, the run driver, with deadlock detection
  (:mod:`~pimsim.sim.waits`); :mod:`~pimsim.sim.collect` and :mod:`~pimsim.sim.result`: the frozen
  :class:`SimResult`; :mod:`~pimsim.sim.trace`: Chrome traces (format in :mod:`pimsim.traceformat`). The rich tables of a run are in
  :mod:`pimsim.render.sim`.

Timing comes only from the simulated hardware (resources, queues, events); the action counts per
item and the pricing function are shared with the estimate (:mod:`pimsim.model`). Every run has its
own environment: nothing is global.
"""

from pimsim.sim.compiler import compile_program
from pimsim.sim.engine import SimDeadlock, SimOptions, simulate
from pimsim.sim.ir import Program
from pimsim.sim.result import SimResult

__all__ = ["Program", "SimDeadlock", "SimOptions", "SimResult", "compile_program", "simulate"]
