"""``pimsim run --plot``: a utilisation timeline of a simulation (optional extra ``plot``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pimsim.errors import InputError
from pimsim.fileio import save_figure
from pimsim.traceformat.reader import TraceData


def utilisation_timeline(data: TraceData, out_stem: Path, bins: int = 200) -> list[Path]:
    """Per macro, the busy fraction of its units over time (a heat map), as PNG and SVG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "--plot", "", "needs matplotlib, which is not installed", "pip install 'pimsyn[plot]'"
        ) from None
    end = max(data.end_us, 1e-9)
    macros = data.macros
    rows = {m: i for i, m in enumerate(macros)}
    grid = np.zeros((max(len(macros), 1), bins))
    units = np.zeros(max(len(macros), 1))
    for t in data.tracks:
        if t.macro is not None:
            units[rows[t.macro]] += 1
    track_row = np.array(
        [rows.get(t.macro, -1) if t.macro is not None else -1 for t in data.tracks]
    )
    row = track_row[data.track]
    keep = row >= 0
    a = data.start_us[keep] / end * bins
    b = (data.start_us[keep] + data.dur_us[keep]) / end * bins
    share = data.busy_ns[keep] / np.maximum(data.dur_us[keep] * 1e3, 1e-9)  # busy per slice time
    for r, s, e, w in zip(row[keep], a, b, share, strict=True):
        first, last = int(s), min(int(np.ceil(e)), bins)
        for c in range(first, max(last, first + 1)):
            grid[r, min(c, bins - 1)] += w * (min(e, c + 1) - max(s, c))
    grid /= np.maximum(units[:, None], 1)
    fig, ax = plt.subplots(figsize=(10, max(3, 0.12 * len(macros) + 1.5)))
    image = ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0,
        vmax=max(grid.max(), 1e-9),
        extent=(0, end, len(grid) - 0.5, -0.5),  # one empty row when no unit ran yet
    )
    ax.set_xlabel("time (us)")
    ax.set_ylabel("macro")
    ax.set_title(f"{(data.summary or {}).get('arch', data.path.name)}: unit utilisation per macro")
    fig.colorbar(image, ax=ax, label="busy fraction of the macro's units")
    paths = save_figure(fig, out_stem.with_suffix(""))
    plt.close(fig)
    return paths
