"""An :class:`~pimsim.model.evaluation.Evaluation` is a read-only view of its batch's figures, and
pickles as its own design alone."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from pimsim.model.evaluate import NetworkTables, evaluate_batch
from tests.test_evaluate_batch import _same, _spread_pair


@pytest.fixture(scope="module")
def batch():  # type: ignore[no-untyped-def]
    _, arrays, net = _spread_pair()
    tables = NetworkTables.build(net, 128, 2, 1)
    return evaluate_batch(tables, [arrays[0], arrays[1], arrays[0]], latency=True)


def test_writing_into_an_evaluation_raises(batch) -> None:  # type: ignore[no-untyped-def]
    ev = batch[1]
    before = ev.energy_pj
    for name in ev.FIELDS:
        x = getattr(ev, name)
        if isinstance(x, np.ndarray):
            with pytest.raises(ValueError, match="read-only"):
                x[...] = 0
    with pytest.raises(AttributeError):
        ev.period_ns = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev._f.period_ns[1] = 0.0  # type: ignore[index]
    assert ev.energy_pj == before == batch[1].energy_by_component_pj.sum()


def test_an_evaluation_pickles_as_its_design_alone(batch) -> None:  # type: ignore[no-untyped-def]
    whole = len(pickle.dumps(batch[1]._f))
    for ev in batch:
        data = pickle.dumps(ev)
        back = pickle.loads(data)
        assert _same(back, ev) and back.period_set_by == ev.period_set_by
        assert back._f.period_ns == (ev.period_ns,) and back._b == 0
        assert not back.stages.flags.writeable
        # one design of three: about a third of the batch's figures (the layer names shared)
        assert len(data) < 0.5 * whole
