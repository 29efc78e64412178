"""What every command shares: argument types, the input-error boundary, and the consoles."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from pimsim.errors import InputError

EXIT_OK, EXIT_FAILURE, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one paragraph on stderr and exit code 2, like every input error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        err_console().print(
            f"[bold red]error:[/] command line: {message}. "
            f"Run `{self.prog} --help` for the options.",
            highlight=False,
        )
        raise SystemExit(EXIT_INPUT)


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with pimsyn's error behaviour."""
    return _Parser(prog=prog, description=description)


def add_subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """Sub-commands whose parsers share the error behaviour."""
    return parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, required=True
    )


def shape_arg(text: str) -> tuple[int, ...]:
    """Parse ``1,3,224,224`` (or ``3x224x224``) into a tuple of positive ints."""
    if not re.fullmatch(r"\s*-?\d+(\s*[,x]\s*-?\d+)*\s*", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of integers like 1,3,224,224")
    dims = tuple(int(p) for p in re.split(r"[,x]", text))
    if any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"'{text}': every dimension must be a positive integer")
    return dims


def model_arg(text: str) -> str:
    """A model argument: a zoo name or a file path, never empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "the model is empty; give a zoo name (see `pimsyn models`), "
            "an ONNX file or a PIMCOMP JSON file"
        )
    return text


def positive_int(text: str) -> int:
    """Parse a whole number of at least 1 (counts of images, designs, rows)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def _finite(text: str, ok: Callable[[float], bool], what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"'{text}' must be {what}")
    return value


def positive_float(text: str) -> float:
    """Parse a finite number greater than 0 (watts, seconds)."""
    return _finite(text, lambda v: v > 0, "a finite number greater than 0")


def non_negative_float(text: str) -> float:
    """Parse a finite number of at least 0 (tolerances in %, weights)."""
    return _finite(text, lambda v: v >= 0, "a finite number of at least 0")


def out_console() -> Console:
    """The console for results (stdout); 200 columns wide when stdout is not a terminal."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def err_console() -> Console:
    """The console for errors and progress (stderr); messages are never hard-wrapped."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def run(
    handler: Callable[[argparse.Namespace], int],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
) -> int:
    """Parse ``argv`` and call ``handler``; turn bad input into a message and exit code 2."""
    args = parser.parse_args(argv)
    try:
        return handler(args)
    except InputError as exc:
        err_console().print(
            f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True
        )
        return EXIT_INPUT
    except KeyboardInterrupt:
        err_console().print("[yellow]interrupted[/]")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK


def entry_point(
    build_parser: Callable[[], argparse.ArgumentParser], argv: Sequence[str] | None
) -> int:
    """A console script's main: dispatch to the sub-command's handler.

    Called with ``argv=None`` (as a console script) it exits the process with the code; called with a
    list (from tests or Python) it returns the code.
    """
    code = run(lambda args: args.handler(args), build_parser(), argv)
    if argv is None:
        raise SystemExit(code)
    return code
