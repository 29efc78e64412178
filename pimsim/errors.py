"""The one error type for bad input: a file, a place in it, and what is wrong there.

Every loader (ONNX, PIMCOMP JSON, arch.json, component library) and every command-line argument check
raises :class:`InputError`. The command-line front ends print its one-paragraph message and exit with
code 2, never a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user.

    Attributes:
        file: the file (or ``"command line"``) the problem is in.
        place: where in it, e.g. ``"node 'conv3' (op Conv)"`` or a JSON path.
        cause: what is wrong, in one sentence.
        hint: optionally, what to do about it.
    """

    def __init__(self, file: str, place: str, cause: str, hint: str | None = None) -> None:
        self.file = str(file)
        self.place = place
        self.cause = cause
        self.hint = hint
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type, tuple[str, str, str, str | None]]:
        """Pickle as a plain InputError with the same message parts (for worker processes)."""
        return (InputError, (self.file, self.place, self.cause, self.hint))

    @property
    def message(self) -> str:
        """The one-paragraph message shown to the user."""
        text = f"{self.file}"
        if self.place:
            text += f", {self.place}"
        text += f": {self.cause.rstrip('.')}."
        if self.hint:
            hint = self.hint.rstrip(".")
            text += f" {hint[:1].upper()}{hint[1:]}."
        return text
