"""The vocabulary of a trace: levels, the NoC's process id, a unit's identity, the summary's path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The ``format`` value in ``otherData``.
FORMAT = "pimsim-trace"
#: Version 2 carries unit identity as data; version 1 (no ``format_version``) only named units.
FORMAT_VERSION = 2
#: Granularities, coarsest first (``level`` indexes this tuple).
LEVELS = ("layer", "block", "bit")
#: The process id of the NoC (macros use their index as pid).
NOC_PID = 1_000_000


@dataclass(frozen=True, slots=True)
class Unit:
    """Who a track is: one hardware unit (one lane of it when it serves several jobs at once).

    ``name`` is the unit's name in the run's summary (``macro 3/ADC bank``, ``NoC/link
    (0,0)->(0,1)``), by which stall times are looked up. ``kind``: ``spm_port``, ``pe``, ``adc``,
    ``link`` or a digital unit kind (``shift_add``, ``pool``, ...). ``macro`` is ``None`` for a link;
    ``index`` is the lane (0 for the first concurrent job); ``layer`` and ``share`` name the layer
    share a PE group belongs to; ``link`` gives a link's ends as (row, column) pairs.
    """

    name: str
    kind: str
    macro: int | None
    index: int = 0
    layer: str | None = None
    share: int | None = None
    link: tuple[tuple[int, int], tuple[int, int]] | None = None

    @property
    def label(self) -> str:
        """The track's label: the unit's name, with ``[n]`` for its n-th lane (n > 1)."""
        return self.name if self.index == 0 else f"{self.name} [{self.index + 1}]"

    def to_args(self) -> dict[str, Any]:
        """The JSON form written in a track's ``thread_name`` metadata."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "macro": self.macro,
            "index": self.index,
        }
        if self.layer is not None:
            out["layer"] = self.layer
        if self.share is not None:
            out["share"] = self.share
        if self.link is not None:
            out["link"] = [list(self.link[0]), list(self.link[1])]
        return out

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> Unit:
        """The inverse of :meth:`to_args` (KeyError or TypeError on a malformed record)."""
        link = args.get("link")
        macro = args["macro"]
        share = args.get("share")
        return cls(
            str(args["name"]),
            str(args["kind"]),
            None if macro is None else int(macro),
            int(args.get("index", 0)),
            None if args.get("layer") is None else str(args["layer"]),
            None if share is None else int(share),
            None
            if link is None
            else ((int(link[0][0]), int(link[0][1])), (int(link[1][0]), int(link[1][1]))),
        )


def summary_path(trace: str | os.PathLike[str]) -> Path:
    """Where the summary of a trace goes: ``run.json.gz`` -> ``run.summary.json``."""
    p = Path(trace)
    name = p.name
    for suffix in (".json.gz", ".gz", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return p.with_name(f"{name}.summary.json")
