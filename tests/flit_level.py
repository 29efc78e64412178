"""A flit-level reference for the NoC's per-packet credit model (pimsim.sim.noc): every flit of
every packet is stepped over every channel of its path, one flit time at a time.

Rules (those of ``pimsim.sim.noc``'s module docstring, flit by flit): a path is an injection port,
the links, an ejection port. A channel carries one flit per flit time and belongs to one packet
from the time its head crosses until its tail has crossed (wormhole switching, one virtual
channel); a free channel goes to the packet whose head has waited longest at its input (ties: the
lower packet index). A flit reaches the input buffer behind a channel one flit time after it
started crossing and may start crossing the next channel ``stages`` flit times later at the
earliest. The buffer behind every channel but an ejection port has ``buffer`` slots, shared by
every packet crossing that channel; a flit may start crossing only with a free slot, whose credit
comes back one flit time after the flit holding it left the buffer. Behind an ejection port is the
receiver's network interface: no credits. Times are whole flit times; nothing is taken from the
packet model.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Packet:
    """``flits`` flits, injected (its head at the injection port) at ``ready``, over ``path``:
    channel names, an injection port first and an ejection port (a name starting "eject") last."""

    ready: int
    path: tuple[str, ...]
    flits: int


def step(packets: list[Packet], buffer: int | None, stages: int) -> list[list[list[int]]]:
    """When each flit starts crossing each channel: ``x[p][k][i]`` for packet ``p``, the ``k``-th
    channel of its path, flit ``i`` (flit times). ``buffer`` None: slots never run out."""
    x: list[list[list[int]]] = [[[] for _ in p.path] for p in packets]
    owner: dict[str, int] = {}  # channel -> packet holding it
    taken: set[tuple[int, int]] = set()  # (packet, k): channel k of the packet's path allocated
    held: dict[str, int] = {}  # channel -> slots of the buffer behind it in use
    returns: dict[str, deque[int]] = {}  # channel -> when its outstanding credits come back
    left = sum(p.flits * len(p.path) for p in packets)
    t = 0
    while left:
        for c, due in returns.items():
            while due and due[0] <= t:
                due.popleft()
                held[c] -= 1
        # allocation: a free channel to the packet whose head waited longest at its input
        waiting: dict[str, list[tuple[int, int, int]]] = {}
        for n, p in enumerate(packets):
            for k, c in enumerate(p.path):
                if (n, k) in taken:
                    continue
                if k == 0:
                    at = p.ready
                elif x[n][k - 1]:
                    at = x[n][k - 1][0] + 1 + stages
                else:
                    break
                if at <= t and c not in owner:
                    waiting.setdefault(c, []).append((at, n, k))
                break
        for c, heads in waiting.items():
            _, n, k = min(heads)
            owner[c] = n
            taken.add((n, k))
        # crossing: each held channel moves its packet's next flit if it is there and has a slot
        done: list[str] = []
        for c, n in owner.items():
            p = packets[n]
            k = p.path.index(c)
            i = len(x[n][k])
            if i == p.flits:
                continue
            if k == 0 and t < p.ready:  # not injected yet
                continue
            if k and (len(x[n][k - 1]) <= i or x[n][k - 1][i] + 1 + stages > t):
                continue  # not through the router behind yet
            if i and x[n][k][i - 1] >= t:  # one flit per flit time
                continue
            limited = buffer is not None and not c.startswith("eject")
            if limited and held.get(c, 0) >= buffer:  # type: ignore[operator]
                continue
            x[n][k].append(t)
            left -= 1
            if limited:
                held[c] = held.get(c, 0) + 1
            if k and p.path[k - 1] in held:  # it left the buffer behind the previous channel
                returns.setdefault(p.path[k - 1], deque()).append(t + 1)
            if i == p.flits - 1:
                done.append(c)
        for c in done:  # the tail crossed: free from the next flit time
            del owner[c]
        t += 1
    return x


def delivered(x: list[list[list[int]]], n: int) -> int:
    """When packet ``n``'s tail has crossed its ejection port (flit times)."""
    return x[n][-1][-1] + 1
