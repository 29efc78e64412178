"""``pimsim trace FILE``: an interactive terminal inspector of a simulation trace (textual).

Tabs: the timeline of every unit (which layer ran when; zoom and scroll along time), the units
(utilisation and stall time by cause, sortable), the layers (start, finish, bottleneck) and the energy
breakdown. Filters (layer, image, macro) apply to every tab. Press ``?`` for the keys.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from pimsim.traceformat.reader import TraceData
from pimsim.tui.views import (
    UNIT_SORTS,
    Filters,
    energy_table,
    header,
    layers_table,
    timeline,
    units_table,
)

HELP = """keys
  1-4        timeline, units, layers, energy tabs
  + / -      zoom in / out along time (timeline)
  left/right scroll along time;  0 resets the view
  s          sort the units by utilisation, busy time, stall time, name
  /          edit the filters (layer name, image, macro; empty = all), Enter applies
  ?          this help;  q quits"""


class TraceApp(App[None]):
    """The inspector. State: ``filters``, ``sort``, the visible window ``[t0, t1)`` in us."""

    AUTO_FOCUS = None  # keys go to the app until '/' opens the filters
    CSS = """
    #filters { height: 3; }
    #filters Input { width: 1fr; }
    #head { height: 1; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        Binding("plus,equals_sign", "zoom(0.5)", "zoom in"),
        Binding("minus", "zoom(2)", "zoom out"),
        Binding("left", "scroll_time(-0.25)", "earlier", show=False),
        Binding("right", "scroll_time(0.25)", "later", show=False),
        Binding("0", "reset", "reset view"),
        Binding("s", "sort", "sort units"),
        Binding("slash", "filters", "filters"),
        Binding("1", "tab('timeline')", show=False),
        Binding("2", "tab('units')", show=False),
        Binding("3", "tab('layers')", show=False),
        Binding("4", "tab('energy')", show=False),
    ]

    def __init__(self, data: TraceData) -> None:
        super().__init__()
        self.data = data
        self.filters = Filters()
        self.sort = UNIT_SORTS[0]
        self.t0, self.t1 = 0.0, max(data.end_us, 1e-3)

    def compose(self) -> ComposeResult:
        yield Static(header(self.data), id="head")
        with Horizontal(id="filters"):
            yield Input(placeholder="layer (all)", id="f-layer")
            yield Input(placeholder="image (all)", id="f-image")
            yield Input(placeholder="macro (all)", id="f-macro")
        with TabbedContent(initial="timeline"):
            with TabPane("timeline", id="timeline"), VerticalScroll():
                yield Static(id="timeline-view")
            with TabPane("units", id="units"), VerticalScroll():
                yield Static(id="units-view")
            with TabPane("layers", id="layers"), VerticalScroll():
                yield Static(id="layers-view")
            with TabPane("energy", id="energy"), VerticalScroll():
                yield Static(id="energy-view")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_views()

    def on_resize(self) -> None:
        self.refresh_views()

    # -- state changes -----------------------------------------------------------------------
    def refresh_views(self) -> None:
        width = max(self.size.width - 26, 10)
        self.query_one("#timeline-view", Static).update(
            timeline(self.data, self.filters, self.t0, self.t1, width)
        )
        self.query_one("#units-view", Static).update(
            units_table(self.data, self.filters, self.sort)
        )
        self.query_one("#layers-view", Static).update(layers_table(self.data, self.filters))
        self.query_one("#energy-view", Static).update(energy_table(self.data))

    def action_zoom(self, factor: float) -> None:
        mid, half = (self.t0 + self.t1) / 2, (self.t1 - self.t0) / 2 * factor
        end = max(self.data.end_us, 1e-3)
        half = min(max(half, end * 1e-6), end / 2)
        self.t0, self.t1 = max(0.0, mid - half), min(end, mid + half)
        self.refresh_views()

    def action_scroll_time(self, fraction: float) -> None:
        shift = (self.t1 - self.t0) * fraction
        end = max(self.data.end_us, 1e-3)
        shift = max(-self.t0, min(shift, end - self.t1))
        self.t0, self.t1 = self.t0 + shift, self.t1 + shift
        self.refresh_views()

    def action_reset(self) -> None:
        self.t0, self.t1 = 0.0, max(self.data.end_us, 1e-3)
        self.refresh_views()

    def action_sort(self) -> None:
        self.sort = UNIT_SORTS[(UNIT_SORTS.index(self.sort) + 1) % len(UNIT_SORTS)]
        self.refresh_views()

    def action_filters(self) -> None:
        self.query_one("#f-layer", Input).focus()

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name

    def action_help(self) -> None:
        self.notify(HELP, title="pimsim trace", timeout=15)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        values = {w.id: w.value.strip() for w in self.query(Input)}
        problems = []

        def number(key: str) -> int | None:
            text = values.get(key, "")
            if not text:
                return None
            if not text.isdigit():
                problems.append(f"{key[2:]} must be a whole number")
                return None
            return int(text)

        layer = values.get("f-layer") or None
        if layer and layer not in self.data.layers:
            problems.append(f"no layer '{layer}'")
            layer = None
        self.filters = Filters(layer, number("f-image"), number("f-macro"))
        if problems:
            self.notify("; ".join(problems), severity="warning")
        self.set_focus(None)
        self.refresh_views()
