"""The objects the search makes a design without their ``__init__`` (``synth.frozen.made``: the
macros, the allocations, the logged records) are the dataclasses their constructors make: every
field in order, frozen, equal to a constructed twin, pickled the same."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from pimsim.components.library import load_library
from pimsim.network.load import load_model
from synth.allocate import Allocation, allocate_batch
from synth.context import ComboContext
from synth.layout import Macros, assemble_batch, default_partition
from synth.search import Found, designs_of
from synth.settings import Combo, Settings


def _same(made_obj: object, cls: type) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    assert type(made_obj) is cls
    assert list(vars(made_obj)) == names  # every field, in order, nothing else
    twin = cls(**vars(made_obj))
    for name in names:
        a, b = getattr(made_obj, name), getattr(twin, name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made_obj, names[0], None)
    again = pickle.loads(pickle.dumps(made_obj))
    assert list(vars(again)) == names


def test_the_search_makes_its_dataclasses_whole() -> None:
    settings = Settings(power_w=49.0, seed=0)
    ctx = ComboContext.build(
        Combo(0, 0.3, 2, 128, 1), load_model("alexnet"), load_library(settings.library), 49.0
    )
    dups = [np.ones(len(ctx.weight), dtype=np.int64)] * 2
    parts = [default_partition(ctx, dups[0]), default_partition(ctx, dups[0], 32)]
    assert parts[0] != parts[1]
    macros = assemble_batch(ctx, dups, parts)
    for m in macros:
        _same(m, Macros)
    allocs = allocate_batch(ctx, dups, macros, 49.0, False)
    for a in allocs:
        _same(a, Allocation)
    found = designs_of(ctx, dups, parts, settings)
    assert found[0] is not None and found[1] is not None
    for f in found:
        _same(f, Found)
        assert f == Found(**vars(f)) and hash(f.key) == hash(Found(**vars(f)).key)
