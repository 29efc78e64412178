"""The cycle-level simulator: a design's network run event by event on SimPy.

The module list is the architecture:

- :mod:`~pimsim.sim.ir` and :mod:`~pimsim.sim.compiler`: the dataflow compiler, arch.json's mapping
  + the network -> an IR program (what each layer share does per block and bit, and what it waits
  for), expanded into instructions lazily by :mod:`~pimsim.sim.expand`;
- the hardware, one module per unit kind, each following the protocol of :mod:`~pimsim.sim.unit`
  (built for a stage, serves jobs, counts its actions, describes its waits) and listed in
  :mod:`~pimsim.sim.registry`: :mod:`~pimsim.sim.pe` (crossbars with DACs and sample-and-holds),
  :mod:`~pimsim.sim.adc` (a macro's shared ADC bank), :mod:`~pimsim.sim.units` (digital units),
  :mod:`~pimsim.sim.port` (the scratchpad port); :mod:`~pimsim.sim.buffer` (scratchpad space) and
  :mod:`~pimsim.sim.noc` (mesh links and flows); :mod:`~pimsim.sim.core` holds the pieces they are
  made of (pools of servers, progress counters, the clock, the run's environment);
- :mod:`~pimsim.sim.stage` and :mod:`~pimsim.sim.share`: a layer share's pipeline, one small state
  machine per stage, driven by callbacks on the run's SimPy environment (its stall booking in
  :mod:`~pimsim.sim.stall`, its wiring in :mod:`~pimsim.sim.chain`);
- :mod:`~pimsim.sim.engine`: :func:`simulate`, the run driver; once a run ends it hands out a frozen
  :class:`~pimsim.sim.state.RunState`, which deadlock detection (:mod:`~pimsim.sim.waits`) and
  :mod:`~pimsim.sim.collect` read to make the frozen :class:`SimResult` (:mod:`~pimsim.sim.result`);
  :mod:`~pimsim.sim.trace`: Chrome traces (format in :mod:`pimsim.traceformat`). The rich tables of
  a run are in :mod:`pimsim.render.sim`.

Timing comes only from the simulated hardware (resources, queues, events); the action counts are
the simulator's own (each unit counts the jobs it serves, their actions derived from the mapping and
the layer geometry by :mod:`~pimsim.sim.blockwork`); only the pricing function is shared with the
estimate (:mod:`pimsim.model.pricing`). :mod:`pimsim.diagnose` names the conditions under which
the estimate is knowingly wrong. Every run has its own environment: nothing is global.

The names below are imported from their modules when first asked for (``from pimsim.sim import
simulate`` works as before), so that a module that needs only the compiler (the synthesizer's
runnable check asks it for the scratchpad needs) does not load the whole simulator.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pimsim.sim.compiler import compile_program
    from pimsim.sim.engine import SimDeadlock, SimOptions, simulate
    from pimsim.sim.ir import Program
    from pimsim.sim.result import SimResult

#: each name this package gives, and the module that defines it
_HOMES = MappingProxyType(
    {
        "compile_program": "pimsim.sim.compiler",
        "SimDeadlock": "pimsim.sim.engine",
        "SimOptions": "pimsim.sim.engine",
        "simulate": "pimsim.sim.engine",
        "Program": "pimsim.sim.ir",
        "SimResult": "pimsim.sim.result",
    }
)

__all__ = ["Program", "SimDeadlock", "SimOptions", "SimResult", "compile_program", "simulate"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pimsim.sim' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
