"""pimsim: the hardware model and the cycle-level simulator of ReRAM PIM CNN accelerators.

The package is layered; each level imports only those below it:

- :mod:`pimsim.network` -- the CNN as a layer graph (ONNX and PIMCOMP JSON import, built-in zoo);
- :mod:`pimsim.cli` -- the ``pimsim`` command line.

``synth`` (the synthesizer) builds on this package; this package never imports ``synth``.
"""

from pimsim.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
