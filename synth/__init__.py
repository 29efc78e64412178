"""synth: the PIMSYN synthesis flow. Builds on :mod:`pimsim`'s model; ``pimsim`` never imports it.

Python API::

    from pimsim.network.load import load_model
    from synth import explore, Settings
    result = explore(load_model("resnet18"), power_w=49)
    result.best            # the arch.json model (pimsim.arch.schema.Architecture)
    result.best_found.metrics, result.top, result.evaluations_per_s

The whole ``pimsyn explore`` workflow (run folder, resume, baseline, validation, plots) is
:func:`synth.workflow.run_explore`.
"""

from pathlib import Path

from pimsim import __version__  # one version, from the package metadata
from pimsim.jitcache import keep_fresh
from synth.explore import Exploration, explore
from synth.settings import EAParams, SAParams, Settings

keep_fresh(Path(__file__).parent)  # before any compiled loop of the package can run

__all__ = ["EAParams", "Exploration", "SAParams", "Settings", "__version__", "explore"]
