"""pimsim: the hardware model and the cycle-level simulator of ReRAM PIM CNN accelerators.

The package is layered; each level imports only levels below it (``tests/test_layers.py`` checks it,
``docs/architecture.md`` explains it):

1. bottom: :mod:`pimsim.network` (the CNN as a layer graph), :mod:`pimsim.components` (component
   libraries), :mod:`pimsim.traceformat` (the trace format), and the shared helpers
   (:mod:`pimsim.errors`, :mod:`pimsim.fileio`, :mod:`pimsim.jsonio`);
2. :mod:`pimsim.arch` -- arch.json, its checks, the crossbar geometry and unit rules;
3. :mod:`pimsim.model` -- action counts, pricing, the analytical estimate;
4. :mod:`pimsim.sim` -- the cycle-level simulator;
5. top: :mod:`pimsim.render` (tables), :mod:`pimsim.tui` (the trace inspector),
   :mod:`pimsim.cli` (the ``pimsim`` command line), and the ``synth`` package.

``synth`` (the synthesizer) builds on this package; this package never imports ``synth``.
The version comes from the installed package's metadata (``pyproject.toml`` is its only source).
"""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pimsim.errors import InputError
from pimsim.jitcache import keep_fresh

keep_fresh(Path(__file__).parent)  # before any compiled loop of the package can run

__all__ = ["InputError", "__version__"]

try:
    __version__ = version("pimsyn")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
