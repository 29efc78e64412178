"""Command-line front ends. Only the modules of this package (and ``synth.cli``) write to the terminal."""
