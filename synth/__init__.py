"""synth: the PIMSYN synthesis flow. Builds on :mod:`pimsim`'s model; ``pimsim`` never imports it."""

__version__ = "0.1.0"
