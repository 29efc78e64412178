"""Scratchpad banks, worked out by hand (the rule: docs/sim-hardware.md, "Scratchpad banks").

The part: 4 banks of 64-bit words, one access per bank per 1 ns, on a 1 GHz clock (1 cycle = 1 ns).
Its port rate, the estimate's figure, is 4 x 64 / 1 = 256 bits/ns. A job of ``b`` bits makes
``n = ceil(b / 64)`` accesses, holds ``min(n, 4)`` consecutive banks from the port's bank pointer
for ``ceil(n / 4)`` cycles, and the pointer moves on by the banks it held.
"""

from __future__ import annotations

from pimsim.components.parts import BufferPart
from pimsim.sim.buffer import PortJob, Scratchpad
from pimsim.sim.core import Clock, SimEnv


def part(banks: int) -> BufferPart:
    return BufferPart(
        name="b",
        size_kib=1,
        leakage_power_w=0.0,
        word_bits=64,
        access_latency_ns=1.0,
        banks=banks,
        read_energy_nj=0.0,
        write_energy_nj=0.0,
        peak_power_w=0.0,
        source="hand-made for tests",
    )


def run(banks: int, requests: list[float]) -> tuple[Scratchpad, list[int]]:
    """Issue every request at cycle 0, in order; the cycle each one ends."""
    env = SimEnv()
    spm = Scratchpad(env, 0, part(banks), Clock(1.0), {"q": 8192})
    ends: list[int] = []
    for bits in requests:
        PortJob(spm, spm.job(bits), lambda: ends.append(int(env.now)))
    env.run()
    return spm, ends


def test_the_port_rate_is_banks_times_word_bits_per_access() -> None:
    assert part(4).port_bits_per_ns == 256.0  # 4 x 64 bits per 1 ns
    assert part(1).port_bits_per_ns == 64.0


def test_a_request_is_striped_over_four_banks() -> None:
    spm, ends = run(4, [512.0])
    # 512 bits = 8 accesses: 2 in each of banks 0..3, in parallel: 2 cycles (one bank: 8 cycles)
    assert spm.job(512.0) == (4, 2)
    assert ends == [2]
    assert spm.port.bank_cycles == [2, 2, 2, 2]
    assert spm.port.conflicts == 0 and spm.port.pointer == 0  # moved on by 4 banks: back to 0
    assert run(1, [512.0])[1] == [8]
    # 640 bits = 10 accesses: 3 rounds (4 + 4 + 2): 3 cycles where the rate says 2.5 ns
    assert spm.job(640.0) == (4, 3)
    # 64 bits = 1 access: one bank, one cycle; no bits: no time
    assert spm.job(64.0) == (1, 1) and spm.job(0.0) == (1, 0)


def test_two_requests_on_disjoint_banks_run_together() -> None:
    # A: 128 bits = 2 accesses, banks 0-1 (pointer -> 2); B: 128 bits, banks 2-3: no bank shared
    spm, ends = run(4, [128.0, 128.0])
    assert ends == [1, 1]
    assert spm.port.bank_cycles == [1, 1, 1, 1] and spm.port.conflicts == 0


def test_two_concurrent_requests_conflict_on_the_banks_they_share() -> None:
    # A: 128 bits = 2 accesses, banks 0-1, cycles 0-1 (pointer -> 2).
    # B: 256 bits = 4 accesses, banks 2, 3, 0, 1: banks 0-1 are A's, so B waits (one conflict)
    # and runs in cycle 1-2. The port moved 384 bits: the estimate's rate says 384 / 256 = 1.5 ns;
    # the banks take 2 cycles, banks 2-3 idle in the first.
    spm, ends = run(4, [128.0, 256.0])
    assert ends == [1, 2]
    assert spm.port.conflicts == 1
    assert spm.port.bank_cycles == [2, 2, 1, 1]
    assert spm.port.queued_cycles == 1  # B waited one cycle
    assert spm.port.pointer == 2  # 2 + 4 banks, modulo 4
