"""Rich renderables (tables) of the project's results, shared by both command lines (``pimsim`` and
``pimsyn``) and the synthesizer's reports: :mod:`~pimsim.render.network` (networks and the zoo),
:mod:`~pimsim.render.estimate` (a cost report), :mod:`~pimsim.render.sim` (a simulation beside its
estimate, a compiled program). They build renderables only; the callers print them.
"""
