"""Traffic on the network-on-chip: the flows of one image and the load they put on each mesh link.

A consumer's input travels from the producer's output macro to each of the consumer's macros, in
proportion to that macro's share of the consumer's crossbars; a layer spread over several macros
gathers its results at its first macro. Routing is dimension-ordered: along the row (X) first, then
along the column (Y). Each directed link carries one flit per ``flit_latency_ns``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.model.plan import Plan

Position = tuple[int, int]
Link = tuple[Position, Position]


@dataclass(frozen=True)
class Flow:
    """``flits`` flits per image from macro ``src`` to macro ``dst`` on behalf of ``layer``."""

    layer: str
    src: int
    dst: int
    flits: float


def flows(plan: Plan) -> list[Flow]:
    """Every flow of one image (flows between a macro and itself are left out)."""
    hw = plan.arch.hardware
    flit = hw.parts.noc.flit_bits
    bits = hw.activation_bits
    out: list[Flow] = []
    for name, lp in plan.layers.items():
        layer = lp.layer
        for source, seen in zip(layer.inputs, layer.in_shapes, strict=True):
            if source not in plan.layers:
                continue
            src = plan.layers[source].out_macro
            for share in lp.shares:
                if share.macro != src:
                    out.append(Flow(name, src, share.macro, seen.size * bits * share.share / flit))
        for share in lp.shares[1:]:
            if share.macro != lp.out_macro:
                out.append(Flow(name, share.macro, lp.out_macro,
                                layer.out_shape.size * bits * share.share / flit))
    return out


def route(plan: Plan, src: int, dst: int) -> list[Link]:
    """The directed links from macro ``src``'s router to macro ``dst``'s, X first, then Y."""
    (r, c), (r2, c2) = plan.router_pos[src], plan.router_pos[dst]
    links: list[Link] = []
    while c != c2:
        step = 1 if c2 > c else -1
        links.append(((r, c), (r, c + step)))
        c += step
    while r != r2:
        step = 1 if r2 > r else -1
        links.append(((r, c), (r + step, c)))
        r += step
    return links


def link_loads(plan: Plan, layer_flows: list[Flow] | None = None) -> dict[Link, float]:
    """Busy time per image of every used link, ns."""
    flit_ns = plan.arch.hardware.parts.noc.flit_latency_ns
    loads: dict[Link, float] = {}
    for flow in flows(plan) if layer_flows is None else layer_flows:
        for link in route(plan, flow.src, flow.dst):
            loads[link] = loads.get(link, 0.0) + flow.flits * flit_ns
    return loads
