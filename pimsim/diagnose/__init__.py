"""Known disagreements: the conditions of a design under which the estimate is knowingly wrong.

Above both models (it reads the plan, the compiled program and the estimate), so that neither the
simulator nor the estimate depends on the other: :func:`disagreements` names every condition of
``docs/disagreements.md`` a design has, one line each, and ``pimsyn explore --validate`` prints them
beside the simulated figures. The compute conditions are in :mod:`pimsim.diagnose.compute`, the
communication ones in :mod:`pimsim.diagnose.communication`.
"""

from pimsim.diagnose.compute import disagreements

__all__ = ["disagreements"]
